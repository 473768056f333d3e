"""A single scan as one statement on PostgreSQL (kt1.dispatch.single_scan) answers exactly as the
full path of bag_open_scans: each case is run twice from the same state, with the one-statement
path turned off and on, at the same moment, and both runs must give the same answer (the line and
its item field by field, or the same error, code, message and detail) and leave the same rows.
Each case also says which path the second run took: the one statement (scanned), or the full
path after a statement that touched nothing (every other answer)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kt1.accounts import services as people
from kt1.accounts.choices import Role
from kt1.accounts.models import RoleAssignment, User
from kt1.audit.models import AuditEntry
from kt1.audit.services import audit_verify
from kt1.core.clock import now, simulated_time
from kt1.core.errors import ApplicationError
from kt1.dispatch import services as d
from kt1.dispatch import single_scan
from kt1.dispatch.models import BagEvent, BagItem
from kt1.incidents.models import Incident
from kt1.items import s10
from kt1.items.models import CustodyEvent
from tests import factories as f
from tests.dispatch.test_bag_opening import _build, held_by_operator

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'",
                                reason="the one-statement scan runs on PostgreSQL only; SQLite takes the full path")


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def _state(bag) -> tuple:
    lines = list(BagItem.objects.filter(bag=bag).order_by("pk").values_list(
        "pk", "item_id", "removed_at", "scanned_at", "scanned_by_id", "damaged"))
    events = list(BagEvent.objects.filter(bag=bag).order_by("seq").values_list("seq", "code", "item_id", "data"))
    incidents = list(Incident.objects.order_by("pk").values_list("kind", "item_id", "bag_id", "description"))
    return lines, events, incidents, AuditEntry.objects.count(), CustodyEvent.objects.count()


def _attempt(monkeypatch, *, enabled: bool, actor, bag, number: str, damaged: bool, moment: dt.datetime):
    """One scan with the one-statement path on or off; everything it wrote is rolled back."""
    monkeypatch.setattr(single_scan, "ENABLED", enabled)
    savepoint = transaction.savepoint()
    try:
        with simulated_time(moment), CaptureQueriesContext(connection) as ctx:
            try:
                line = d.bag_open_scan(actor=actor, bag=bag, tracking_number=number, damaged=damaged)
            except ApplicationError as exc:
                answer = ("refused", type(exc).__name__, exc.code, str(exc.message), exc.detail)
            else:
                answer = ("extra",) if line is None else (
                    "scanned", _fields(line), _fields(line.item), line.scanned_by.pk, line.item.pk == line.item_id)
        statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
        return answer, _state(bag), statements
    finally:
        transaction.savepoint_rollback(savepoint)


def _same_both_ways(monkeypatch, *, actor, bag, number: str, damaged: bool = False, moment=None) -> tuple:
    moment = moment or now()
    full = _attempt(monkeypatch, enabled=False, actor=actor, bag=bag, number=number, damaged=damaged, moment=moment)
    fast = _attempt(monkeypatch, enabled=True, actor=actor, bag=bag, number=number, damaged=damaged, moment=moment)
    assert fast[0] == full[0]  # the same answer
    assert fast[1] == full[1]  # the same rows written
    return fast[0], fast[2]


def _one_statement(statements: list[str]) -> bool:
    return len(statements) == 1 and statements[0].startswith('UPDATE "dispatch_bagitem"') and "FOR UPDATE" in statements[0]


@pytest.fixture
def opening(world):
    w, p = _build(world)
    a, b, c, gone = held_by_operator(w, p, 4)
    bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    for it in (a, b, c, gone):
        d.bag_add_item(actor=p["operator"], bag=bag, tracking_number=it.tracking_number)
    d.bag_remove_item(actor=p["operator"], bag=bag, tracking_number=gone.tracking_number)  # a removed line
    bag = d.bag_seal(actor=p["operator"], bag=bag, seal_number="KC-0900")
    transfer = d.transfer_create(actor=p["operator"], taker=p["receiver"], bags=[bag])
    d.transfer_complete(actor=p["receiver"], transfer=transfer)
    bag = d.bag_receive(actor=p["receiver"], bag=bag, seal_number_read="KC-0900", seal_intact=True)
    return w, p, bag, {"a": a, "b": b, "c": c, "gone": gone}


@pytest.mark.django_db
def test_a_listed_item_is_scanned_in_one_statement_with_the_same_line(opening, monkeypatch):
    w, p, bag, it = opening
    answer, statements = _same_both_ways(monkeypatch, actor=p["receiver"], bag=bag,
                                         number=it["a"].tracking_number.lower())
    assert answer[0] == "scanned" and answer[3] == p["receiver"].pk and answer[4]
    assert answer[1]["scanned_by_id"] == p["receiver"].pk and answer[1]["damaged"] is False
    assert answer[2]["tracking_number"] == it["a"].tracking_number
    assert _one_statement(statements), statements


@pytest.mark.django_db
def test_every_other_answer_comes_from_the_full_path(opening, world, monkeypatch):
    w, p, bag, it = opening
    receiver = p["receiver"]
    d.bag_open_scan(actor=receiver, bag=bag, tracking_number=it["b"].tracking_number)
    elsewhere = held_by_operator(w, p, 1)[0]  # exists, held by the operator, in no bag
    unknown = s10.build("KT", 99_999_999)
    cases = {
        "already scanned": dict(actor=receiver, number=it["b"].tracking_number),
        "removed before sealing (extra)": dict(actor=receiver, number=it["gone"].tracking_number),
        "not on the list (extra)": dict(actor=receiver, number=elsewhere.tracking_number),
        "no such item (extra)": dict(actor=receiver, number=unknown),
        "malformed number": dict(actor=receiver, number="KT12345678VN"),
        "damaged": dict(actor=receiver, number=it["c"].tracking_number, damaged=True),
        "not the receiver": dict(actor=p["counter_clerk"], number=it["c"].tracking_number),
        "out of scope": dict(actor=world["B"].people["counter_clerk"], number=it["c"].tracking_number),
        "no permission": dict(actor=p["agency_clerk"], number=it["c"].tracking_number),
        "a moment before the receipt": dict(actor=receiver, number=it["c"].tracking_number,
                                            moment=bag.received_at - dt.timedelta(seconds=1)),
    }
    answers = {}
    for name, case in cases.items():
        answer, statements = _same_both_ways(monkeypatch, bag=bag, **case)
        answers[name] = answer[:3] if answer[0] == "refused" else answer[:1]
        assert not _one_statement(statements), (name, statements)
    assert answers == {
        "already scanned": ("refused", "ValidationFailed", "already_scanned"),
        "removed before sealing (extra)": ("extra",),
        "not on the list (extra)": ("extra",),
        "no such item (extra)": ("extra",),
        "malformed number": ("refused", "ValidationFailed", "invalid_tracking_number"),
        "damaged": ("scanned",),
        "not the receiver": ("refused", "ValidationFailed", "not_holder"),
        "out of scope": ("refused", "NotFound", "not_found"),
        "no permission": ("refused", "PermissionDenied", "permission_denied"),
        "a moment before the receipt": ("scanned",),
    }


@pytest.mark.django_db
def test_the_receiver_moved_to_another_province_no_longer_finds_the_bag(opening, world, monkeypatch):
    """The scope is part of the statement: received by them, but out of their scope now (404)."""
    w, p, bag, it = opening
    receiver = p["receiver"]
    admin = f.root_admin()
    people.role_grant(actor=admin, user=receiver, role=Role.COUNTER_CLERK, facility=world["B"].post_office)
    for assignment in RoleAssignment.objects.current().filter(user=receiver, facility=w.post_office):
        people.role_end(actor=admin, assignment=assignment)
    moved = User.objects.get(pk=receiver.pk)
    answer, statements = _same_both_ways(monkeypatch, actor=moved, bag=bag, number=it["a"].tracking_number)
    assert answer[:3] == ("refused", "NotFound", "not_found") and not _one_statement(statements)


@pytest.mark.django_db
def test_a_bag_not_received_or_already_opened_is_refused_as_before(opening, monkeypatch):
    w, p, bag, it = opening
    sealed = d.bag_create(actor=p["operator"], destination=w.post_office)
    (x,) = held_by_operator(w, p, 1)
    d.bag_add_item(actor=p["operator"], bag=sealed, tracking_number=x.tracking_number)
    sealed = d.bag_seal(actor=p["operator"], bag=sealed, seal_number="KC-0901")
    transfer = d.transfer_create(actor=p["operator"], taker=p["receiver"], bags=[sealed])
    d.transfer_complete(actor=p["receiver"], transfer=transfer)  # held by the receiver, not yet received
    answer, statements = _same_both_ways(monkeypatch, actor=p["receiver"], bag=sealed, number=x.tracking_number)
    assert answer[:3] == ("refused", "Conflict", "illegal_transition") and not _one_statement(statements)

    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=it["a"].tracking_number)
    d.bag_open_finish(actor=p["receiver"], bag=bag)
    answer, statements = _same_both_ways(monkeypatch, actor=p["receiver"], bag=bag, number=it["b"].tracking_number)
    assert answer[:3] == ("refused", "Conflict", "illegal_transition") and "đã kết thúc mở túi" in answer[3]
    assert not _one_statement(statements)


@pytest.mark.django_db
def test_a_scan_undone_is_scanned_again_in_one_statement_and_the_finish_moves_it(opening, monkeypatch):
    w, p, bag, it = opening
    receiver = p["receiver"]
    d.bag_open_scan(actor=receiver, bag=bag, tracking_number=it["a"].tracking_number)
    d.bag_open_unscan(actor=receiver, bag=bag, tracking_number=it["a"].tracking_number, reason="Quét nhầm")
    answer, statements = _same_both_ways(monkeypatch, actor=receiver, bag=bag, number=it["a"].tracking_number)
    assert answer[0] == "scanned" and _one_statement(statements)

    for key in ("a", "b", "c"):  # for real now, through the one statement
        d.bag_open_scan(actor=receiver, bag=bag, tracking_number=it[key].tracking_number)
    d.bag_open_finish(actor=receiver, bag=bag)
    outs = CustodyEvent.objects.filter(bag=bag, code="KOUT")
    scanned = dict(BagItem.objects.filter(bag=bag, scanned_at__isnull=False).values_list("item_id", "scanned_at"))
    assert sorted(outs.values_list("item_id", flat=True)) == sorted(it[k].pk for k in ("a", "b", "c"))
    assert all(e.device_time == scanned[e.item_id] and e.taker_id == receiver.pk for e in outs)
    assert audit_verify().ok
