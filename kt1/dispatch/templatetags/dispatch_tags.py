"""Template tags of the dispatch pages: a bag's seal number as the viewer may be told it.

Pages never print `bag.seal_number` themselves: they ask `{% seal_number bag %}`, which applies
`kt1.dispatch.policy.seal_hidden_from`. The viewer is `viewer` from the template context (documents
rendered outside a request, such as the printable bag list) or else the request's user; when
neither is known the number is withheld, so a template rendered without a viewer leaks nothing.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ..policy import seal_hidden_from

register = template.Library()


def _viewer(context):
    viewer = context.get("viewer")
    if viewer is None:
        viewer = getattr(getattr(context, "request", None), "user", None)
    return viewer


def _hidden(context, bag) -> bool:
    viewer = _viewer(context)
    return viewer is None or seal_hidden_from(viewer, bag)


@register.simple_tag(takes_context=True)
def seal_hidden(context, bag) -> bool:
    """`{% seal_hidden bag as hidden %}`: for a layout that changes when the number is withheld."""
    return bool(bag.seal_number) and _hidden(context, bag)


@register.simple_tag(takes_context=True)
def seal_number(context, bag, number=None):
    """`{% seal_number bag %}`: the seal number, "—" before sealing, or a note that the receiving
    side reads it off the seal. `number` shows a recorded copy of the number (a bag event's data)
    under the same rule."""
    value = bag.seal_number if number is None else number
    if not value:
        return "—"
    if _hidden(context, bag):
        return format_html('<span class="muted" data-testid="seal-hidden">{}</span>',
                           _("Đọc trên kẹp chì khi nhận túi"))
    return value
