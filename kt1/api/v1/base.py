from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kt1.api.auth import UnconfirmedToken, confirm_token
from kt1.core.errors import NotFound, ValidationFailed
from kt1.core.permissions import has_perm

TRUE_VALUES = {"1", "true", "yes", "có"}
FALSE_VALUES = {"0", "false", "no", "không"}


class ScopedApiMixin:
    """Every API view reads through selectors that start from the caller's restricted queryset;
    this mixin adds the permission code the view needs and strict query-parameter parsing."""

    required_permission = "directory.view"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.check_required_permission(request)

    def check_required_permission(self, request) -> None:
        if self.required_permission and not has_perm(request.user, self.required_permission):
            if isinstance(request.auth, UnconfirmedToken):
                # A provisional caller's scope may be stale: decide on the token as read now.
                confirm_token(request)
                return self.check_required_permission(request)
            # Without the permission the whole collection is out of scope: same answer as missing.
            raise NotFound(_("Không tìm thấy."))
        return None

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


# --- batch uploads (custody events, bag scans) ----------------------------------------------------


def batch_entries_field(entry_serializer: type[serializers.Serializer]) -> type[serializers.ListField]:
    """The list of a batch upload, documented as a list of `entry_serializer`: the entries are taken
    raw and checked one by one afterwards (validate_entries), so one malformed entry is refused
    alone while the others go on."""

    @extend_schema_field(entry_serializer(many=True))
    class Entries(serializers.ListField):
        child = serializers.JSONField()

    return Entries


def validate_entries(entries: Iterable[Any], entry_serializer: serializers.Serializer,
                     not_an_object: str) -> Iterator[tuple[int, Any, dict | None, dict | None]]:
    """(index, raw entry, validated data or None, errors or None) for each entry of a batch, checked
    by one serializer for all (a new serializer per entry would copy its fields each time)."""
    for index, raw in enumerate(entries):
        try:
            if not isinstance(raw, dict):
                raise serializers.ValidationError({"non_field_errors": [not_an_object]})
            data = entry_serializer.run_validation(raw)
        except serializers.ValidationError as exc:
            yield index, raw, None, serializers.as_serializer_error(exc)
            continue
        yield index, raw, data, None
