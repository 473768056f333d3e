"""Dispatch API v1: a bag's whole life (open, fill, seal, load on a mail trip, hand to the crew,
depart, arrive, hand to the receiving office, receive, open scan by scan, finish), discrepancies
recorded as incidents with their numbers in a successful answer, refusals with stable codes,
delivery rounds and their coverage, trip volumes, incidents and their records, scope (out of scope
answers exactly like unknown) and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from contextlib import redirect_stderr

import pytest
from django.urls import reverse

from kt1.audit.models import AuditEntry
from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.directory.choices import UnitLevel
from kt1.dispatch import services as d
from kt1.dispatch.choices import BagStatus
from kt1.dispatch.models import Bag, BagEvent, BagTransfer, DeliveryRound, MailTrip
from kt1.incidents.models import Incident
from kt1.items import s10
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind, ItemStatus
from kt1.items.models import CustodyEvent, Item
from tests import factories as f
from tests.helpers import api_client

pytestmark = pytest.mark.django_db
SIG = "data:image/png;base64,iVBORw0KGgo="
HANDLERS = ("agency_clerk", "counter_clerk", "postman", "operator", "driver", "escort", "supervisor")


class Net:
    """Province A with its dispatch reference data and one API client per person (a client's token
    is replaced when another is issued, so each person gets exactly one)."""

    def __init__(self, world):
        self.w = world["A"]
        self.p = dict(self.w.people)
        self.admin = f.root_admin()
        for role in HANDLERS:
            f.cleared(self.p[role], Secrecy.B, police=self.p["police"])
        d.mix_rule_set(actor=self.admin, groups=[["A"], ["B", "C"], ["none"]],
                       valid_from=local_today() - dt.timedelta(days=1))
        self.route = d.mail_route_create(actor=self.admin, code="R1", name="Khai thác → xã", origin=self.w.processing,
                                         destination=self.w.post_office,
                                         shifts=[("Sáng", dt.time(7, 0)), ("Chiều", dt.time(14, 0))])
        self.truck = d.vehicle_create(actor=self.admin, registration="22A-00001", facility=self.w.processing,
                                      is_dedicated=False)
        self._clients: dict[int, object] = {}

    def api(self, who):
        user = self.p[who] if isinstance(who, str) else who
        if user.pk not in self._clients:
            self._clients[user.pk] = api_client(user)
        return self._clients[user.pk]

    def held_by_operator(self, n: int = 1, secrecy: str = Secrecy.NONE) -> list[Item]:
        """Items accepted at the commune counter and handed to the processing operator."""
        out = []
        for _ in range(n):
            item = f.item(self.p["agency_clerk"], self.w.other_agency, secrecy=secrecy)
            for actor, code in ((self.p["counter_clerk"], EventCode.ACCEPTED), (self.p["operator"], EventCode.HANDOVER)):
                svc.custody_record(actor=actor, request=svc.CustodyRequest(
                    event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=code))
            out.append(item)
        return out

    def sealed_bag(self, items, seal: str) -> dict:
        operator = self.api("operator")
        bag = operator.post(reverse("api:bag_list"), {"destination": self.w.post_office.pk}, format="json").json()
        for item in items:
            assert post(operator, "api:bag_items", bag["id"], tracking_number=item.tracking_number).status_code == 201
        sealed = post(operator, "api:bag_seal", bag["id"], seal_number=seal)
        assert sealed.status_code == 200, sealed.json()
        return sealed.json()

    def hand_over(self, bag_ids: list[int], giver: str, taker: str, **extra) -> dict:
        created = self.api(giver).post(reverse("api:transfer_list"), {"taker": self.p[taker].pk, "bags": bag_ids, **extra},
                                       format="json")
        assert created.status_code == 201, created.json()
        confirmed = post(self.api(taker), "api:transfer_confirm", created.json()["id"])
        assert confirmed.status_code == 200, confirmed.json()
        return confirmed.json()


@pytest.fixture
def net(world):
    return Net(world)


def url(name: str, pk: int | None = None, **kwargs) -> str:
    return reverse(name, kwargs={"pk": pk, **kwargs} if pk is not None else kwargs or None)


def post(client, name: str, pk: int | None = None, url_kwargs: dict | None = None, **body):
    return client.post(url(name, pk, **(url_kwargs or {})), body, format="json")


def holders(item) -> tuple:
    item = Item.objects.get(pk=item.pk)
    return item.holder_id, item.holder_bag_id


def wrong_check_digit(number: str) -> str:
    return number[:10] + str((int(number[10]) + 1) % 10) + number[11:]


# --- a bag's whole life ------------------------------------------------------------------------------


def test_a_bag_from_opening_to_opening_through_the_api(net):
    w, p = net.w, net.p
    a, b = net.held_by_operator(2)
    operator = net.api("operator")

    created = operator.post(reverse("api:bag_list"), {"destination": w.post_office.pk}, format="json")
    assert created.status_code == 201, created.json()
    bag = created.json()
    assert created["Location"] == url("api:bag_detail", bag["id"])
    assert bag["status"] == BagStatus.OPEN and bag["origin"]["id"] == w.processing.pk and bag["holder"]["id"] == p["operator"].pk
    assert len(bag["identifier"]) == 29 and bag["dispatch_id"] == bag["identifier"][:20]
    bag_id = bag["id"]

    added = post(operator, "api:bag_items", bag_id, tracking_number=a.tracking_number.lower())  # typed, normalised
    assert added.status_code == 201, added.json()
    assert added.json()["line"]["tracking_number"] == a.tracking_number and added.json()["items_in_bag"] == 1
    assert post(operator, "api:bag_items", bag_id, tracking_number=b.tracking_number).json()["items_in_bag"] == 2
    removed = post(operator, "api:bag_item_remove", bag_id, url_kwargs={"tracking_number": b.tracking_number})
    assert removed.status_code == 200 and removed.json()["removed_at"]
    assert post(operator, "api:bag_items", bag_id, tracking_number=b.tracking_number).status_code == 201
    assert holders(a) == (p["operator"].pk, None)  # custody moves only at sealing

    sealed = post(operator, "api:bag_seal", bag_id, seal_number="kc-0001", last_in_dispatch=True)
    assert sealed.status_code == 200, sealed.json()
    sealed = sealed.json()
    assert sealed["status"] == BagStatus.SEALED and sealed["seal_number"] == "KC-0001"
    assert sealed["item_count"] == 2 and sealed["weight_g"] == a.weight_g + b.weight_g
    assert sealed["identifier"][:20] == bag["identifier"][:20] and sealed["identifier"][23] == "1"  # last bag
    assert holders(a) == holders(b) == (None, bag_id)

    # A mail trip on the route, on a vehicle trip; the truck is not a dedicated KT1 vehicle.
    trip = operator.post(reverse("api:mail_trip_list"), {
        "route": net.route.pk, "shift": net.route.shifts.first().pk, "service_date": local_today().isoformat(),
        "bags": [bag_id]}, format="json")
    assert trip.status_code == 201, trip.json()
    trip = trip.json()
    assert [x["id"] for x in trip["bags"]] == [bag_id] and trip["status"] == "planned"
    vt_body = {"vehicle": net.truck.pk, "driver": p["driver"].pk, "service_date": local_today().isoformat(),
               "mail_trips": [trip["id"]]}
    no_escort = operator.post(reverse("api:vehicle_trip_list"), vt_body, format="json")
    assert no_escort.status_code == 400 and no_escort.json()["code"] == "escort_required"
    assert "escort" in no_escort.json()["detail"]
    vt = operator.post(reverse("api:vehicle_trip_list"), {**vt_body, "escort": p["escort"].pk}, format="json")
    assert vt.status_code == 201, vt.json()
    assert vt.json()["mail_trips"] == [{"id": trip["id"], "number": trip["number"]}]

    # The crew cannot leave without the bag; the operator lists it, the escort confirms in their session.
    too_soon = post(net.api("driver"), "api:mail_trip_depart", trip["id"])
    assert too_soon.status_code == 400 and too_soon.json()["code"] == "not_holder"
    transfer = operator.post(reverse("api:transfer_list"), {"taker": p["escort"].pk, "bags": [bag_id],
                                                           "mail_trip": trip["id"]}, format="json")
    assert transfer.status_code == 201, transfer.json()
    transfer = transfer.json()
    assert transfer["status"] == "open" and transfer["bags"] == [{"id": bag_id, "identifier": sealed["identifier"]}]
    waiting = net.api("escort").get(reverse("api:transfer_list")).json()
    assert [t["number"] for t in waiting["results"]] == [transfer["number"]]
    assert Bag.objects.get(pk=bag_id).holder == p["operator"]  # nothing moves before the taker confirms
    assert post(operator, "api:transfer_confirm", transfer["id"]).status_code == 403  # the giver cannot confirm
    confirmed = post(net.api("escort"), "api:transfer_confirm", transfer["id"])
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "completed"
    assert Bag.objects.get(pk=bag_id).holder == p["escort"]
    assert post(net.api("escort"), "api:transfer_confirm", transfer["id"]).status_code == 409

    departed = post(net.api("driver"), "api:mail_trip_depart", trip["id"])
    assert departed.status_code == 200 and departed.json()["status"] == "departed"
    assert departed.json()["bags"][0]["status"] == BagStatus.IN_TRANSIT
    assert post(net.api("driver"), "api:mail_trip_depart", trip["id"]).status_code == 409
    arrived = post(net.api("escort"), "api:mail_trip_arrive", trip["id"])
    assert arrived.status_code == 200 and arrived.json()["status"] == "arrived"

    # The commune office takes the bag from the crew; until it is received, the receiving side
    # is not told the seal number it has to read off the seal.
    receiver = net.api("counter_clerk")
    travelling = receiver.get(url("api:bag_detail", bag_id)).json()
    assert travelling["seal_number"] is None
    assert all("seal_number" not in e["data"] for e in travelling["events"])
    assert "KC-0001" not in json.dumps(travelling)
    assert net.api("escort").get(url("api:bag_detail", bag_id)).json()["seal_number"] == "KC-0001"
    net.hand_over([bag_id], "escort", "counter_clerk")

    received = post(receiver, "api:bag_receive", bag_id, seal_number="KC-0001", seal_intact=True)
    assert received.status_code == 200, received.json()
    body = received.json()
    assert body["seal_matches"] is True and body["incidents"] == []
    assert body["bag"]["status"] == BagStatus.RECEIVED and body["bag"]["seal_number"] == "KC-0001"
    assert body["counts"] == {"listed": 2, "scanned": 0, "remaining": 2, "damaged": 0, "extra": 0}

    first = post(receiver, "api:bag_scan", bag_id, tracking_number=a.tracking_number)
    assert first.status_code == 200, first.json()
    assert first.json()["listed"] is True and first.json()["extra"] is False and first.json()["incidents"] == []
    assert first.json()["line"]["scanned_at"] and first.json()["counts"]["remaining"] == 1
    assert holders(a) == holders(b) == (None, bag_id)  # scanned: custody moves when the opening is finished
    again = post(receiver, "api:bag_scan", bag_id, tracking_number=a.tracking_number)
    assert again.status_code == 400 and again.json()["code"] == "already_scanned"
    second = post(receiver, "api:bag_scan", bag_id, tracking_number=b.tracking_number)
    assert second.json()["counts"] == {"listed": 2, "scanned": 2, "remaining": 0, "damaged": 0, "extra": 0}

    finished = post(receiver, "api:bag_open_finish", bag_id)
    assert finished.status_code == 200, finished.json()
    body = finished.json()
    assert body["bag"]["status"] == BagStatus.OPENED and body["missing"] == [] and body["incidents"] == []
    assert body["bag"]["holder"] is None
    assert post(receiver, "api:bag_open_finish", bag_id).status_code == 409
    late = post(receiver, "api:bag_scan", bag_id, tracking_number=a.tracking_number)
    assert late.status_code == 409 and late.json()["code"] == "illegal_transition"

    detail = receiver.get(url("api:bag_detail", bag_id)).json()
    assert [e["code"] for e in detail["events"]] == [
        "created", "item_added", "item_added", "item_removed", "item_added", "sealed", "handed_over", "departed",
        "arrived", "handed_over", "received", "opened"]
    opened = detail["events"][-1]["data"]
    assert sorted(opened["handed_over"]) == sorted([a.tracking_number, b.tracking_number]) and opened["missing"] == []
    assert {line["tracking_number"] for line in detail["lines"]} == {a.tracking_number, b.tracking_number}
    assert all(line["scanned_at"] for line in detail["lines"])
    for item in (a, b):
        assert holders(item) == (p["counter_clerk"].pk, None)
        codes = list(CustodyEvent.objects.filter(item=item).order_by("seq").values_list("code", flat=True))
        assert codes == ["KREG", "EMA", "KHOV", "KBAG", "KOUT"]
    assert AuditEntry.objects.filter(action="bag.event", object_id=str(bag_id)).count() == 12
    for action in ("bag_transfer.created", "bag_transfer.completed", "mail_trip.created", "vehicle_trip.created",
                   "mail_trip.departed", "mail_trip.arrived"):
        assert AuditEntry.objects.filter(action=action).exists(), action
    assert not Incident.objects.exists()
    assert audit_verify().ok

    # Reads of what was built: the trip, the lists, the volumes report.
    trip_detail = net.api("supervisor").get(url("api:mail_trip_detail", trip["id"])).json()
    assert trip_detail["vehicle_trip"]["escort"]["id"] == p["escort"].pk and trip_detail["status"] == "arrived"
    out = net.api("supervisor").get(reverse("api:bag_list"), {"facility": w.processing.pk, "direction": "out"}).json()
    assert [row["id"] for row in out["results"]] == [bag_id]
    assert operator.get(reverse("api:bag_list"), {"direction": "in"}).json()["count"] == 0  # the operator's own facility
    assert operator.get(reverse("api:bag_list"), {"q": a.tracking_number}).json()["count"] == 1
    assert operator.get(reverse("api:bag_list"), {"status": "opened"}).json()["count"] == 1
    assert operator.get(reverse("api:bag_list"), {"status": "lost"}).status_code == 400
    assert net.api("oversight").get(reverse("api:bag_list"), {"direction": "in"}).status_code == 400  # no facility
    assert net.api("police").get(reverse("api:mail_trip_list"), {"facility": w.post_office.pk}).json()["count"] == 1
    volumes = net.api("supervisor").get(reverse("api:trip_volumes"), {
        "facility": w.post_office.pk, "group": "shift", "date_from": local_today().isoformat()})
    assert volumes.status_code == 200, volumes.json()
    assert volumes.json()["rows"] == [{
        "facility": {"id": w.post_office.pk, "postcode": w.post_office.postcode, "name": w.post_office.name},
        "period": local_today().isoformat(), "shift": "Sáng", "direction": "in", "trips": 1, "bags": 1, "items": 2,
        "weight_g": a.weight_g + b.weight_g}]
    everywhere = net.api("oversight").get(reverse("api:trip_volumes"), {"group": "month"}).json()
    assert {(r["facility"]["id"], r["direction"]) for r in everywhere["rows"]} == {
        (w.processing.pk, "out"), (w.post_office.pk, "in")}
    assert operator.get(reverse("api:trip_volumes")).status_code == 404  # no report permission
    assert net.api("supervisor").get(reverse("api:trip_volumes"), {"group": "week"}).status_code == 400
    reversed_dates = net.api("supervisor").get(reverse("api:trip_volumes"), {"date_from": "2026-02-01",
                                                                             "date_to": "2026-01-01"})
    assert reversed_dates.status_code == 400 and "date_from" in reversed_dates.json()["detail"]


# --- discrepancies are recorded, not refused ------------------------------------------------------------


def _to_commune_office(net, items, seal: str) -> int:
    """A bag sealed at processing and handed straight to the commune counter clerk."""
    bag = net.sealed_bag(items, seal)
    net.hand_over([bag["id"]], "operator", "counter_clerk")
    return bag["id"]


def test_seal_mismatch_extra_damaged_and_missing_items_answer_200_with_their_incidents(net):
    p = net.p
    a, b, c = net.held_by_operator(3)
    extra = net.held_by_operator(1)[0]
    bag_id = _to_commune_office(net, [a, b, c], "KC-0100")
    receiver = net.api("counter_clerk")
    before_items = (CustodyEvent.objects.count(), Item.objects.count())

    received = post(receiver, "api:bag_receive", bag_id, seal_number="KC-9999", seal_intact=False,
                    present=[p["postman"].pk])
    assert received.status_code == 200, received.json()
    body = received.json()
    assert body["seal_matches"] is False and body["bag"]["status"] == BagStatus.RECEIVED
    assert body["bag"]["seal_intact"] is False
    assert sorted(i["kind"] for i in body["incidents"]) == ["seal_broken", "seal_mismatch"]
    assert all(i["number"].startswith("SC") for i in body["incidents"])
    assert (CustodyEvent.objects.count(), Item.objects.count()) == before_items  # nothing moved, nothing lost

    scan = post(receiver, "api:bag_scan", bag_id, tracking_number=a.tracking_number)
    assert scan.json()["incidents"] == []
    damaged = post(receiver, "api:bag_scan", bag_id, tracking_number=b.tracking_number, damaged=True)
    assert damaged.status_code == 200 and damaged.json()["listed"] is True
    assert [(i["kind"], i["tracking_number"]) for i in damaged.json()["incidents"]] == [("damaged_item", b.tracking_number)]
    stranger = post(receiver, "api:bag_scan", bag_id, tracking_number=extra.tracking_number)
    assert stranger.status_code == 200, stranger.json()
    assert stranger.json()["listed"] is False and stranger.json()["extra"] is True and stranger.json()["line"] is None
    assert [(i["kind"], i["tracking_number"]) for i in stranger.json()["incidents"]] == [("extra_item", extra.tracking_number)]
    assert stranger.json()["counts"] == {"listed": 3, "scanned": 2, "remaining": 1, "damaged": 1, "extra": 1}
    assert holders(extra) == (p["operator"].pk, None)  # an extra scan takes nothing from anyone

    finished = post(receiver, "api:bag_open_finish", bag_id, present=[p["postman"].pk])
    assert finished.status_code == 200, finished.json()
    body = finished.json()
    assert body["missing"] == [c.tracking_number]
    assert [(i["kind"], i["tracking_number"]) for i in body["opened_now"]] == [("missing_item", c.tracking_number)]
    assert sorted(i["kind"] for i in body["incidents"]) == [
        "damaged_item", "extra_item", "missing_item", "seal_broken", "seal_mismatch"]
    assert holders(c) == (None, bag_id)  # never silently dropped
    numbers = {i["number"] for i in body["incidents"]}
    assert numbers == set(Incident.objects.filter(bag_id=bag_id).values_list("number", flat=True))

    # The incidents and their written records, confirmed by those present in their own session.
    listed = net.api("police").get(reverse("api:incident_list"), {"bag": bag_id}).json()
    assert listed["count"] == 5
    assert net.api("police").get(reverse("api:incident_list"), {"kind": "missing_item"}).json()["count"] == 1
    assert net.api("police").get(reverse("api:incident_list"), {"q": c.tracking_number}).json()["count"] == 1
    mismatch = Incident.objects.get(kind="seal_mismatch")
    detail = net.api("supervisor").get(url("api:incident_detail", mismatch.pk))
    assert detail.status_code == 200
    record = detail.json()["records"][0]
    assert record["fully_confirmed"] is False and "KC-9999" in record["text"]
    assert {(c_["person"]["id"], c_["confirmed_at"] is not None) for c_ in record["confirmations"]} == {
        (p["counter_clerk"].pk, True), (p["postman"].pk, False)}
    assert post(net.api("driver"), "api:record_confirm", record["id"]).status_code == 403  # not present
    confirmed = post(net.api("postman"), "api:record_confirm", record["id"])
    assert confirmed.status_code == 200 and confirmed.json()["fully_confirmed"] is True
    assert AuditEntry.objects.filter(action="incident_record.confirmed", object_id=str(record["id"])).exists()
    assert post(net.api("postman"), "api:record_confirm", record["id"]).status_code == 409
    assert audit_verify().ok


# --- a handheld's batch of scans, and undoing a scan ----------------------------------------------------------


def test_a_batch_of_scans_answers_each_scan_in_the_order_sent(net):
    p = net.p
    a, b, c, d_ = net.held_by_operator(4)
    extra = net.held_by_operator(1)[0]
    bag_id = _to_commune_office(net, [a, b, c, d_], "KC-0300")
    receiver = net.api("counter_clerk")
    assert post(receiver, "api:bag_receive", bag_id, seal_number="KC-0300", seal_intact=True).status_code == 200
    scans = [{"tracking_number": a.tracking_number}, {"tracking_number": wrong_check_digit(b.tracking_number)},
             {"tracking_number": extra.tracking_number}, {"tracking_number": b.tracking_number, "damaged": True},
             {"tracking_number": a.tracking_number.lower(), "damaged": False}, "RB1", {"damaged": "có"},
             {"tracking_number": c.tracking_number}]
    answer = post(receiver, "api:bag_scans", bag_id, scans=scans, present=[p["postman"].pk])
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert [(r["index"], r["status"], r["code"]) for r in body["results"]] == [
        (0, "scanned", None), (1, "refused", "invalid_check_digit"), (2, "extra", None), (3, "scanned", None),
        (4, "refused", "already_scanned"), (5, "refused", "invalid"), (6, "refused", "invalid"), (7, "scanned", None)]
    assert body["results"][3]["damaged"] is True and body["results"][0]["damaged"] is False
    assert body["results"][4]["message"] == f"Bưu gửi {a.tracking_number} đã được quét."
    assert body["results"][4]["tracking_number"] == a.tracking_number
    assert body["results"][4]["detail"] == {"tracking_number": "Đã quét"}
    assert "tracking_number" in body["results"][6]["detail"]
    assert (body["scanned"], body["extra"], body["refused"]) == (3, 1, 4)
    assert sorted((i["kind"], i["tracking_number"]) for i in body["incidents"]) == [
        ("damaged_item", b.tracking_number), ("extra_item", extra.tracking_number)]
    assert body["counts"] == {"listed": 4, "scanned": 3, "remaining": 1, "damaged": 1, "extra": 1}
    assert holders(a) == (None, bag_id) and holders(extra) == (p["operator"].pk, None)

    # Undo a scan (a reason is required), then scan it again; the finish hands over what is scanned.
    refused = post(receiver, "api:bag_unscan", bag_id, tracking_number=c.tracking_number, reason="")
    assert refused.status_code == 400 and "reason" in refused.json()["detail"]
    refused = post(receiver, "api:bag_unscan", bag_id, tracking_number=d_.tracking_number, reason="Nhầm")
    assert refused.status_code == 400 and refused.json()["code"] == "not_scanned"
    undone = post(receiver, "api:bag_unscan", bag_id, tracking_number=c.tracking_number, reason="Quét nhầm")
    assert undone.status_code == 200, undone.json()
    assert undone.json()["line"]["scanned_at"] is None and undone.json()["counts"]["scanned"] == 2
    assert BagEvent.objects.get(bag_id=bag_id, code="item_unscanned").data["reason"] == "Quét nhầm"
    again = post(receiver, "api:bag_scans", bag_id, scans=[{"tracking_number": c.tracking_number},
                                                          {"tracking_number": d_.tracking_number}])
    assert [r["status"] for r in again.json()["results"]] == ["scanned", "scanned"]
    assert post(receiver, "api:bag_open_finish", bag_id).json()["missing"] == []
    assert all(holders(i) == (p["counter_clerk"].pk, None) for i in (a, b, c, d_))

    # Opened: the whole batch is refused, as a single scan is; so is an undo.
    late = post(receiver, "api:bag_scans", bag_id, scans=[{"tracking_number": a.tracking_number}])
    assert late.status_code == 409 and late.json()["code"] == "illegal_transition"
    late = post(receiver, "api:bag_unscan", bag_id, tracking_number=a.tracking_number, reason="Muộn")
    assert late.status_code == 409
    for bad in ({"scans": []}, {"scans": "x"}, {"scans": [{"tracking_number": a.tracking_number}] * 1001}, {}):
        answer = receiver.post(url("api:bag_scans", bag_id), bad, format="json")
        assert answer.status_code == 400 and "scans" in answer.json()["detail"], bad
    assert audit_verify().ok


# --- refusals -----------------------------------------------------------------------------------------------


def test_bad_input_is_refused_with_stable_codes_and_changes_nothing(net, world):
    w, p = net.w, net.p
    a, b, secret = net.held_by_operator(2) + net.held_by_operator(1, secrecy=Secrecy.B)
    not_mine = f.item(p["agency_clerk"], w.other_agency)
    operator = net.api("operator")
    in_use = net.sealed_bag([a], "KC-7")

    empty = operator.post(reverse("api:bag_list"), {"destination": w.post_office.pk}, format="json").json()
    before = (AuditEntry.objects.count(), CustodyEvent.objects.count())

    def refused(response, status: int, code: str, field: str | None = None):
        body = response.json()
        assert response.status_code == status, body
        assert set(body) == {"code", "message", "detail"} and body["code"] == code, body
        assert body["message"]
        if field:
            assert field in body["detail"], body
        return body

    refused(post(operator, "api:bag_seal", empty["id"], seal_number="KC-1"), 400, "empty_bag")
    assert post(operator, "api:bag_items", empty["id"], tracking_number=b.tracking_number).status_code == 201
    before = (AuditEntry.objects.count(), CustodyEvent.objects.count())
    body = refused(post(operator, "api:bag_seal", empty["id"], seal_number="kc-7"), 400, "seal_in_use", "seal_number")
    assert in_use["identifier"] in body["message"]
    refused(post(operator, "api:bag_seal", empty["id"]), 400, "invalid", "seal_number")
    refused(post(operator, "api:bag_items", empty["id"], tracking_number=not_mine.tracking_number), 400, "not_holder")
    refused(post(operator, "api:bag_items", empty["id"], tracking_number=secret.tracking_number), 400, "secrecy_mix")
    refused(post(operator, "api:bag_items", in_use["id"], tracking_number=b.tracking_number), 409, "bag_not_open")
    refused(post(operator, "api:bag_items", empty["id"], tracking_number=wrong_check_digit(b.tracking_number)), 400,
            "invalid_check_digit", "tracking_number")
    refused(post(operator, "api:bag_items", empty["id"], tracking_number=s10.build("KT", 99_999_998)), 404,
            "item_not_found")
    refused(post(operator, "api:bag_items", empty["id"]), 400, "invalid", "tracking_number")
    refused(post(operator, "api:bag_item_remove", empty["id"], url_kwargs={"tracking_number": a.tracking_number}), 400,
            "not_in_bag")
    refused(post(operator, "api:bag_scan", in_use["id"], tracking_number=a.tracking_number), 409, "illegal_transition")
    refused(operator.post(reverse("api:bag_list"), {"destination": w.processing.pk}, format="json"), 400, "invalid",
            "destination")
    refused(operator.post(reverse("api:bag_list"), {"destination": world["B"].post_office.pk}, format="json"), 400,
            "invalid", "destination")
    refused(operator.post(reverse("api:bag_list"), {"destination": "xa"}, format="json"), 400, "invalid", "destination")
    refused(operator.post(reverse("api:transfer_list"), {"taker": world["B"].people["driver"].pk, "bags": [in_use["id"]]},
                          format="json"), 400, "invalid", "taker")
    refused(operator.post(reverse("api:transfer_list"), {"taker": p["supervisor"].pk, "bags": [empty["id"]]},
                          format="json"), 409, "illegal_transition")
    refused(operator.post(reverse("api:transfer_list"), {"taker": p["finance"].pk, "bags": [in_use["id"]]},
                          format="json"), 400, "taker_not_allowed")
    refused(operator.post(reverse("api:mail_trip_list"), {
        "route": net.route.pk, "shift": 999_999, "service_date": local_today().isoformat()}, format="json"), 400, "invalid",
        "shift")
    assert (AuditEntry.objects.count(), CustodyEvent.objects.count()) == before
    assert Bag.objects.get(pk=empty["id"]).status == BagStatus.OPEN and holders(b) == (p["operator"].pk, None)

    # Receiving at the wrong facility: the bag travels to the commune office, the city counter has it.
    city = f.facility(w.province, parent=w.provincial_post)
    city_clerk = f.cleared(f.person("counter_clerk", facility=city), Secrecy.B, police=p["police"])
    net.p["city_clerk"] = city_clerk
    net.hand_over([in_use["id"]], "operator", "city_clerk")
    net.api("counter_clerk")  # issuing a token is audited: before counting
    before = (AuditEntry.objects.count(), CustodyEvent.objects.count())
    refused(post(net.api(city_clerk), "api:bag_receive", in_use["id"], seal_number="KC-7", seal_intact=True), 400,
            "wrong_facility")
    refused(post(net.api(city_clerk), "api:bag_receive", in_use["id"], seal_number="KC-7"), 400, "invalid",
            "seal_intact")
    # The right office, but the bag is still in the city clerk's hands.
    refused(post(net.api("counter_clerk"), "api:bag_receive", in_use["id"], seal_number="KC-7", seal_intact=True), 400,
            "not_holder")
    assert (AuditEntry.objects.count(), CustodyEvent.objects.count()) == before
    assert Bag.objects.get(pk=in_use["id"]).status == BagStatus.SEALED and not Incident.objects.exists()


# --- scope ------------------------------------------------------------------------------------------------


def test_out_of_scope_answers_exactly_like_unknown(net, world):
    a = net.held_by_operator(1)[0]
    bag = net.sealed_bag([a], "KC-55")
    theirs = world["B"].people
    missing_pk = 999_999
    for role in ("operator", "counter_clerk", "supervisor", "police", "oversight", "admin"):
        client = api_client(theirs[role])
        for name in ("api:bag_detail", "api:bag_seal", "api:bag_items", "api:bag_receive", "api:bag_scan",
                     "api:bag_scans", "api:bag_unscan", "api:bag_open_finish"):
            before = AuditEntry.objects.count()
            body = {"seal_number": "X", "tracking_number": a.tracking_number, "seal_intact": True, "reason": "X",
                    "scans": [{"tracking_number": a.tracking_number}]}
            if name == "api:bag_detail":
                foreign, unknown = client.get(url(name, bag["id"])), client.get(url(name, missing_pk))
            else:
                foreign, unknown = post(client, name, bag["id"], **body), post(client, name, missing_pk, **body)
            assert foreign.status_code == unknown.status_code == 404, (role, name, foreign.json())
            assert foreign.json() == unknown.json(), (role, name)
            assert AuditEntry.objects.count() == before
        listed = client.get(reverse("api:bag_list")).json()
        assert bag["id"] not in [row["id"] for row in listed["results"]]
    assert Bag.objects.get(pk=bag["id"]).status == BagStatus.SEALED and holders(a) == (None, bag["id"])
    # Agency clerks and finance have no dispatch reads at all.
    for role in ("agency_clerk", "finance"):
        assert net.api(role).get(reverse("api:bag_list")).status_code == 404
        assert net.api(role).get(reverse("api:incident_list")).status_code == 404


COLLECTIONS = {  # URL name -> roles for whom an empty body is a validation error (the others: 403, or 404)
    "api:bag_list": {"counter_clerk", "operator", "supervisor"},
    "api:transfer_list": {"counter_clerk", "operator", "driver", "escort", "supervisor"},
    "api:mail_trip_list": {"operator", "supervisor"},
    "api:vehicle_trip_list": {"operator", "supervisor"},
    "api:round_list": {"counter_clerk", "postman", "supervisor"},
}
NO_DISPATCH = {"agency_clerk", "finance"}


def test_posts_on_collection_urls_as_every_role(world):
    """The permission suite runs GET on these names; this runs their POST the same way."""
    ours = world["A"]
    for role, user in ours.people.items():
        client = api_client(user)
        before = (AuditEntry.objects.count(), Bag.objects.count(), BagTransfer.objects.count(),
                  MailTrip.objects.count(), DeliveryRound.objects.count())
        for name, permitted in COLLECTIONS.items():
            response = client.post(reverse(name), {}, format="json")
            expected = 400 if role in permitted else 404 if role in NO_DISPATCH else 403
            assert response.status_code == expected, (role, name, response.json())
            assert set(response.json()) == {"code", "message", "detail"}
        after = (AuditEntry.objects.count(), Bag.objects.count(), BagTransfer.objects.count(),
                 MailTrip.objects.count(), DeliveryRound.objects.count())
        assert after == before, role


# --- delivery rounds -----------------------------------------------------------------------------------


def test_a_delivery_round_and_the_daily_coverage(net):
    w, p = net.w, net.p
    route = d.delivery_route_create(actor=net.admin, code="TP1", name="Tuyến xã", facility=w.post_office,
                                    admin_units=[w.commune])
    for level, n in ((UnitLevel.COMMUNE, 1), (UnitLevel.PROVINCE, 2)):
        d.round_rule_set(actor=net.admin, unit_level=level, min_rounds_per_day=n, legal_basis="QĐ thử",
                         valid_from=local_today() - dt.timedelta(days=10))
    one, two = (f.item(p["agency_clerk"], w.other_agency) for _ in range(2))
    for item in (one, two):
        svc.custody_record(actor=p["postman"], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.ACCEPTED))
    recipient = f.cleared(f.person("agency_clerk", agency=w.other_agency), police=p["police"])
    counter = net.api("counter_clerk")
    body = {"route": route.pk, "postman": p["postman"].pk, "service_date": local_today().isoformat(),
            "tracking_numbers": [one.tracking_number, two.tracking_number]}
    not_held = counter.post(reverse("api:round_list"), {**body, "postman": p["supervisor"].pk}, format="json")
    assert not_held.status_code == 400 and "postman" in not_held.json()["detail"]
    created = counter.post(reverse("api:round_list"), body, format="json")
    assert created.status_code == 201, created.json()
    rnd = created.json()
    assert rnd["status"] == "planned" and [x["tracking_number"] for x in rnd["lines"]] == [one.tracking_number,
                                                                                           two.tracking_number]
    assert post(counter, "api:round_start", rnd["id"]).status_code == 403  # only the round's postman
    started = post(net.api("postman"), "api:round_start", rnd["id"])
    assert started.status_code == 200 and started.json()["status"] == "out"
    assert {x["item_status"] for x in started.json()["lines"]} == {ItemStatus.OUT_FOR_DELIVERY}
    assert post(net.api("postman"), "api:round_start", rnd["id"]).status_code == 409

    delivery = svc.handover_create(actor=p["postman"], kind=HandoverKind.DELIVERY, tracking_numbers=[one.tracking_number],
                                   giver=p["postman"], taker=recipient)
    svc.handover_complete(actor=p["postman"], handover=delivery, taker_signature=SIG, taker_signed_name="Người nhận")
    before = net.api("oversight").get(reverse("api:round_coverage")).json()
    row = next(r for r in before["rows"] if r["agency"]["id"] == w.other_agency.pk)
    assert (row["required"], row["done"], row["ok"]) == (1, 0, False)
    completed = post(net.api("postman"), "api:round_complete", rnd["id"])
    assert completed.status_code == 200, completed.json()
    assert {x["tracking_number"]: x["result"] for x in completed.json()["lines"]} == {
        one.tracking_number: "delivered", two.tracking_number: "not_attempted"}
    assert AuditEntry.objects.filter(action="delivery_round.completed", object_id=str(rnd["id"])).exists()

    coverage = net.api("oversight").get(reverse("api:round_coverage"), {"date": local_today().isoformat()})
    assert coverage.status_code == 200
    row = next(r for r in coverage.json()["rows"] if r["agency"]["id"] == w.other_agency.pk)
    assert (row["unit_level"], row["required"], row["done"], row["ok"]) == (UnitLevel.COMMUNE, 1, 1, True)
    assert row["rule"]["legal_basis"] == "QĐ thử" and row["rule"]["min_rounds_per_day"] == 1
    assert coverage.json()["covered"] >= 1
    assert net.api("oversight").get(reverse("api:round_coverage"), {"date": "mai"}).status_code == 400
    mine = net.api("postman").get(reverse("api:round_list"), {"mine": "true"}).json()
    assert [r["number"] for r in mine["results"]] == [rnd["number"]]
    assert net.api("postman").get(url("api:round_detail", rnd["id"])).json()["status"] == "completed"


# --- the schema ---------------------------------------------------------------------------------------------


def test_schema_documents_the_dispatch_endpoints_and_validates():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    ours = [line for line in stderr.getvalue().splitlines() if "dispatch.py" in line]
    assert not ours, ours
    validate_schema(schema)
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/bags/"])
    for action in ("seal", "receive", "scan", "scans", "unscan", "open-finish", "items"):
        assert "post" in paths[f"/api/v1/bags/{{id}}/{action}/"], action
    assert "post" in paths["/api/v1/bags/{id}/items/{tracking_number}/remove/"]
    for path in ("/api/v1/bag-transfers/{id}/confirm/", "/api/v1/mail-trips/{id}/depart/",
                 "/api/v1/delivery-rounds/{id}/start/", "/api/v1/incident-records/{id}/confirm/"):
        assert set(paths[path]["post"]["responses"]) >= {"200", "403", "404", "409"}, path
    for path in ("/api/v1/delivery-rounds/coverage/", "/api/v1/reports/trip-volumes/", "/api/v1/incidents/{id}/",
                 "/api/v1/vehicle-trips/", "/api/v1/mail-trips/{id}/"):
        assert "get" in paths[path], path
    components = schema["components"]["schemas"]
    assert set(components["BagReceiveInput"]["properties"]) == {"seal_number", "seal_intact", "present"}
    assert {"listed", "extra", "counts", "incidents"} <= set(components["BagScanOutput"]["properties"])
    assert set(components["BagScanBatchInput"]["properties"]) == {"scans", "present"}
    assert components["BagScanBatchInput"]["properties"]["scans"]["items"] == {
        "$ref": "#/components/schemas/BagScanBatchEntry"}
    assert {"index", "tracking_number", "status", "code", "message"} <= set(
        components["BagScanBatchResult"]["properties"])
    assert set(components["BagUnscanInput"]["properties"]) == {"tracking_number", "reason"}
    assert {"lines", "events", "incidents"} <= set(components["BagDetail"]["properties"])
    assert "records" in components["IncidentDetail"]["properties"]
