"""Opening a bag: a scan is a cheap, durable record on its bag line and moves nothing; finishing the
opening moves custody of every scanned item in one transaction (one KOUT event each, device time =
the scan time, the taker = who scanned it). Custody is in exactly one holder at every moment:
until the finish, a scanned item is still held by the bag. Discrepancies (extra, damaged) still
surface at the scan; missing items at the finish. On PostgreSQL, a scan and the finish of the same
bag never interleave (threads with their own connections)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kt1.accounts import services as people
from kt1.accounts.choices import VettingStatus
from kt1.accounts.models import Vetting
from kt1.audit.models import AuditEntry
from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.core.errors import Conflict, ValidationFailed
from kt1.dispatch import services as d
from kt1.dispatch.choices import BagEventCode, BagStatus
from kt1.dispatch.models import Bag, BagEvent, BagItem
from kt1.incidents.models import Incident
from kt1.items import services as svc
from kt1.items.choices import EventCode, ItemStatus
from kt1.items.models import CustodyEvent, Item
from tests import factories as f


def _build(world):
    w = world["A"]
    p = dict(w.people)
    p["receiver"] = f.person("counter_clerk", facility=w.post_office, full_name="Giao dịch viên Xã")
    for role in ("agency_clerk", "counter_clerk", "operator", "receiver"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    d.mix_rule_set(actor=f.root_admin(), groups=[["A"], ["B", "C"], ["none"]],
                   valid_from=local_today() - dt.timedelta(days=1))
    return w, p


@pytest.fixture
def net(world):
    return _build(world)


def held_by_operator(w, p, n: int) -> list[Item]:
    """n items accepted at the counter and handed to the processing operator."""
    items = [f.item(p["agency_clerk"], w.other_agency) for _ in range(n)]
    for actor, code in ((p["counter_clerk"], EventCode.ACCEPTED), (p["operator"], EventCode.HANDOVER)):
        outcomes = svc.custody_record_batch(actor=actor, requests=[svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=i.tracking_number, code=code) for i in items])
        assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    return items


def received_bag(w, p, items, seal: str = "KC-0200") -> Bag:
    """A bag of `items` sealed at processing, handed to the commune receiver and received there."""
    bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    for it in items:
        d.bag_add_item(actor=p["operator"], bag=bag, tracking_number=it.tracking_number)
    bag = d.bag_seal(actor=p["operator"], bag=bag, seal_number=seal)
    transfer = d.transfer_create(actor=p["operator"], taker=p["receiver"], bags=[bag])
    d.transfer_complete(actor=p["receiver"], transfer=transfer)
    return d.bag_receive(actor=p["receiver"], bag=bag, seal_number_read=seal, seal_intact=True)


def holders(item) -> tuple:
    item = Item.objects.get(pk=item.pk)
    return item.holder_id, item.holder_bag_id


def outs(bag) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(bag=bag, code=EventCode.OUT_OF_BAG).order_by("item_id"))


@pytest.mark.django_db
def test_a_scan_records_its_line_and_moves_nothing(net):
    w, p = net
    a, b = held_by_operator(w, p, 2)
    bag = received_bag(w, p, [a, b])
    counts = (CustodyEvent.objects.count(), AuditEntry.objects.count(), BagEvent.objects.count())
    with CaptureQueriesContext(connection) as ctx:
        line = d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number.lower())
    assert line.item == a and line.scanned_by == p["receiver"] and line.scanned_at is not None and not line.damaged
    stored = BagItem.objects.get(pk=line.pk)
    assert (stored.scanned_at, stored.scanned_by_id) == (line.scanned_at, p["receiver"].pk)
    # No custody event, no audit entry, no bag event: the item is still held by the bag.
    assert (CustodyEvent.objects.count(), AuditEntry.objects.count(), BagEvent.objects.count()) == counts
    assert holders(a) == (None, bag.pk) and Item.objects.get(pk=a.pk).status == ItemStatus.IN_BAG
    assert Bag.objects.get(pk=bag.pk).holder == p["receiver"]
    # One conditional UPDATE of the line and nothing else written.
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert len(writes) == 1 and writes[0].startswith('UPDATE "dispatch_bagitem"'), writes
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT")]
    if connection.vendor == "postgresql":
        # One statement (kt1.dispatch.single_scan): the UPDATE locks the bag through the scope
        # (FOR UPDATE) and returns the line with its item.
        statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert not reads and len(statements) == 1, statements
        assert "FOR UPDATE" in writes[0] and "RETURNING" in writes[0], writes[0]
    else:
        # The bag (in scope, locked), then the line with its item found by the number: each compiled once.
        assert len(reads) == 2, reads


@pytest.mark.django_db
def test_finish_moves_every_scanned_item_in_one_go(net):
    w, p = net
    items = held_by_operator(w, p, 4)
    bag = received_bag(w, p, items)
    for it in items:
        d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=it.tracking_number)
    lines = {line.item_id: line for line in BagItem.objects.filter(bag=bag)}
    assert all(holders(it) == (None, bag.pk) for it in items)  # one holder before: the bag
    before = AuditEntry.objects.count()

    bag = d.bag_open_finish(actor=p["receiver"], bag=bag)

    assert bag.status == BagStatus.OPENED and Bag.objects.get(pk=bag.pk).holder is None
    events = outs(bag)
    assert [e.item_id for e in events] == sorted(it.pk for it in items)  # one KOUT each
    moment = events[0].occurred_at
    for event in events:
        line = lines[event.item_id]
        assert event.device_time == line.scanned_at and event.taker_id == p["receiver"].pk
        assert event.occurred_at == moment and event.giver_id is None and event.status_after == ItemStatus.ACCEPTED
        item = Item.objects.get(pk=event.item_id)
        assert (item.holder_id, item.holder_bag_id) == (p["receiver"].pk, None)  # one holder after: the scanner
        assert item.holder_since == moment and item.facility == w.post_office and item.last_event_seq == event.seq
    opened = BagEvent.objects.get(bag=bag, code=BagEventCode.OPENED)
    assert sorted(opened.data["handed_over"]) == sorted(it.tracking_number for it in items)
    assert opened.data["missing"] == []
    # 4 custody entries and the bag event, sealed in the audit chain; nothing else.
    assert AuditEntry.objects.count() == before + 5
    assert not Incident.objects.exists()
    assert audit_verify().ok


@pytest.mark.django_db
def test_finish_is_set_based(net):
    """The finish runs as many statements for 6 items as for 2 (one INSERT of the events, one
    UPDATE of the items per taker), as sealing does."""
    w, p = net
    statements = []
    for n, seal in ((2, "KC-0301"), (6, "KC-0302")):
        items = held_by_operator(w, p, n)
        bag = received_bag(w, p, items, seal=seal)
        for it in items:
            d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=it.tracking_number)
        with CaptureQueriesContext(connection) as ctx:
            d.bag_open_finish(actor=p["receiver"], bag=bag)
        statements.append(len(ctx.captured_queries))
        assert len(outs(bag)) == n
    assert statements[0] == statements[1], statements


@pytest.mark.django_db
def test_double_scan_and_scan_after_finish_are_refused(net):
    w, p = net
    a, b = held_by_operator(w, p, 2)
    bag = received_bag(w, p, [a, b])
    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)
    first = BagItem.objects.get(bag=bag, item=a).scanned_at
    with pytest.raises(ValidationFailed) as exc:
        d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)
    assert exc.value.code == "already_scanned" and "tracking_number" in exc.value.detail
    assert str(exc.value.message) == f"Bưu gửi {a.tracking_number} đã được quét."
    assert BagItem.objects.get(bag=bag, item=a).scanned_at == first  # the first scan stands
    with pytest.raises(ValidationFailed) as exc:  # a damaged re-scan is a double scan too
        d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number, damaged=True)
    assert exc.value.code == "already_scanned"
    assert not Incident.objects.exists()

    d.bag_open_finish(actor=p["receiver"], bag=bag)
    with pytest.raises(Conflict) as exc:
        d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=b.tracking_number)
    assert exc.value.code == "illegal_transition" and "đã kết thúc mở túi" in str(exc.value.message)
    assert BagItem.objects.get(bag=bag, item=b).scanned_at is None
    assert holders(b) == (None, bag.pk)  # missing, still recorded in the bag
    with pytest.raises(Conflict):
        d.bag_open_finish(actor=p["receiver"], bag=bag)
    # Only the receiver opens: another clerk of the same office is refused.
    other = received_bag(w, p, held_by_operator(w, p, 1), seal="KC-0201")
    with pytest.raises(ValidationFailed) as exc:
        d.bag_open_scan(actor=p["counter_clerk"], bag=other, tracking_number=a.tracking_number)
    assert exc.value.code == "not_holder"


@pytest.mark.django_db
def test_extra_and_damaged_items_become_incidents_at_the_scan(net):
    w, p = net
    a, b, c = held_by_operator(w, p, 3)
    extra = held_by_operator(w, p, 1)[0]
    bag = received_bag(w, p, [a, b, c])

    assert d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=extra.tracking_number,
                           present=[p["postman"]]) is None
    incident = Incident.objects.get(kind="extra_item")
    assert incident.item == extra and incident.bag == bag and incident.records.count() == 1
    scanned = BagEvent.objects.get(bag=bag, code=BagEventCode.ITEM_SCANNED)
    assert scanned.data == {"tracking_number": extra.tracking_number, "listed": False}
    assert holders(extra) == (p["operator"].pk, None)  # an extra scan takes nothing from anyone

    line = d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=b.tracking_number, damaged=True)
    assert line.damaged and BagItem.objects.get(pk=line.pk).damaged
    damaged = Incident.objects.get(kind="damaged_item")
    assert damaged.item == b
    assert BagEvent.objects.filter(bag=bag, code=BagEventCode.ITEM_SCANNED, item=b).get().data == {
        "tracking_number": b.tracking_number, "listed": True, "damaged": True}
    assert holders(b) == (None, bag.pk)  # damaged or not, custody moves at the finish

    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)
    d.bag_open_finish(actor=p["receiver"], bag=bag, present=[p["postman"]])
    assert holders(a) == holders(b) == (p["receiver"].pk, None)
    missing = Incident.objects.get(kind="missing_item")
    assert missing.item == c and holders(c) == (None, bag.pk)  # never silently dropped
    bag = Bag.objects.get(pk=bag.pk)
    assert bag.holder == p["receiver"]  # the bag still holds the missing item, and has its holder
    opened = BagEvent.objects.get(bag=bag, code=BagEventCode.OPENED)
    assert sorted(opened.data["handed_over"]) == sorted([a.tracking_number, b.tracking_number])
    assert opened.data["missing"] == [c.tracking_number]
    assert sorted(Incident.objects.values_list("kind", flat=True)) == ["damaged_item", "extra_item", "missing_item"]
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_scanned_item_cannot_go_into_another_bag_before_the_finish(net):
    """bag_item_one_live_bag only covers lines not yet scanned; a scanned line whose custody has not
    moved is still guarded: the item's holder is the bag, so nobody holds it to add it anywhere."""
    w, p = net
    a, b = held_by_operator(w, p, 2)
    bag = received_bag(w, p, [a, b])
    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)
    onward = d.bag_create(actor=p["receiver"], destination=w.processing)
    with pytest.raises(ValidationFailed) as exc:
        d.bag_add_item(actor=p["receiver"], bag=onward, tracking_number=a.tracking_number)
    assert exc.value.code == "not_holder"
    with pytest.raises(Conflict):  # nor can it change hands on its own (an illegal step from IN_BAG)
        svc.custody_record(actor=p["postman"], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=a.tracking_number, code=EventCode.HANDOVER))
    assert not BagItem.objects.filter(bag=onward).exists() and holders(a) == (None, bag.pk)

    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=b.tracking_number)
    d.bag_open_finish(actor=p["receiver"], bag=bag)
    d.bag_add_item(actor=p["receiver"], bag=onward, tracking_number=a.tracking_number)  # now the receiver holds it
    assert BagItem.objects.filter(bag=onward, item=a, removed_at__isnull=True).exists()


