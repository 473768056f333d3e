"""Opening a bag from a handheld: the scans of a bag sent as one batch (bag_open_scans), each scan
standing alone, set-based; and undoing a scan before the finish (bag_open_unscan)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from kt1.accounts import services as people
from kt1.accounts.choices import VettingStatus
from kt1.accounts.models import Vetting
from kt1.audit.models import AuditEntry
from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.core.errors import Conflict, ValidationFailed
from kt1.dispatch import services as d
from kt1.dispatch.choices import BagEventCode, BagStatus
from kt1.dispatch.models import Bag, BagEvent, BagItem
from kt1.dispatch.services import ScanInput, ScanStatus
from kt1.incidents.models import Incident
from kt1.items.choices import EventCode
from kt1.items.models import CustodyEvent
from tests import factories as f
from tests.dispatch.test_bag_opening import _build, held_by_operator, holders, received_bag


@pytest.fixture
def net(world):
    return _build(world)


def scanned(bag) -> dict[str, bool]:
    return {line.item.tracking_number: line.damaged for line in BagItem.objects.filter(
        bag=bag, scanned_at__isnull=False).select_related("item")}


@pytest.mark.django_db
def test_a_batch_marks_every_listed_line_with_one_update(net):
    w, p = net
    items = held_by_operator(w, p, 5)
    bag = received_bag(w, p, items)
    counts = (CustodyEvent.objects.count(), AuditEntry.objects.count(), BagEvent.objects.count())
    with CaptureQueriesContext(connection) as ctx:
        outcomes = d.bag_open_scans(actor=p["receiver"], bag=bag,
                                    scans=[ScanInput(i.tracking_number.lower()) for i in items])
    assert [(o.index, o.tracking_number, o.status, o.error) for o in outcomes] == [
        (n, i.tracking_number, ScanStatus.SCANNED, None) for n, i in enumerate(items)]
    assert all(o.line.scanned_by == p["receiver"] and not o.line.damaged for o in outcomes)
    assert len({o.line.scanned_at for o in outcomes}) == 1
    assert scanned(bag) == {i.tracking_number: False for i in items}
    # Nothing but the lines: no custody, no audit, no bag event; the bag still holds the items.
    assert (CustodyEvent.objects.count(), AuditEntry.objects.count(), BagEvent.objects.count()) == counts
    assert all(holders(i) == (None, bag.pk) for i in items)
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert len(writes) == 1 and writes[0].startswith('UPDATE "dispatch_bagitem"'), writes
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 3, reads  # the bag (locked), the items' ids, their lines
    d.bag_open_finish(actor=p["receiver"], bag=bag)
    assert all(holders(i) == (p["receiver"].pk, None) for i in items)
    assert audit_verify().ok


@pytest.mark.django_db
def test_each_scan_of_a_batch_stands_alone(net):
    """Valid, malformed, extra, damaged, already scanned before and repeated within the batch, mixed:
    the answers come in the order sent, each refusal with the message a single scan gets."""
    w, p = net
    a, b, c, e = held_by_operator(w, p, 4)
    extra = held_by_operator(w, p, 1)[0]
    bag = received_bag(w, p, [a, b, c, e])
    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=e.tracking_number)
    before = BagItem.objects.get(bag=bag, item=e).scanned_at
    outcomes = d.bag_open_scans(actor=p["receiver"], bag=bag, present=[p["postman"]], scans=[
        ScanInput(a.tracking_number),
        ScanInput("RB12345678VN"),  # malformed
        ScanInput(extra.tracking_number),
        ScanInput(b.tracking_number, damaged=True),
        ScanInput(a.tracking_number),  # repeated within the batch
        ScanInput(e.tracking_number),  # scanned before the batch
        ScanInput(c.tracking_number),
        ScanInput(b.tracking_number),  # repeated, the first was damaged
    ])
    assert [o.status for o in outcomes] == ["scanned", "refused", "extra", "scanned", "refused", "refused",
                                            "scanned", "refused"]
    assert [o.index for o in outcomes] == list(range(8))
    assert outcomes[1].error.code == "invalid_tracking_number" and outcomes[1].tracking_number == "RB12345678VN"
    for n, item in ((4, a), (5, e), (7, b)):
        assert outcomes[n].error.code == "already_scanned" and outcomes[n].line is None
        assert str(outcomes[n].error.message) == f"Bưu gửi {item.tracking_number} đã được quét."
    assert outcomes[2].line is None and outcomes[3].line.damaged
    assert scanned(bag) == {a.tracking_number: False, b.tracking_number: True, c.tracking_number: False,
                            e.tracking_number: False}
    assert BagItem.objects.get(bag=bag, item=e).scanned_at == before  # the first scan stands
    assert sorted(Incident.objects.values_list("kind", flat=True)) == ["damaged_item", "extra_item"]
    assert Incident.objects.get(kind="extra_item").item == extra and holders(extra) == (p["operator"].pk, None)
    events = list(BagEvent.objects.filter(bag=bag, code=BagEventCode.ITEM_SCANNED).order_by("seq"))
    assert [ev.data for ev in events] == [  # in the order the scans were sent
        {"tracking_number": extra.tracking_number, "listed": False},
        {"tracking_number": b.tracking_number, "listed": True, "damaged": True}]
    d.bag_open_finish(actor=p["receiver"], bag=bag)
    assert all(holders(i) == (p["receiver"].pk, None) for i in (a, b, c, e))
    assert not Incident.objects.filter(kind="missing_item").exists()
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_batch_refused_as_a_whole_records_nothing(net, monkeypatch):
    w, p = net
    a, b = held_by_operator(w, p, 2)
    extra = held_by_operator(w, p, 1)[0]
    bag = received_bag(w, p, [a, b])
    scans = [ScanInput(extra.tracking_number), ScanInput(a.tracking_number, damaged=True), ScanInput(b.tracking_number)]
    entries = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as exc:  # not the receiver
        d.bag_open_scans(actor=p["counter_clerk"], bag=bag, scans=scans)
    assert exc.value.code == "not_holder"
    # The database fails the last statement (the lines' UPDATE): the incidents and bag events written
    # before it in the same transaction go too.
    real = d._mark_scanned

    def failing(lines, moment, actor, *, damaged):
        if not damaged:
            raise DatabaseError("simulated")
        return real(lines, moment, actor, damaged=damaged)

    monkeypatch.setattr(d, "_mark_scanned", failing)
    with pytest.raises(DatabaseError):
        d.bag_open_scans(actor=p["receiver"], bag=bag, scans=scans)
    monkeypatch.undo()
    assert not scanned(bag) and not Incident.objects.exists()
    assert not BagEvent.objects.filter(bag=bag, code=BagEventCode.ITEM_SCANNED).exists()
    assert AuditEntry.objects.count() == entries
    d.bag_open_finish(actor=p["receiver"], bag=bag)
    with pytest.raises(Conflict) as exc:  # opened: the whole batch is refused
        d.bag_open_scans(actor=p["receiver"], bag=bag, scans=scans)
    assert exc.value.code == "illegal_transition"
    assert sorted(Incident.objects.values_list("kind", flat=True)) == ["missing_item", "missing_item"]
    assert audit_verify().ok


@pytest.mark.django_db
def test_undo_a_scan_before_the_finish(net):
    w, p = net
    a, b = held_by_operator(w, p, 2)
    bag = received_bag(w, p, [a, b])
    d.bag_open_scans(actor=p["receiver"], bag=bag, scans=[ScanInput(a.tracking_number, damaged=True),
                                                            ScanInput(b.tracking_number)])
    with pytest.raises(ValidationFailed) as exc:
        d.bag_open_unscan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number, reason="  ")
    assert exc.value.code == "reason_required" and "reason" in exc.value.detail
    with pytest.raises(ValidationFailed) as exc:  # only the receiver
        d.bag_open_unscan(actor=p["counter_clerk"], bag=bag, tracking_number=a.tracking_number, reason="Nhầm")
    assert exc.value.code == "not_holder"
    line = d.bag_open_unscan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number.lower(),
                             reason="Quét nhầm bưu gửi")
    assert (line.scanned_at, line.scanned_by, line.damaged) == (None, None, False)
    assert scanned(bag) == {b.tracking_number: False}
    event = BagEvent.objects.get(bag=bag, code=BagEventCode.ITEM_UNSCANNED)
    assert event.item == a and event.actor == p["receiver"] and event.audit_seq is not None
    assert event.data["reason"] == "Quét nhầm bưu gửi" and event.data["scanned_by"] == p["receiver"].pk
    assert event.data["damaged"] is True and event.data["tracking_number"] == a.tracking_number
    with pytest.raises(ValidationFailed) as exc:
        d.bag_open_unscan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number, reason="Lần hai")
    assert exc.value.code == "not_scanned"
    other = held_by_operator(w, p, 1)[0]
    with pytest.raises(ValidationFailed) as exc:
        d.bag_open_unscan(actor=p["receiver"], bag=bag, tracking_number=other.tracking_number, reason="Nhầm")
    assert exc.value.code == "not_in_bag"
    assert holders(a) == (None, bag.pk)  # custody never moved
    d.bag_open_scan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number)  # scanned again
    d.bag_open_finish(actor=p["receiver"], bag=bag)
    with pytest.raises(Conflict):
        d.bag_open_unscan(actor=p["receiver"], bag=bag, tracking_number=a.tracking_number, reason="Muộn")
    assert holders(a) == holders(b) == (p["receiver"].pk, None)
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_revoked_scanner_unscan_then_a_cleared_scan_lets_the_finish_through(net):
    """The open point of a stuck bag: the scanner's vetting is revoked after scanning, so the finish
    refuses to hand the items to them. The receiver undoes the scans; once cleared (a new approved
    vetting: only the receiver may scan the bag they received) the items are scanned again and
    the finish hands them over."""
    w, p = net
    a, b = held_by_operator(w, p, 2)
    bag = received_bag(w, p, [a, b])
    d.bag_open_scans(actor=p["receiver"], bag=bag, scans=[ScanInput(a.tracking_number), ScanInput(b.tracking_number)])
    vetting = Vetting.objects.filter(user=p["receiver"], status=VettingStatus.APPROVED).get()
    people.vetting_revoke(actor=p["police"], vetting=vetting, reason="Thử nghiệm")
    with pytest.raises(ValidationFailed) as exc:
        d.bag_open_finish(actor=p["receiver"], bag=bag)
    assert exc.value.code == "taker_not_cleared"
    for item in (a, b):
        d.bag_open_unscan(actor=p["receiver"], bag=bag, tracking_number=item.tracking_number,
                          reason="Người quét bị thu hồi thẩm tra")
    assert not scanned(bag)
    f.cleared(p["receiver"], Secrecy.B, police=p["police"])
    outcomes = d.bag_open_scans(actor=p["receiver"], bag=bag,
                                scans=[ScanInput(a.tracking_number), ScanInput(b.tracking_number)])
    assert [o.status for o in outcomes] == ["scanned", "scanned"]
    bag = d.bag_open_finish(actor=p["receiver"], bag=bag)
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.OPENED
    assert holders(a) == holders(b) == (p["receiver"].pk, None)
    assert CustodyEvent.objects.filter(bag=bag, code=EventCode.OUT_OF_BAG).count() == 2
    assert not Incident.objects.exists()
    assert [ev.code for ev in BagEvent.objects.filter(bag=bag).order_by("seq")][-3:] == [
        BagEventCode.ITEM_UNSCANNED, BagEventCode.ITEM_UNSCANNED, BagEventCode.OPENED]
    assert audit_verify().ok
