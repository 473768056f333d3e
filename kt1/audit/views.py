"""The security log page: entries the viewer may read, filters, and chain verification."""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from kt1.core.web import paginate, permission_required_404

from . import registry, selectors
from .services import audit_verify


def _action_choices():
    return [("", _("Tất cả"))] + [(a.code, f"{a.code} — {a.message}") for a in registry.all_actions()]


class EntryFilterForm(forms.Form):
    q = forms.CharField(label=_("Người thực hiện / đối tượng"), required=False, widget=forms.TextInput(attrs={"type": "search"}))
    action = forms.ChoiceField(label=_("Hành động"), required=False, choices=_action_choices)
    date_from = forms.DateField(label=_("Từ ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("Đến ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    security = forms.BooleanField(label=_("Chỉ sự kiện an ninh"), required=False)


def entry_message(code: str, data: dict) -> str:
    """The registered message of an action, filled with the entry's data when it has placeholders."""
    try:
        message = registry.get(code).message
    except KeyError:
        return ""
    if "%(" in message:
        try:
            return message % data
        except (KeyError, TypeError, ValueError):
            return message
    return message


def _page(request, verification=None, status: int = 200):
    filters = EntryFilterForm(request.GET)
    filters.is_valid()
    f = filters.cleaned_data  # the valid filters apply; an invalid one shows its error and is ignored
    entries = selectors.entry_list(
        viewer=request.user, action=f.get("action") or "", q=(f.get("q") or "").strip(), date_from=f.get("date_from"),
        date_to=f.get("date_to"), security_only=bool(f.get("security")),
    )
    page = paginate(request, entries)
    security_codes = set(selectors.security_action_codes())
    rows = [{"entry": e, "message": entry_message(e.action, e.data), "security": e.action in security_codes}
            for e in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/entry_list.html", {
        "filters": filters, "page": page, "rows": rows, "query": query.urlencode(), "verification": verification,
    }, status=status)


@permission_required_404("audit.view")
def entry_list(request):
    return _page(request)


@require_POST
@permission_required_404("audit.view")
def verify(request):
    """Re-walk the whole hash chain and show the verdict above the list (reads only)."""
    return _page(request, verification=audit_verify())
