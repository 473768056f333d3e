from __future__ import annotations

from django.utils.translation import gettext as _

from kt1.core.errors import ValidationFailed
from kt1.core.permissions import has_perm

TRUE_VALUES = {"1", "true", "yes", "có"}
FALSE_VALUES = {"0", "false", "no", "không"}


class ScopedApiMixin:
    """Every API view reads through selectors that start from the caller's restricted queryset;
    this mixin adds the permission code the view needs and strict query-parameter parsing."""

    required_permission = "directory.view"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.required_permission and not has_perm(request.user, self.required_permission):
            from kt1.core.errors import NotFound

            # Without the permission the whole collection is out of scope: same answer as missing.
            raise NotFound(_("Không tìm thấy."))

    def bool_param(self, name: str) -> bool | None:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return None
        value = raw.strip().lower()
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
        raise ValidationFailed(
            _("Tham số “%(name)s” chỉ nhận true hoặc false.") % {"name": name}, detail={name: _("Không hợp lệ.")}
        )
