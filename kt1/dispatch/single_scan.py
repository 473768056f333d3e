"""One scan of a received bag as one statement, on PostgreSQL: the common case of bag_open_scan.

A page (or a handheld without batching) scans a bag one item at a time, one transaction per scan.
The full path of a scan (kt1.dispatch.services.bag_open_scans) locks the bag through the opener's
scope, checks it is received and that the opener received or holds it, reads the line of the
number with its item, then marks the line with a conditional UPDATE: five statements with BEGIN
and COMMIT, and four model instances for the bag alone. Scanned one by one on a durable database,
500 such scans were at the issue's line of 1 s.

Here the common case — a listed, undamaged item not yet scanned, in a bag the opener may open — is
one statement: the same conditional UPDATE of the line, whose WHERE clause holds every check of
the full path, with the bag locked FOR UPDATE through the scope in the same statement (a
sub-select, evaluated before the line's row is touched: the bag, then the line, the order the full
path locks them in), RETURNING the line and its item. It touches a row only when the full path
would have marked that very line; when it touches none — any refusal, an extra item, a line
scanned meanwhile — nothing was written and the caller runs the full path, which decides and
words the answer exactly as before. So the fast path never answers anything but "scanned".

Locking is as before: the sub-select waits for a finish, an undo or another scan holding the bag,
and, in READ COMMITTED, re-checks the bag's row as committed by them (a bag opened meanwhile: no
row, so the full path answers "đã kết thúc mở túi"); the line's own condition is re-checked the
same way (scanned meanwhile: no row). The scan time is taken before the statement and must not
precede the bag's receipt, or the full path runs (which takes it after the lock).

Compiled once per scope (the scope is part of the SQL), from the same querysets the full path
uses, and run again with the next bag, opener, number and moment. PostgreSQL only: SQLite cannot
return the joined item from an UPDATE, and its scans are cheap in-process calls.
tests/dispatch/test_single_scan.py compares it with the full path case by case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Q
from django.db.models.query import get_related_populators

from kt1.accounts.models import User
from kt1.core.permissions import restrict, scope_of
from kt1.items.models import Item

from .choices import BagStatus
from .models import Bag, BagItem

ENABLED = True  # tests turn it off to run the full path on the same case

# Marked values of the compiled statement, replaced by the real ones on each run.
_BAG = -424243
_ACTOR = -424244
_MOMENT = dt.datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=dt.UTC)

_CACHE: dict[Hashable, _ScanStatement | None] = {}
_CACHE_MAX = 2_000


def scan_listed_line(*, actor: User, bag_pk: int, number: str, moment: dt.datetime) -> BagItem | None:
    """Mark the line of `number` (a parsed tracking number) in bag `bag_pk` as scanned by `actor`
    at `moment`, if and only if the full path would: return the line with its item, as the full
    path returns it. None: nothing written, run the full path. Must run inside the caller's
    transaction (the bag's lock lasts until its commit)."""
    connection = connections[router.db_for_write(BagItem)]
    if not ENABLED or connection.vendor != "postgresql":
        return None
    key = ("dispatch.single_scan", connection.alias, scope_of(actor))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = _ScanStatement.build(actor, connection)
    statement = _CACHE[key]
    if statement is None:  # a scope that sees no bag: the full path answers
        return None
    line = statement.run(connection, bag_pk=bag_pk, actor_pk=actor.pk, number=number, moment=moment)
    if line is not None:
        line.scanned_by = actor  # as the full path leaves it
    return line


class _ScanStatement:
    """UPDATE the line … FROM its item WHERE <the full path's checks> RETURNING the line and item."""

    def __init__(self, sql: str, params: list[Any], marks: dict[str, list[int]], db: str, compiler) -> None:
        self.sql, self.params, self.marks, self.db = sql, params, marks, db
        # What Django needs to turn a returned row into the line and its item (select_related).
        self.compiler = compiler
        self.select, self.klass_info = compiler.select, compiler.klass_info
        fields = self.klass_info["select_fields"]
        self.model_slice = slice(fields[0], fields[-1] + 1)
        self.init_list = [column[0].target.attname for column in self.select[self.model_slice]]
        self.converters = compiler.get_converters([column[0] for column in self.select[0:compiler.col_count]])

    @classmethod
    def build(cls, actor: User, connection) -> _ScanStatement | None:
        # The bag as the full path locks it (kt1.dispatch.services._lock_opening: through the
        # opener's view scope, FOR UPDATE OF the bag alone), with _check_opening's conditions.
        bags = (restrict(Bag.objects.select_for_update(of=("self",)), actor, "view")
                .filter(pk=_BAG, status=BagStatus.RECEIVED, received_at__lte=_MOMENT)
                .filter(Q(received_by_id=_ACTOR) | Q(holder_id=_ACTOR)).only("pk").order_by()[:1])
        try:
            bag_sql, bag_params = bags.query.get_compiler(connection=connection).as_sql()
        except EmptyResultSet:
            return None
        if bags.query.is_empty():
            return None
        # The columns the full path reads for the line (kt1.dispatch.services._opening_lines).
        lines = BagItem.objects.select_related("item").filter(pk=_BAG).order_by()
        compiler = lines.query.get_compiler(connection=connection)
        compiler.as_sql()  # sets up compiler.select and klass_info
        returning = ", ".join(column[1][0] for column in compiler.select)
        quote = connection.ops.quote_name
        line_meta, item_meta = BagItem._meta, Item._meta
        line_t, item_t = quote(line_meta.db_table), quote(item_meta.db_table)

        def line_col(name: str) -> str:
            return f"{line_t}.{quote(line_meta.get_field(name).column)}"

        item_pk, number_col = quote(item_meta.pk.column), quote(item_meta.get_field("tracking_number").column)
        # Only quoted names from the models' metadata and Django's own compiled SQL go into the
        # text; every value is a parameter.
        sql = (
            f"UPDATE {line_t} SET {quote(line_meta.get_field('scanned_at').column)} = %s, "  # noqa: S608
            f"{quote(line_meta.get_field('scanned_by').column)} = %s, {quote(line_meta.get_field('damaged').column)} = %s "
            f"FROM {item_t} "
            # The line found by its item's id, through the unique index of live unscanned lines
            # (bag_item_one_live_bag), as _opening_lines finds it.
            f"WHERE {line_col('item')} = (SELECT U0.{item_pk} FROM {item_t} U0 WHERE U0.{number_col} = %s LIMIT 1) "
            f"AND {item_t}.{item_pk} = {line_col('item')} "
            f"AND {line_col('removed_at')} IS NULL AND {line_col('scanned_at')} IS NULL "
            f"AND {line_col('bag')} = ({bag_sql}) "
            f"RETURNING {returning}"
        )
        head = [None, None, False, None]  # scanned_at, scanned_by, damaged, number
        params = head + list(bag_params)
        marks = {"moment": [0], "actor": [1], "number": [3], "bag": [], "received_by_or_holder": []}
        for index, value in enumerate(bag_params, start=len(head)):
            if type(value) is int and value == _BAG:
                marks["bag"].append(index)
            elif type(value) is int and value == _ACTOR:
                marks["received_by_or_holder"].append(index)
            elif isinstance(value, dt.datetime) and value == _MOMENT:
                marks["moment"].append(index)
        if len(marks["bag"]) != 1 or len(marks["received_by_or_holder"]) != 2 or len(marks["moment"]) != 2:
            raise ValueError(f"the marked values of the scan statement were not found once each: {marks}")
        marks["actor"] += marks.pop("received_by_or_holder")
        return cls(sql, params, marks, connection.alias, compiler)

    def run(self, connection, *, bag_pk: int, actor_pk: int, number: str, moment: dt.datetime) -> BagItem | None:
        params = list(self.params)
        for name, value in (("bag", bag_pk), ("actor", actor_pk), ("number", number), ("moment", moment)):
            for index in self.marks[name]:
                params[index] = value
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if not rows:
            return None
        if len(rows) != 1:  # the unique index of live unscanned lines makes this impossible
            raise RuntimeError(f"one scan marked {len(rows)} lines")
        # As django.db.models.query.ModelIterable turns a row into the line and its item.
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        row = rows[0]
        line = BagItem.from_db(self.db, self.init_list, row[self.model_slice])
        for populator in get_related_populators(self.klass_info, self.select, self.db):
            populator.populate(row, line)
        return line
