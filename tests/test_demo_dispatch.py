"""`kt1 load_demo`: bags, mail trips and delivery rounds in every state (kt1/demo/dispatch.py), with
incidents and their records, an open bag transfer for the driver, custody in exactly one holder and
the audit chain intact.

The demo loads once for the module with a short item history (KT1_DEMO_HISTORY_DAYS=3) in an outer
transaction rolled back at the end, as tests/test_demo_items.py does."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max, Q
from django.test.utils import override_settings

from kt1.accounts.models import User
from kt1.audit.models import AuditEntry
from kt1.audit.services import audit_verify
from kt1.core.clock import LOCAL_TZ, now
from kt1.core.errors import ValidationFailed
from kt1.demo.items import history_plan, local
from kt1.dispatch import services as d
from kt1.dispatch.choices import BagStatus, RoundResult, RoundStatus, TransferStatus, TripStatus
from kt1.dispatch.models import (
    Bag,
    BagEvent,
    BagTransfer,
    DeliveryRound,
    DeliveryRoute,
    MailRoute,
    MailTrip,
    RoundRule,
    SecrecyMixRule,
    Vehicle,
    VehicleTrip,
)
from kt1.dispatch.selectors import round_coverage, transfers_waiting_for
from kt1.incidents.models import Incident
from kt1.items.models import CustodyEvent, Item

DAYS = 3


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_dispatch(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(KT1_DEMO=True, KT1_DEMO_HISTORY_DAYS=DAYS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            started = time.perf_counter()
            load()
            seconds = time.perf_counter() - started
            print(f"\nload_demo with {DAYS} days of items and the dispatch scenario: {seconds:.1f} s, "
                  f"{Bag.objects.count()} bags, {MailTrip.objects.count()} mail trips, "
                  f"{DeliveryRound.objects.count()} rounds")
            yield seconds
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(demo_dispatch, db):
    with override_settings(KT1_DEMO=True, KT1_DEMO_HISTORY_DAYS=DAYS):
        yield demo_dispatch


def user(username: str) -> User:
    return User.objects.get(username=username)


def test_reference_data(demo):
    assert SecrecyMixRule.objects.count() == 1  # the history's; not made twice
    assert SecrecyMixRule.objects.get().groups == [["A"], ["B", "C"], ["none"]]
    rules = dict(RoundRule.objects.values_list("unit_level", "min_rounds_per_day"))
    assert rules == {"ward": 2, "province": 2, "commune": 1, "special_zone": 1}
    assert set(RoundRule.objects.values_list("legal_basis", flat=True)) == {"QĐ 37/2021/QĐ-TTg (mẫu trình diễn)"}
    routes = {r.code: r for r in MailRoute.objects.select_related("origin", "destination")}
    assert set(routes) == {"KTVC-YS", "KTVC-HG", "YS-KTVC"}
    assert routes["KTVC-YS"].origin.postcode == "22100" == routes["YS-KTVC"].destination.postcode
    for route in routes.values():
        assert [(s.name, s.departs_at.strftime("%H:%M")) for s in route.shifts.order_by("departs_at")] == [
            ("Sáng", "07:00"), ("Chiều", "14:00")]
    assert sorted(Vehicle.objects.values_list("is_dedicated", flat=True)) == [False, True]
    assert set(DeliveryRoute.objects.values_list("facility__postcode", flat=True)) == {"22010", "22200"}


def test_bags_in_every_state(demo):
    statuses = set(Bag.objects.values_list("status", flat=True))
    assert statuses == set(BagStatus.values), statuses
    # The open bag has items; the cancelled one gave its letter back; sealed bags hold theirs.
    open_bag = Bag.objects.get(status=BagStatus.OPEN)
    assert open_bag.lines.filter(removed_at__isnull=True).count() == 2
    cancelled = Bag.objects.get(status=BagStatus.CANCELLED)
    assert not cancelled.lines.filter(removed_at__isnull=True).exists()
    for bag in Bag.objects.filter(status__in=[BagStatus.SEALED, BagStatus.IN_TRANSIT]):
        assert Item.objects.filter(holder_bag=bag).count() == bag.item_count > 0
    transit = Bag.objects.get(status=BagStatus.IN_TRANSIT)
    assert transit.holder.username == "demo.escort" and transit.trip.status == TripStatus.DEPARTED
    # Received bags: one with its seal checked, one with a seal mismatch; opened bags: one clean,
    # one with an item missing (which stays in the bag's custody).
    received = Bag.objects.filter(status=BagStatus.RECEIVED)
    assert sorted(received.values_list("seal_intact", flat=True)) == [False, True]
    opened = Bag.objects.filter(status=BagStatus.OPENED)
    assert opened.count() == 2
    short = opened.get(incidents__kind="missing_item")
    assert Item.objects.filter(holder_bag=short).count() == 1
    clean = opened.exclude(pk=short.pk).get()
    assert not Item.objects.filter(holder_bag=clean).exists() and clean.holder is None
    assert BagEvent.objects.filter(code="received").count() >= 4


def test_incidents_with_records(demo):
    mismatch = Incident.objects.get(kind="seal_mismatch")
    record = mismatch.records.get()
    assert not record.fully_confirmed  # the escort, present, has not confirmed yet
    assert record.confirmations.filter(person__username="demo.escort", confirmed_at__isnull=True).exists()
    missing = Incident.objects.get(kind="missing_item")
    assert missing.records.exists() and missing.item is not None
    assert missing.item.holder_bag_id == missing.bag_id


def test_trips_in_every_state(demo):
    trips = {t.status: t for t in MailTrip.objects.select_related("vehicle_trip__vehicle")}
    assert {TripStatus.PLANNED, TripStatus.DEPARTED, TripStatus.ARRIVED} <= set(trips)
    for status in (TripStatus.DEPARTED, TripStatus.ARRIVED):
        vt = trips[status].vehicle_trip
        assert (vt.driver.username, vt.escort.username, vt.vehicle.is_dedicated) == ("demo.driver", "demo.escort", False)
    assert trips[TripStatus.ARRIVED].bags.count() == 4
    planned = trips[TripStatus.PLANNED]
    assert planned.vehicle_trip is not None and planned.bags.count() == 1
    assert VehicleTrip.objects.count() == 3
    # The planned trip cannot leave: the crew has not taken its bag.
    with pytest.raises(ValidationFailed) as exc:
        d.mail_trip_depart(actor=user("demo.driver"), trip=planned)
    assert exc.value.code == "not_holder"


def test_open_transfer_waits_for_the_driver(demo):
    driver = user("demo.driver")
    waiting = transfers_waiting_for(viewer=driver)
    assert waiting.count() == 1
    transfer = waiting.get()
    assert transfer.giver.username == "demo.operator" and transfer.mail_trip.status == TripStatus.PLANNED
    assert BagTransfer.objects.filter(status=TransferStatus.COMPLETED).count() >= 3
    # Taking it lets the trip leave.
    d.transfer_complete(actor=driver, transfer=transfer)
    d.mail_trip_depart(actor=driver, trip=transfer.mail_trip)


def test_rounds_in_every_state_and_coverage(demo):
    plan = history_plan(now(), DAYS)
    rounds = DeliveryRound.objects.filter(service_date=plan.last_day)
    assert set(rounds.values_list("status", flat=True)) == set(RoundStatus.values)
    done = rounds.get(status=RoundStatus.COMPLETED, route__code="TT-01")
    results = set(done.lines.values_list("result", flat=True))
    assert results == {RoundResult.DELIVERED, RoundResult.FAILED, RoundResult.NOT_ATTEMPTED}
    coverage = round_coverage(viewer=user("demo.supervisor"), day=plan.last_day)
    ok = {row.agency.admin_unit.code for row in coverage if row.done >= row.required}
    short = {row.agency.admin_unit.code for row in coverage if row.done < row.required}
    assert "08007" in ok and "08001" in short, (ok, short)


def test_custody_in_exactly_one_holder(demo):
    assert not Item.objects.filter(Q(holder__isnull=True, holder_bag__isnull=True)
                                   | Q(holder__isnull=False, holder_bag__isnull=False)).exists()


def test_audit_chain_and_moments(demo):
    result = audit_verify()
    assert result.ok, result
    assert result.checked == AuditEntry.objects.count()
    plan = history_plan(now(), DAYS)
    latest = max(AuditEntry.objects.aggregate(m=Max("occurred_at"))["m"],
                 CustodyEvent.objects.aggregate(m=Max("occurred_at"))["m"],
                 BagEvent.objects.aggregate(m=Max("occurred_at"))["m"])
    assert plan.cutoff < latest < min(local(plan.last_day, 16, 30), now())
    assert latest.astimezone(LOCAL_TZ).date() == plan.last_day


def test_second_run_adds_nothing(demo):
    before = (Bag.objects.count(), MailTrip.objects.count(), DeliveryRound.objects.count(), AuditEntry.objects.count())
    out = load()
    assert "Dữ liệu trình diễn đã có" in out
    assert (Bag.objects.count(), MailTrip.objects.count(), DeliveryRound.objects.count(),
            AuditEntry.objects.count()) == before


def test_load_time(demo):
    assert demo < 120