@pytest.mark.django_db
def test_the_finish_checks_each_scanners_clearance_now(net):
    """Custody moves at the finish, so the taker's vetting must cover the item then: a vetting
    revoked between the scan and the finish refuses the finish, which leaves everything as it was."""
    w, p = net
    (a,) = held_by_operator(w, p, 1)
    bag = received_bag(w, p, [a])
    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)
    vetting = Vetting.objects.filter(user=p["receiver"], status=VettingStatus.APPROVED).get()
    people.vetting_revoke(actor=p["police"], vetting=vetting, reason="Thử nghiệm")
    with pytest.raises(ValidationFailed) as exc:
        d.bag_open_finish(actor=p["receiver"], bag=bag)
    assert exc.value.code == "taker_not_cleared"
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.RECEIVED and holders(a) == (None, bag.pk)
    assert not outs(bag) and BagItem.objects.get(bag=bag, item=a).scanned_at is not None
    assert audit_verify().ok


@pytest.mark.django_db
def test_adding_an_item_costs_the_same_whatever_the_bag_holds(net):
    """bag_add_item reads the levels already in the bag and their count in one grouped query (it
    used to fetch every line's level, then count them): 11 statements besides the savepoints (17
    in all with BEGIN, COMMIT and the savepoints around the line's insert and the audit entry)."""
    w, p = net
    items = held_by_operator(w, p, 6)
    bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    counts = []
    for it in items:
        with CaptureQueriesContext(connection) as ctx:
            d.bag_add_item(actor=p["operator"], bag=bag, tracking_number=it.tracking_number)
        counts.append(len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]))
    assert len(set(counts)) == 1 and counts[0] <= 11, counts
    assert BagItem.objects.filter(bag=bag, removed_at__isnull=True).count() == 6


