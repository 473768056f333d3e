"""The trip and round pages, browserless: planning a mail trip with sealed bags, a vehicle trip (an
escort is required on a non-dedicated vehicle), the crew's departure and arrival, a delivery round
started and completed with a result per item, the round-coverage check, and the administrators'
configuration pages; each refusal leaves things as they were."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse

from kt1.audit.models import AuditEntry
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.dispatch import services as d
from kt1.dispatch.choices import RoundResult, RoundStatus, TripStatus
from kt1.dispatch.models import (
    Bag,
    DeliveryRoute,
    MailRoute,
    MailTrip,
    RoundRule,
    SecrecyMixRule,
    Vehicle,
    VehicleTrip,
)
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind, ItemStatus
from kt1.items.models import Item
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db
SIG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture
def net(world):
    w = world["A"]
    p = w.people
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency, full_name="Văn thư nhận")
    for role in ("agency_clerk", "counter_clerk", "operator", "driver", "escort", "postman", "supervisor",
                 "recipient_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    admin = f.root_admin()
    d.mix_rule_set(actor=admin, groups=[["A"], ["B", "C"], ["none"]], valid_from=local_today() - dt.timedelta(days=1))
    w.route = d.mail_route_create(actor=admin, code="R1", name="Khai thác → xã", origin=w.processing,
                                  destination=w.post_office, shifts=[("Sáng", dt.time(7, 0)), ("Chiều", dt.time(14, 0))])
    w.truck = d.vehicle_create(actor=admin, registration="22A-00001", facility=w.processing, is_dedicated=False)
    w.van = d.vehicle_create(actor=admin, registration="22A-00002", facility=w.processing, is_dedicated=True)
    return w


def ev(actor, item, code, **kw):
    return svc.custody_record(actor=actor, request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=code, **kw))


def items_held_by(w, holder, n=1, weight_g=120, sender="agency_clerk", recipient=None):
    """Items accepted at the counter and handed to `holder` (through the custody services)."""
    p = w.people
    out = []
    for _ in range(n):
        item = f.item(p[sender], recipient or w.other_agency, weight_g=weight_g)
        ev(p["counter_clerk"], item, EventCode.ACCEPTED)
        if holder != p["counter_clerk"]:
            ev(holder, item, EventCode.HANDOVER)
        out.append(item)
    return out


def sealed_bag(w, items, seal):
    op = w.people["operator"]
    bag = d.bag_create(actor=op, destination=w.post_office)
    for item in items:
        d.bag_add_item(actor=op, bag=bag, tracking_number=item.tracking_number)
    return d.bag_seal(actor=op, bag=bag, seal_number=seal)


def audit(action):
    return AuditEntry.objects.filter(action=action).count()


def text(response) -> str:
    return response.content.decode()


# --- mail trips ------------------------------------------------------------------------------------


def test_plan_a_trip_with_bags_then_load_another(net, c):
    w, p = net, net.people
    b1 = sealed_bag(w, items_held_by(w, p["operator"], 2), "KC-1")
    b2 = sealed_bag(w, items_held_by(w, p["operator"], 1), "KC-2")
    page = c("operator").get(reverse("dispatch:trip_new"))
    assert page.status_code == 200 and "R1" in text(page)
    url = reverse("dispatch:trip_new") + f"?route={w.route.pk}"
    page = c("operator").get(url)
    assert b1.identifier in text(page) and b2.identifier in text(page)
    morning = w.route.shifts.get(name="Sáng")
    r = c("operator").post(url, {"shift": morning.pk, "service_date": local_today().isoformat(), "bags": [b1.pk]})
    assert r.status_code == 302, text(r)
    trip = MailTrip.objects.get()
    assert r.url == reverse("dispatch:trip_detail", args=[trip.pk])
    assert list(trip.bags.all()) == [Bag.objects.get(pk=b1.pk)] and audit("mail_trip.created") == 1

    # The same shift twice on one day is refused on the form, nothing created.
    r = c("operator").post(url, {"shift": morning.pk, "service_date": local_today().isoformat(), "bags": [b2.pk]})
    assert r.status_code == 200 and "Đã có chuyến thư cho ca này trong ngày." in text(r)
    assert MailTrip.objects.count() == 1 and Bag.objects.get(pk=b2.pk).trip_id is None

    detail = c("operator").get(reverse("dispatch:trip_detail", args=[trip.pk]))
    body = text(detail)
    assert b1.identifier in body and "Chuyến thư chưa được xếp lên chuyến xe." in body
    assert b2.identifier in body  # offered in the load form
    r = c("operator").post(reverse("dispatch:trip_load", args=[trip.pk]), {"bags": [b2.pk]})
    assert r.status_code == 302
    assert set(trip.bags.values_list("pk", flat=True)) == {b1.pk, b2.pk}

    listing = c("driver").get(reverse("dispatch:trip_list"))
    assert listing.status_code == 200 and trip.number in text(listing)
    assert c("driver").get(reverse("dispatch:trip_list") + "?status=arrived").context["page"].paginator.count == 0


def test_trip_refusals_leave_nothing_behind(net, c, world):
    p = net.people
    # A driver may look at trips, not plan them; an agency clerk does not see dispatch at all.
    assert c("driver").get(reverse("dispatch:trip_new")).status_code == 404
    clerk = verified_client(p["agency_clerk"])
    for name in ("dispatch:trip_list", "dispatch:trip_new", "dispatch:vehicle_trip_list", "dispatch:round_list",
                 "dispatch:round_new", "dispatch:coverage", "dispatch:volume_report", "dispatch:config"):
        assert clerk.get(reverse(name)).status_code == 404, name
    # A route of another province is not offered and cannot be forced.
    other = world["B"]
    route_b = d.mail_route_create(actor=f.root_admin(), code="RB", name="B", origin=other.processing,
                                  destination=other.post_office, shifts=[("Sáng", dt.time(7, 0))])
    r = c("operator").get(reverse("dispatch:trip_new") + f"?route={route_b.pk}")
    assert r.status_code == 200 and r.context["route"] is None
    trip_b = d.mail_trip_create(actor=other.people["operator"], route=route_b, shift=route_b.shifts.get(),
                                service_date=local_today())
    assert c("supervisor").get(reverse("dispatch:trip_detail", args=[trip_b.pk])).status_code == 404
    assert c("operator").post(reverse("dispatch:trip_load", args=[trip_b.pk]), {}).status_code == 404
    assert c("driver").post(reverse("dispatch:trip_depart", args=[trip_b.pk])).status_code == 404


def test_vehicle_trip_needs_an_escort_on_a_non_dedicated_vehicle(net, c):
    w, p = net, net.people
    trip = d.mail_trip_create(actor=p["operator"], route=w.route, shift=w.route.shifts.first(), service_date=local_today())
    page = c("operator").get(reverse("dispatch:vehicle_trip_new") + f"?trip={trip.pk}")
    assert page.status_code == 200 and trip.number in text(page)
    data = {"vehicle": w.truck.pk, "driver": p["driver"].pk, "escort": "", "service_date": local_today().isoformat(),
            "mail_trips": [trip.pk]}
    before = audit("vehicle_trip.created")
    r = c("operator").post(reverse("dispatch:vehicle_trip_new"), data)
    assert r.status_code == 200
    assert "không phải xe chuyên dùng KT1: phải có người áp tải" in text(r)
    assert r.context["form"].errors["escort"]
    assert not VehicleTrip.objects.exists() and audit("vehicle_trip.created") == before

    r = c("operator").post(reverse("dispatch:vehicle_trip_new"), {**data, "escort": p["escort"].pk})
    assert r.status_code == 302 and r.url == reverse("dispatch:trip_detail", args=[trip.pk])
    vt = VehicleTrip.objects.get()
    assert (vt.vehicle, vt.driver, vt.escort) == (w.truck, p["driver"], p["escort"])
    assert MailTrip.objects.get(pk=trip.pk).vehicle_trip == vt and audit("vehicle_trip.created") == before + 1

    # A dedicated KT1 vehicle runs without an escort.
    evening = d.mail_trip_create(actor=p["operator"], route=w.route, shift=w.route.shifts.last(),
                                 service_date=local_today())
    r = c("operator").post(reverse("dispatch:vehicle_trip_new"), {
        **data, "vehicle": w.van.pk, "mail_trips": [evening.pk]})
    assert r.status_code == 302 and MailTrip.objects.get(pk=evening.pk).vehicle_trip.escort is None
    listing = c("escort").get(reverse("dispatch:vehicle_trip_list"))
    assert listing.status_code == 200 and vt.number in text(listing) and "22A-00002" in text(listing)


def test_crew_departs_once_they_hold_the_bags_and_arrives(net, c):
    w, p = net, net.people
    bag = sealed_bag(w, items_held_by(w, p["operator"], 2), "KC-9")
    trip = d.mail_trip_create(actor=p["operator"], route=w.route, shift=w.route.shifts.first(), service_date=local_today(),
                              bags=[bag])
    d.vehicle_trip_create(actor=p["operator"], vehicle=w.truck, driver=p["driver"], escort=p["escort"],
                          service_date=local_today(), mail_trips=[trip])
    detail = reverse("dispatch:trip_detail", args=[trip.pk])
    page = c("driver").get(detail)
    assert "Tổ lái chưa nhận túi" in text(page) and page.context["can_depart"]
    if page.context["transfer_url"] is not None:  # the bag-transfer page of the bags area, when installed
        assert page.context["transfer_url"].startswith(reverse("dispatch:transfer_new"))

    # Departure refused with the service's reason; nothing moved.
    before = audit("mail_trip.departed")
    r = c("driver").post(reverse("dispatch:trip_depart", args=[trip.pk]), follow=True)
    assert r.status_code == 200 and "Tổ lái chưa nhận túi" in text(r)
    assert MailTrip.objects.get(pk=trip.pk).status == TripStatus.PLANNED and audit("mail_trip.departed") == before

    # Only the crew: the operator has no carrying right (404), another driver is not on this trip (403).
    assert c("operator").post(reverse("dispatch:trip_depart", args=[trip.pk])).status_code == 404
    stranger = f.person("driver", facility=w.processing)
    assert verified_client(stranger).post(reverse("dispatch:trip_depart", args=[trip.pk])).status_code == 403

    transfer = d.transfer_create(actor=p["operator"], taker=p["escort"], bags=[bag], mail_trip=trip)
    d.transfer_complete(actor=p["escort"], transfer=transfer)
    assert not c("driver").get(detail).context["blockers"]
    r = c("driver").post(reverse("dispatch:trip_depart", args=[trip.pk]))
    assert r.status_code == 302
    trip.refresh_from_db()
    assert trip.status == TripStatus.DEPARTED and audit("mail_trip.departed") == before + 1
    assert Bag.objects.get(pk=bag.pk).status == "in_transit"
    page = c("escort").get(detail)
    assert page.context["can_arrive"] and not page.context["can_depart"]
    r = c("escort").post(reverse("dispatch:trip_arrive", args=[trip.pk]))
    assert r.status_code == 302
    trip.refresh_from_db()
    assert trip.status == TripStatus.ARRIVED and audit("mail_trip.arrived") == 1
    assert Bag.objects.get(pk=bag.pk).facility == w.post_office
    # Arriving twice is an illegal transition: a 409 page, nothing recorded.
    assert c("escort").post(reverse("dispatch:trip_arrive", args=[trip.pk])).status_code == 409
    assert audit("mail_trip.arrived") == 1


# --- delivery rounds -------------------------------------------------------------------------------


@pytest.fixture
def beat(net):
    return d.delivery_route_create(actor=f.root_admin(), code="TP1", name="Tuyến xã", facility=net.post_office,
                                   admin_units=[net.commune])


def test_round_started_and_completed_with_a_result_per_item(net, c, beat):
    w, p = net, net.people
    delivered, failed, kept = items_held_by(w, p["postman"], 3)
    elsewhere = items_held_by(w, p["postman"], 1, sender="recipient_clerk", recipient=w.agency)[0]  # the agency is not on this route
    setup = reverse("dispatch:round_new") + f"?route={beat.pk}&postman={p['postman'].pk}"
    page = c("postman").get(setup)
    assert page.status_code == 200
    offered = {i.tracking_number for i in page.context["candidates"]}
    assert offered == {delivered.tracking_number, failed.tracking_number, kept.tracking_number}

    # An item outside the route's area is refused by the service: nothing created.
    r = c("postman").post(setup, {"service_date": local_today().isoformat(), "items": [delivered.tracking_number],
                                  "scanned": elsewhere.tracking_number})
    assert r.status_code == 200 and "không thuộc địa bàn tuyến TP1" in text(r)
    assert not beat.rounds.exists()

    r = c("postman").post(setup, {"service_date": local_today().isoformat(),
                                  "items": [delivered.tracking_number, failed.tracking_number, kept.tracking_number]})
    assert r.status_code == 302, text(r)
    rnd = beat.rounds.get()
    assert rnd.lines.count() == 3 and audit("delivery_round.created") == 1
    detail = reverse("dispatch:round_detail", args=[rnd.pk])
    page = c("postman").get(detail)
    assert page.context["can_start"]
    assert reverse("items:item_detail", args=[delivered.tracking_number]) in text(page)

    # Only the round's postman starts it (a counter clerk sees it: 403; a driver: 404).
    assert c("counter_clerk").post(reverse("dispatch:round_start", args=[rnd.pk])).status_code == 403
    assert c("driver").post(reverse("dispatch:round_start", args=[rnd.pk])).status_code == 404
    r = c("postman").post(reverse("dispatch:round_start", args=[rnd.pk]))
    assert r.status_code == 302
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.OUT and audit("delivery_round.started") == 1
    assert set(Item.objects.filter(round_lines__round=rnd).values_list("status", flat=True)) == {
        ItemStatus.OUT_FOR_DELIVERY}

    handover = svc.handover_create(actor=p["postman"], kind=HandoverKind.DELIVERY,
                                   tracking_numbers=[delivered.tracking_number], giver=p["postman"],
                                   taker=p["recipient_clerk"])
    svc.handover_complete(actor=p["postman"], handover=handover, taker_signature=SIG, taker_signed_name="Văn thư nhận")
    ev(p["postman"], failed, EventCode.DELIVERY_FAILED, reason_code="ABSENT")

    r = c("postman").post(reverse("dispatch:round_complete", args=[rnd.pk]))
    assert r.status_code == 302
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.COMPLETED and audit("delivery_round.completed") == 1
    results = dict(rnd.lines.values_list("item__tracking_number", "result"))
    assert results == {delivered.tracking_number: RoundResult.DELIVERED, failed.tracking_number: RoundResult.FAILED,
                       kept.tracking_number: RoundResult.NOT_ATTEMPTED}
    page = c("supervisor").get(detail)
    assert page.context["results"] == {"delivered": 1, "failed": 1, "not_attempted": 1}
    assert 'data-result="failed"' in text(page)
    listing = c("supervisor").get(reverse("dispatch:round_list") + "?status=completed")
    assert rnd.number in text(listing)


def test_round_pages_stay_in_the_province(net, c, world):
    other = world["B"]
    beat_b = d.delivery_route_create(actor=f.root_admin(), code="TPB", name="B", facility=other.post_office,
                                     admin_units=[other.commune])
    rnd = d.round_create(actor=other.people["counter_clerk"], route=beat_b, postman=other.people["postman"],
                         service_date=local_today())
    for role in ("supervisor", "postman", "oversight"):
        assert c(role).get(reverse("dispatch:round_detail", args=[rnd.pk])).status_code == 404
    assert c("postman").post(reverse("dispatch:round_start", args=[rnd.pk])).status_code == 404
    page = c("counter_clerk").get(reverse("dispatch:round_new") + f"?route={beat_b.pk}&postman={net.people['postman'].pk}")
    assert page.context["form"] is None
    assert rnd.number not in text(c("supervisor").get(reverse("dispatch:round_list")))


def _completed_rounds(w, route, n):
    p = w.people
    for _ in range(n):
        rnd = d.round_create(actor=p["counter_clerk"], route=route, postman=p["postman"], service_date=local_today())
        d.round_start(actor=p["postman"], rnd=rnd)
        d.round_complete(actor=p["postman"], rnd=rnd)


def test_coverage_shows_a_shortfall_then_ok(net, c, beat):
    w = net
    admin = f.root_admin()
    since = local_today() - dt.timedelta(days=30)
    d.round_rule_set(actor=admin, unit_level="commune", min_rounds_per_day=1, legal_basis="QĐ 37/2021 — thử",
                     valid_from=since)
    d.round_rule_set(actor=admin, unit_level="province", min_rounds_per_day=2, legal_basis="QĐ 37/2021 — tỉnh",
                     valid_from=since)
    town = d.delivery_route_create(actor=admin, code="TP2", name="Tuyến tỉnh", facility=w.post_office,
                                   admin_units=[w.province])
    url = reverse("dispatch:coverage")
    page = c("oversight").get(url)
    assert page.status_code == 200
    assert (page.context["n_ok"], page.context["n_short"]) == (0, 2)
    assert "QĐ 37/2021 — thử" in text(page) and "QĐ 37/2021 — tỉnh" in text(page)

    _completed_rounds(w, beat, 1)
    _completed_rounds(w, town, 1)
    page = c("oversight").get(url)
    assert (page.context["n_ok"], page.context["n_short"]) == (1, 1)
    short = [r for r in page.context["rows"] if not r.ok]
    assert [r.agency for r in short] == [w.agency] and (short[0].done, short[0].required) == (1, 2)

    _completed_rounds(w, town, 1)
    page = c("supervisor").get(url)
    assert (page.context["n_ok"], page.context["n_short"]) == (2, 0)
    # The next day starts again from nothing; the day before, the routes did not exist yet.
    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()
    assert c("supervisor").get(url + f"?day={tomorrow}").context["n_short"] == 2
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat()
    assert c("supervisor").get(url + f"?day={yesterday}").context["rows"] == []


# --- configuration ---------------------------------------------------------------------------------


def test_administrator_configures_dispatch_reference_data(world):
    w = world["A"]
    admin = verified_client(w.people["admin"])
    assert admin.get(reverse("dispatch:config")).status_code == 200
    for name in ("dispatch:route_new", "dispatch:vehicle_new", "dispatch:delivery_route_new", "dispatch:mix_rule_new",
                 "dispatch:round_rule_new"):
        assert admin.get(reverse(name)).status_code == 200, name
        assert verified_client(w.people["supervisor"]).get(reverse(name)).status_code == 404

    r = admin.post(reverse("dispatch:route_new"), {"code": "r9", "name": "Khai thác → bưu cục", "origin": w.processing.pk,
                                                   "destination": w.post_office.pk, "shifts": "Sáng 07:00\nChiều 14h30"})
    assert r.status_code == 302, r.content.decode()
    route = MailRoute.objects.get(code="R9")
    assert [(s.name, s.departs_at) for s in route.shifts.order_by("departs_at")] == [
        ("Sáng", dt.time(7, 0)), ("Chiều", dt.time(14, 30))]
    assert audit("mail_route.created") == 1
    r = admin.post(reverse("dispatch:route_new"), {"code": "R10", "name": "x", "origin": w.processing.pk,
                                                   "destination": w.post_office.pk, "shifts": "Sáng bảy giờ"})
    assert r.status_code == 200 and r.context["form"].errors["shifts"] and not MailRoute.objects.filter(code="R10").exists()

    r = admin.post(reverse("dispatch:vehicle_new"), {"registration": "22b-12345", "facility": w.processing.pk,
                                                     "description": "Xe tải nhỏ"})
    assert r.status_code == 302 and not Vehicle.objects.get(registration="22B-12345").is_dedicated
    r = admin.post(reverse("dispatch:vehicle_new"), {"registration": "22B-12345", "facility": w.processing.pk})
    assert r.status_code == 200 and "Biển số trống hoặc đã có." in r.content.decode()

    r = admin.post(reverse("dispatch:delivery_route_new"), {"code": "tp7", "name": "Tuyến 7", "facility": w.post_office.pk,
                                                            "admin_units": [w.commune.pk]})
    assert r.status_code == 302 and list(DeliveryRoute.objects.get(code="TP7").admin_units.all()) == [w.commune]

    r = admin.post(reverse("dispatch:mix_rule_new"), {"groups": "A | B", "valid_from": local_today().isoformat()})
    assert r.status_code == 200 and "Mỗi độ mật phải thuộc đúng một nhóm." in r.content.decode()
    assert not SecrecyMixRule.objects.exists()
    r = admin.post(reverse("dispatch:mix_rule_new"), {"groups": "A | B, C | none", "legal_basis": "Luật 117/2025",
                                                      "valid_from": local_today().isoformat()})
    assert r.status_code == 302 and SecrecyMixRule.objects.get().groups == [["A"], ["B", "C"], ["none"]]
    assert audit("bag_mix_rule.set") == 1

    r = admin.post(reverse("dispatch:round_rule_new"), {"unit_level": "commune", "min_rounds_per_day": 1,
                                                        "legal_basis": "QĐ 32/2025", "valid_from": local_today().isoformat()})
    assert r.status_code == 302 and RoundRule.objects.get().min_rounds_per_day == 1

    page = admin.get(reverse("dispatch:config"))
    body = page.content.decode()
    for expected in ("R9", "Chiều (14:30)", "22B-12345", "TP7", "A | B+C | none", "Luật 117/2025", "QĐ 32/2025"):
        assert expected in body, expected
