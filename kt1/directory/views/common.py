"""Pieces the directory pages share."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from kt1.core.errors import NotFound, ValidationFailed
from kt1.core.permissions import has_perm, in_scope, require


def can_manage(user, obj: Model | None = None) -> bool:
    """Whether to offer create / edit / retire: the permission, and the object in change scope."""
    if not has_perm(user, "directory.manage"):
        return False
    return obj is None or in_scope(user, obj, "change")


def require_change(user, obj: Model) -> None:
    """404 if the object is outside the person's view scope, 403 if visible but not theirs to change."""
    require(user, "directory.manage", obj, action="change")


def run_retire(request, service, *, success: str, **kwargs) -> bool:
    """Run a retire service from a POST button; a refusal (already retired) becomes a message."""
    try:
        service(actor=request.user, **kwargs)
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
        return False
    messages.success(request, success)
    return True


def get_or_404(queryset: QuerySet, pk: int) -> Model:
    """One row of an already scoped queryset, or NotFound (a 404 page)."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise NotFound(_("Không tìm thấy."))
    return obj