# --- PostgreSQL: a scan and the finish of the same bag never interleave --------------------------------


def _in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()  # each thread has its own connection

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


needs_row_locks = pytest.mark.skipif("connection.vendor != 'postgresql'",
                                     reason="row locks: SQLite serialises every transaction (BEGIN IMMEDIATE)")


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_a_scan_during_the_finish_waits_for_it_and_is_refused(world):
    w, p = _build(world)
    a, b = held_by_operator(w, p, 2)
    bag = received_bag(w, p, [a, b])
    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)
    finished, release, outcome = threading.Event(), threading.Event(), {}

    def finish():
        with transaction.atomic():
            d.bag_open_finish(actor=p["receiver"], bag=bag)
            finished.set()
            release.wait(20)  # the finish holds the bag's lock, not yet committed

    def scan():
        try:
            outcome["line"] = d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=b.tracking_number)
        except Conflict as exc:
            outcome["error"] = exc

    finisher = _in_thread(finish)
    assert finished.wait(20)
    scanner = _in_thread(scan)
    scanner.join(1.0)
    assert scanner.is_alive() and not outcome  # waiting for the finish's lock on the bag
    release.set()
    finisher.join(20)
    scanner.join(20)
    assert isinstance(outcome.get("error"), Conflict), outcome
    assert BagItem.objects.get(bag=bag, item=b).scanned_at is None
    assert holders(a) == (p["receiver"].pk, None) and holders(b) == (None, bag.pk)
    assert Incident.objects.get(kind="missing_item").item == b
    assert audit_verify().ok


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_a_finish_during_a_scan_waits_for_it_and_moves_the_item(world):
    w, p = _build(world)
    a, b = held_by_operator(w, p, 2)
    bag = received_bag(w, p, [a, b])
    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)
    scanned, release, outcome = threading.Event(), threading.Event(), {}

    def scan():
        with transaction.atomic():
            d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=b.tracking_number)
            scanned.set()
            release.wait(20)  # the scan holds its share lock on the bag, its line not yet committed

    def finish():
        outcome["bag"] = d.bag_open_finish(actor=p["receiver"], bag=bag)

    scanner = _in_thread(scan)
    assert scanned.wait(20)
    finisher = _in_thread(finish)
    finisher.join(1.0)
    assert finisher.is_alive() and not outcome  # waiting for the scan to commit
    release.set()
    scanner.join(20)
    finisher.join(20)
    assert outcome["bag"].status == BagStatus.OPENED
    assert holders(a) == holders(b) == (p["receiver"].pk, None)  # the late scan was handed over too
    assert len(outs(bag)) == 2 and not Incident.objects.exists()
    assert audit_verify().ok


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_two_scans_of_one_item_at_once_record_it_once(world):
    w, p = _build(world)
    (a,) = held_by_operator(w, p, 1)
    bag = received_bag(w, p, [a])
    scanned, release, outcome = threading.Event(), threading.Event(), {}

    def first():
        with transaction.atomic():
            outcome["first"] = d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)
            scanned.set()
            release.wait(20)

    def second():
        try:
            outcome["second"] = d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)
        except ValidationFailed as exc:
            outcome["error"] = exc

    one = _in_thread(first)
    assert scanned.wait(20)
    two = _in_thread(second)
    two.join(1.0)
    assert two.is_alive()  # scans of one bag take turns on the bag's lock
    release.set()
    one.join(20)
    two.join(20)
    assert "second" not in outcome and outcome["error"].code == "already_scanned"
    assert BagItem.objects.get(bag=bag, item=a).scanned_at == outcome["first"].scanned_at
