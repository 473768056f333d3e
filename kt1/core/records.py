"""Helpers services share when they change records (effective-dated reference records, many rows at once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, models, router
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


def update_rows(objs: list[Model], field_names: list[str]) -> None:
    """Write these fields of these (already loaded, locked) rows, one UPDATE by primary key each,
    sent together (psycopg pipelines an executemany; SQLite runs it in-process).

    For writes of many rows with different values each. Django's bulk_update builds one CASE
    expression per field over every row, which costs ~1 ms of Python per row; this costs a few µs."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in field_names]
    # Only quoted names from the model's own metadata go into the text; every value is a parameter.
    sql = (f"UPDATE {quote(model._meta.db_table)} SET "  # noqa: S608
           + ", ".join(f"{quote(f.column)} = %s" for f in fields)
           + f" WHERE {quote(model._meta.pk.column)} = %s")
    rows = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def insert_rows(objs: list[Model]) -> None:
    """Insert these new rows and set their primary keys, like bulk_create, for many rows at once.

    On PostgreSQL the rows go as one prepared single-row INSERT … RETURNING, pipelined by psycopg's
    executemany: bulk_create instead builds one statement with a parameter per value (10,000 for
    500 events), which psycopg must rewrite and PostgreSQL plan afresh every time; for a batch of
    custody events that was most of its cost. Elsewhere (SQLite, in-process) bulk_create is cheap."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    quote = connection.ops.quote_name
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if f is not pk]
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(pk.column)}")
    rows = [[_db_value(f, obj, connection) for f in fields] for obj in objs]
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: executemany(returning=True) is psycopg 3 API
        raw.executemany(sql, rows, returning=True)
        for obj in objs:
            setattr(obj, pk.attname, raw.fetchone()[0])
            obj._state.adding = False
            obj._state.db = connection.alias
            raw.nextset()


# Fields whose stored value psycopg takes as the attribute holds it (PostgreSQL has native UUIDs
# and aware timestamps): no need for Django's per-value preparation, which is most of the Python
# cost of writing a row. Anything else (JSON, IP addresses, auto_now…) goes through Django.
_AS_IS = (models.CharField, models.IntegerField, models.BooleanField, models.ForeignKey, models.UUIDField)


def _db_value(field, obj: Model, connection):
    if isinstance(field, _AS_IS) and not isinstance(field, models.GenericIPAddressField):
        return getattr(obj, field.attname)
    if type(field) is models.DateTimeField and not (field.auto_now or field.auto_now_add):
        value = getattr(obj, field.attname)
        if value is None or value.tzinfo is not None:
            return value
    return field.get_db_prep_save(field.pre_save(obj, True), connection)
