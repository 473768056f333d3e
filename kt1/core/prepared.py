"""Querysets compiled once and run many times with one value changed.

The hottest reads (an API caller's token, a tracking lookup through the caller's scope) are the
same query every time but for one value. Building and compiling such a queryset costs Django
2–3 ms of CPU (a scope condition, seven related tables, a hundred columns), where PostgreSQL
answers the prepared statement in a fraction of a millisecond. A PreparedQuery keeps the compiled
SQL and what Django needs to turn rows into model instances (including select_related ones), and
runs it again with a new value in the one marked place.

It is exactly the queryset it was built from: same SQL, same parameters but the marked one, same
instances (tests/test_prepared.py compares them). Build one per shape of query (for a scoped read,
per scope: the scope is part of the SQL) and keep it in a bounded cache (`prepared`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable, get_related_populators

SENTINEL = "\x00kt1-prepared-value\x00"

_CACHE: dict[Hashable, PreparedQuery] = {}
_CACHE_MAX = 2_000


class PreparedQuery:
    """A compiled queryset. Model querysets give instances (with their select_related ones), as
    ModelIterable does; values() querysets give dicts, as ValuesIterable does. `sentinel` marks
    the value replaced at each run; a tuple marks several (fetch takes them in that order)."""

    def __init__(self, queryset: QuerySet, sentinel: Any = SENTINEL) -> None:
        if queryset._known_related_objects or queryset._prefetch_related_lookups:
            raise ValueError("a PreparedQuery supports select_related only")
        sentinels = sentinel if isinstance(sentinel, tuple) else (sentinel,)
        self.db = queryset.db
        self.empty = queryset.query.is_empty()  # .none(): a scope that sees nothing
        if self.empty:
            return
        if queryset._iterable_class not in (ModelIterable, ValuesIterable):
            raise ValueError("a PreparedQuery gives instances or values() dicts only")
        compiler = queryset.query.get_compiler(using=self.db)
        sql, params = compiler.as_sql()
        self.positions = []
        for marked in sentinels:
            positions = [i for i, p in enumerate(params) if p == marked]
            if len(positions) != 1:
                raise ValueError(f"the sentinel must appear exactly once in the parameters, found {len(positions)}")
            self.positions.append(positions[0])
        self.sql, self.params = sql, list(params)
        self.compiler = compiler
        # As SQLCompiler.results_iter, once: the converters depend on the columns only.
        fields = [column[0] for column in compiler.select[0:compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise ValueError("a PreparedQuery does not support composite fields")
        self.converters = compiler.get_converters(fields)
        query = queryset.query
        self.names = None
        if queryset._iterable_class is ValuesIterable:
            # As ValuesIterable names the columns (extra ones past them, if any, are left out).
            self.names = list(query.selected) if query.selected else [
                *query.extra_select, *query.values_select, *query.annotation_select]
            return
        self.select, self.klass_info = compiler.select, compiler.klass_info
        self.annotation_col_map = compiler.annotation_col_map or {}
        fields = self.klass_info["select_fields"]
        self.model_slice = slice(fields[0], fields[-1] + 1)
        self.init_list = [f[0].target.attname for f in self.select[self.model_slice]]
        self.model = self.klass_info["model"]

    def rows(self, *values: Any) -> list[tuple]:
        """The rows, converted, with `values` in place of the sentinels."""
        if self.empty:
            return []
        params = list(self.params)
        for position, value in zip(self.positions, values, strict=True):
            params[position] = value
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if rows and self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        return rows

    def fetch(self, *values: Any) -> list[Model] | list[dict[str, Any]]:
        """What the queryset would give with `values` in place of the sentinels: instances, or
        dicts for a values() queryset."""
        rows = self.rows(*values)
        if not rows:
            return []
        if self.names is not None:
            return [dict(zip(self.names, row, strict=False)) for row in rows]  # extra columns past them: left out
        # As django.db.models.query.ModelIterable turns rows into instances.
        populators = get_related_populators(self.klass_info, self.select, self.db)
        objs = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.model_slice])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in self.annotation_col_map.items():
                setattr(obj, name, row[position])
            objs.append(obj)
        return objs


def prepared(key: Hashable, build: Callable[[], QuerySet], sentinel: Any = SENTINEL) -> PreparedQuery:
    """The PreparedQuery for `key`, built from build() (a queryset using `sentinel`, SENTINEL unless
    the marked value must be of another type, e.g. a primary key; a tuple of them for several) the
    first time."""
    query = _CACHE.get(key)
    if query is None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        query = _CACHE[key] = PreparedQuery(build(), sentinel)
    return query
