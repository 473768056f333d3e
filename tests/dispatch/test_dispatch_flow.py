"""An item goes agency → post office → processing facility → commune post office → recipient
through two bags and a mail trip, with custody in exactly one holder at every moment; seal
mismatches and missing items become incidents with a written record."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.core.errors import ApplicationError, Conflict, ValidationFailed
from kt1.directory.choices import FacilityKind
from kt1.dispatch import services as d
from kt1.dispatch.choices import BagStatus
from kt1.incidents.models import Incident
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind, ItemStatus
from kt1.items.models import CustodyEvent, Item
from tests import factories as f

pytestmark = pytest.mark.django_db
SIG = "data:image/png;base64,iVBORw0KGgo="


@pytest.fixture
def net(world):
    w = world["A"]
    p = dict(w.people)
    admin = f.root_admin()
    city_office = f.facility(w.province, kind=FacilityKind.POST_OFFICE, parent=w.provincial_post, name="Bưu cục trung tâm")
    f.serials(city_office)
    p["counter_city"] = f.person("counter_clerk", facility=city_office)
    p["operator_commune"] = f.person("counter_clerk", facility=w.post_office)  # receives at the commune office
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency)
    for role in ("agency_clerk", "counter_city", "operator", "driver", "escort", "operator_commune", "postman",
                 "recipient_clerk", "counter_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    d.mix_rule_set(actor=admin, groups=[["A"], ["B", "C"], ["none"]], valid_from=local_today() - dt.timedelta(days=1))
    route = d.mail_route_create(actor=admin, code="R1", name="Khai thác → xã", origin=w.processing,
                                destination=w.post_office, shifts=[("Sáng", dt.time(7, 0)), ("Chiều", dt.time(14, 0))])
    truck = d.vehicle_create(actor=admin, registration="22A-00001", facility=w.processing, is_dedicated=False)
    return w, p, city_office, route, truck


def holders(item) -> tuple:
    item = Item.objects.get(pk=item.pk)
    return item.holder_id, item.holder_bag_id


def test_agency_to_recipient_through_two_bags_and_a_mail_trip(net):
    w, p, city, route, truck = net
    item = f.item(p["agency_clerk"], w.other_agency, secrecy=Secrecy.C)
    counter = svc.handover_create(actor=p["counter_city"], kind=HandoverKind.COUNTER, tracking_numbers=[item.tracking_number],
                                  giver=p["agency_clerk"], taker=p["counter_city"], giver_signature=SIG, giver_signed_name="VT")
    svc.handover_complete(actor=p["counter_city"], handover=counter)
    assert holders(item) == (p["counter_city"].pk, None)

    # Bag 1: city post office → processing facility, carried by the driver.
    bag1 = d.bag_create(actor=p["counter_city"], destination=w.processing)
    d.bag_add_item(actor=p["counter_city"], bag=bag1, tracking_number=item.tracking_number)
    with pytest.raises(ValidationFailed):  # an item in an open bag cannot change hands on its own
        svc.custody_record(actor=p["postman"], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.HANDOVER))
    bag1 = d.bag_seal(actor=p["counter_city"], bag=bag1, seal_number="KC-0001", last_in_dispatch=True)
    assert len(bag1.identifier) == 29 and bag1.identifier[19:20] and bag1.highest_secrecy == Secrecy.C
    assert holders(item) == (None, bag1.pk) and Item.objects.get(pk=item.pk).status == ItemStatus.IN_BAG
    t1 = d.transfer_create(actor=p["counter_city"], taker=p["driver"], bags=[bag1])
    d.transfer_complete(actor=p["driver"], transfer=t1)
    t2 = d.transfer_create(actor=p["driver"], taker=p["operator"], bags=[bag1])
    d.transfer_complete(actor=p["operator"], transfer=t2)
    d.bag_receive(actor=p["operator"], bag=bag1, seal_number_read="kc-0001", seal_intact=True)
    d.bag_open_scan(actor=p["operator"], bag=bag1, tracking_number=item.tracking_number)
    bag1 = d.bag_open_finish(actor=p["operator"], bag=bag1)
    assert bag1.status == BagStatus.OPENED and holders(item) == (p["operator"].pk, None)

    # Bag 2: processing → commune post office on a mail trip in a vehicle trip with an escort.
    bag2 = d.bag_create(actor=p["operator"], destination=w.post_office)
    d.bag_add_item(actor=p["operator"], bag=bag2, tracking_number=item.tracking_number)
    with pytest.raises(ValidationFailed) as exc:  # seal number of a bag still in use? bag1 is opened: free again
        d.bag_seal(actor=p["operator"], bag=bag2, seal_number="")
    assert exc.value.detail.get("seal_number")
    d.bag_seal(actor=p["operator"], bag=bag2, seal_number="KC-0001")  # bag 1 is opened: the number is free
    trip = d.mail_trip_create(actor=p["operator"], route=route, shift=route.shifts.first(), service_date=local_today(),
                              bags=[bag2])
    with pytest.raises(ValidationFailed) as exc:
        d.vehicle_trip_create(actor=p["operator"], vehicle=truck, driver=p["driver"], service_date=local_today())
    assert exc.value.code == "escort_required"
    d.vehicle_trip_create(actor=p["operator"], vehicle=truck, driver=p["driver"], escort=p["escort"],
                          service_date=local_today(), mail_trips=[trip])
    with pytest.raises(ValidationFailed):  # the crew has not taken the bag yet
        d.mail_trip_depart(actor=p["driver"], trip=trip)
    t3 = d.transfer_create(actor=p["operator"], taker=p["escort"], bags=[bag2], mail_trip=trip)
    d.transfer_complete(actor=p["escort"], transfer=t3)
    d.mail_trip_depart(actor=p["driver"], trip=trip)
    d.mail_trip_arrive(actor=p["escort"], trip=trip)
    t4 = d.transfer_create(actor=p["escort"], taker=p["operator_commune"], bags=[bag2])
    d.transfer_complete(actor=p["operator_commune"], transfer=t4)
    d.bag_receive(actor=p["operator_commune"], bag=bag2, seal_number_read="KC-0001", seal_intact=True)
    d.bag_open_scan(actor=p["operator_commune"], bag=bag2, tracking_number=item.tracking_number)
    d.bag_open_finish(actor=p["operator_commune"], bag=bag2)

    # Delivery by the commune postman.
    svc.custody_record(actor=p["postman"], request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.HANDOVER))
    svc.custody_record(actor=p["postman"], request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.OUT_FOR_DELIVERY))
    delivery = svc.handover_create(actor=p["postman"], kind=HandoverKind.DELIVERY, tracking_numbers=[item.tracking_number],
                                   giver=p["postman"], taker=p["recipient_clerk"])
    svc.handover_complete(actor=p["postman"], handover=delivery, taker_signature=SIG, taker_signed_name="Người nhận")
    item = Item.objects.get(pk=item.pk)
    assert item.status == ItemStatus.DELIVERED and item.holder == p["recipient_clerk"]

    codes = list(CustodyEvent.objects.filter(item=item).order_by("seq").values_list("code", flat=True))
    assert codes == ["KREG", "EMA", "KBAG", "KOUT", "KBAG", "KOUT", "KHOV", "EDG", "EMI"]
    assert not Incident.objects.exists()
    assert audit_verify().ok


def _sealed_bag(w, p, items, seal="KC-0100"):
    bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    for it in items:
        d.bag_add_item(actor=p["operator"], bag=bag, tracking_number=it.tracking_number)
    return d.bag_seal(actor=p["operator"], bag=bag, seal_number=seal)


def _accepted_by(p, w, holder, n=1, secrecy=Secrecy.NONE):
    out = []
    for _ in range(n):
        it = f.item(p["agency_clerk"], w.other_agency, secrecy=secrecy)
        svc.custody_record(actor=holder, request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=it.tracking_number, code=EventCode.ACCEPTED))
        out.append(it)
    return out


def test_seal_mismatch_and_missing_item_become_incidents_with_records(net):
    w, p, city, route, truck = net
    f.cleared(p["operator"], Secrecy.B, police=p["police"])
    a, b = _accepted_by(p, w, p["counter_clerk"], 2)
    for it in (a, b):
        svc.custody_record(actor=p["operator"], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=it.tracking_number, code=EventCode.HANDOVER))
    bag = _sealed_bag(w, p, [a, b])
    t = d.transfer_create(actor=p["operator"], taker=p["operator_commune"], bags=[bag])
    d.transfer_complete(actor=p["operator_commune"], transfer=t)
    d.bag_receive(actor=p["operator_commune"], bag=bag, seal_number_read="KC-9999", seal_intact=True,
                  present=[p["postman"]])
    incident = Incident.objects.get(kind="seal_mismatch")
    record = incident.records.get()
    assert not record.fully_confirmed  # the postman present has not confirmed yet
    from kt1.incidents.services import record_confirm

    record_confirm(actor=p["postman"], record=record)
    assert record.fully_confirmed
    d.bag_open_scan(actor=p["operator_commune"], bag=bag, tracking_number=a.tracking_number)
    extra = _accepted_by(p, w, p["counter_clerk"], 1)[0]
    assert d.bag_open_scan(actor=p["operator_commune"], bag=bag, tracking_number=extra.tracking_number) is None
    with pytest.raises(ValidationFailed):
        d.bag_open_scan(actor=p["operator_commune"], bag=bag, tracking_number=a.tracking_number)
    d.bag_open_finish(actor=p["operator_commune"], bag=bag)
    kinds = sorted(Incident.objects.values_list("kind", flat=True))
    assert kinds == ["extra_item", "missing_item", "seal_mismatch"]
    missing = Incident.objects.get(kind="missing_item")
    assert missing.item == b and holders(b) == (None, bag.pk)  # never silently dropped
    assert holders(a) == (p["operator_commune"].pk, None)
    assert audit_verify().ok


def test_bad_input_is_refused(net):
    w, p, city, route, truck = net
    a, b = _accepted_by(p, w, p["counter_clerk"], 2)
    secret = _accepted_by(p, w, p["counter_clerk"], 1, secrecy=Secrecy.B)[0]
    for it in (a, b, secret):
        svc.custody_record(actor=p["operator"], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=it.tracking_number, code=EventCode.HANDOVER))
    empty = d.bag_create(actor=p["operator"], destination=w.post_office)
    with pytest.raises(ValidationFailed) as exc:
        d.bag_seal(actor=p["operator"], bag=empty, seal_number="KC-1")
    assert exc.value.code == "empty_bag"
    bag = _sealed_bag(w, p, [a], seal="KC-7")
    other = d.bag_create(actor=p["operator"], destination=w.post_office)
    d.bag_add_item(actor=p["operator"], bag=other, tracking_number=b.tracking_number)
    with pytest.raises(ValidationFailed) as exc:  # the seal of a bag still in use
        d.bag_seal(actor=p["operator"], bag=other, seal_number="KC-7")
    assert exc.value.code == "seal_in_use"
    with pytest.raises(ValidationFailed) as exc:  # secrecy B may not share with plain mail
        d.bag_add_item(actor=p["operator"], bag=other, tracking_number=secret.tracking_number)
    assert exc.value.code == "secrecy_mix"
    not_mine = _accepted_by(p, w, p["counter_clerk"], 1)[0]
    with pytest.raises(ValidationFailed) as exc:  # adding an item you don't hold
        d.bag_add_item(actor=p["operator"], bag=other, tracking_number=not_mine.tracking_number)
    assert exc.value.code == "not_holder"
    with pytest.raises(ApplicationError):  # an item is in at most one open bag
        third = d.bag_create(actor=p["operator"], destination=w.post_office)
        d.bag_add_item(actor=p["operator"], bag=third, tracking_number=b.tracking_number)
    # Receiving a bag at the wrong facility.
    t = d.transfer_create(actor=p["operator"], taker=p["counter_city"], bags=[bag])
    d.transfer_complete(actor=p["counter_city"], transfer=t)
    with pytest.raises(ValidationFailed) as exc:
        d.bag_receive(actor=p["counter_city"], bag=bag, seal_number_read="KC-7", seal_intact=True)
    assert exc.value.code == "wrong_facility"
    with pytest.raises(Conflict):
        d.bag_open_scan(actor=p["counter_city"], bag=bag, tracking_number=a.tracking_number)
    # An unvetted taker cannot take a bag.
    with pytest.raises(ValidationFailed) as exc:
        d.transfer_create(actor=p["counter_city"], taker=p["supervisor"], bags=[bag])
    assert exc.value.code == "taker_not_cleared"
