"""Helpers services share when they change effective-dated reference records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.utils.translation import gettext as _

from .clock import local_today
from .errors import ValidationFailed


def full_clean_or_fail(obj: Model, *, exclude: list[str] | None = None) -> None:
    """Run the model's own field validation and turn it into one ValidationFailed with per-field
    messages (already translated by Django)."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        detail = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        first = next(iter(detail.values()))[0]
        raise ValidationFailed(first, detail=detail) from exc


def apply_changes(obj: Model, changes: dict[str, Any], editable: tuple[str, ...]) -> list[str]:
    """Set the given fields, refusing fields not listed as editable; return the changed names."""
    unknown = set(changes) - set(editable)
    if unknown:
        raise ValidationFailed(_("Trường không sửa được: %(f)s") % {"f": ", ".join(sorted(unknown))})
    changed = []
    for name, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def require_active_reference(obj: Model | None, field: str, label: str, day: dt.date | None = None) -> None:
    """An unknown or retired reference is refused by name."""
    if obj is None:
        raise ValidationFailed(_("%(label)s: bắt buộc.") % {"label": label}, detail={field: _("Bắt buộc.")})
    # Judge the record as stored, not the caller's copy: a stale instance (loaded before someone
    # retired it) must not slip a retired reference into new work.
    stored = type(obj)._default_manager.filter(pk=obj.pk).values("valid_from", "valid_until").first() if obj.pk else None
    if stored is None:
        message = _("%(label)s “%(name)s” không tồn tại.") % {"label": label, "name": obj}
        raise ValidationFailed(message, detail={field: message})
    obj.valid_from, obj.valid_until = stored["valid_from"], stored["valid_until"]
    if not obj.is_valid_on(day or local_today()):
        message = _("%(label)s “%(name)s” đã ngừng hiệu lực, không chọn được.") % {"label": label, "name": obj}
        raise ValidationFailed(message, detail={field: message})


def retire_record(obj: Model, *, on: dt.date | None = None) -> bool:
    """Set valid_until (today by default). Returns False if it was already retired by then."""
    on = on or local_today()
    if obj.valid_until is not None and obj.valid_until <= on:
        return False
    if on < obj.valid_from:
        raise ValidationFailed(_("Ngày ngừng hiệu lực không được trước ngày bắt đầu hiệu lực."))
    obj.valid_until = on
    obj.save(update_fields=["valid_until"])
    return True
