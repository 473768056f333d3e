"""A whole item life through the services: registration, pickup, acceptance, internal handover,
delivery attempts, delivery, and a return, with custody in exactly one holder at every step."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from kt1.audit.models import AuditEntry
from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.core.clock import now
from kt1.core.errors import IdempotencyMismatch, NotFound, ValidationFailed
from kt1.core.transitions import IllegalTransition
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind, ItemStatus
from kt1.items.models import CustodyEvent, Item
from tests import factories as f

pytestmark = pytest.mark.django_db
SIG = "data:image/png;base64,iVBORw0KGgo="


@pytest.fixture
def a(world):
    w = world["A"]
    p = w.people
    recipient_clerk = f.person("agency_clerk", agency=w.other_agency, full_name="Văn thư nhận")
    for user in (p["agency_clerk"], p["counter_clerk"], p["postman"], p["operator"], recipient_clerk):
        f.cleared(user, Secrecy.B, police=p["police"])
    p["recipient_clerk"] = recipient_clerk
    return w


def ev(actor, item, code, **kw):
    return svc.custody_record(actor=actor, request=svc.CustodyRequest(
        event_uuid=kw.pop("event_uuid", uuid.uuid4()), tracking_number=item.tracking_number, code=code, **kw))


def refresh(item) -> Item:
    return Item.objects.get(pk=item.pk)


def test_whole_life_pickup_to_delivery(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.C, private={"registry_number": "123/UBND"})
    assert item.status == ItemStatus.REGISTERED and item.holder == p["agency_clerk"]
    assert item.tracking_number.endswith("VN") and len(item.tracking_number) == 13

    pickup = svc.pickup_request(actor=p["agency_clerk"], agency=a.agency, tracking_numbers=[item.tracking_number])
    svc.pickup_confirm(actor=p["counter_clerk"], pickup=pickup, postman=p["postman"])
    handover = svc.handover_create(actor=p["postman"], kind=HandoverKind.PICKUP, tracking_numbers=[item.tracking_number],
                                   giver=p["agency_clerk"], taker=p["postman"], giver_signature=SIG,
                                   giver_signed_name="Nguyễn Văn Thư")
    assert refresh(item).holder == p["agency_clerk"]  # nothing moves until the taker signs
    svc.handover_complete(actor=p["postman"], handover=handover)
    item = refresh(item)
    assert item.status == ItemStatus.ACCEPTED and item.holder == p["postman"] and item.accepted_at
    pickup.refresh_from_db()
    assert pickup.status == "collected"

    # Internal handover: postman gives to the operator, who signs in their own session.
    internal = svc.handover_create(actor=p["postman"], kind=HandoverKind.INTERNAL, tracking_numbers=[item.tracking_number],
                                   giver=p["postman"], taker=p["operator"])
    with pytest.raises(Exception):  # only the named taker may sign
        svc.handover_complete(actor=p["counter_clerk"], handover=internal)
    svc.handover_complete(actor=p["operator"], handover=internal)
    assert refresh(item).holder == p["operator"]
    ev(p["operator"], item, EventCode.INTO_SORTING, facility_id=a.processing.pk)
    assert refresh(item).facility == a.processing

    # The postman takes it back by recording the handover himself (the taker records it).
    ev(p["postman"], item, EventCode.HANDOVER)
    ev(p["postman"], item, EventCode.OUT_FOR_DELIVERY)
    ev(p["postman"], item, EventCode.DELIVERY_FAILED, reason_code="ABSENT")
    item = refresh(item)
    assert item.status == ItemStatus.DELIVERY_FAILED and item.first_attempt_at is not None
    ev(p["postman"], item, EventCode.OUT_FOR_DELIVERY)
    delivery = svc.handover_create(actor=p["postman"], kind=HandoverKind.DELIVERY, tracking_numbers=[item.tracking_number],
                                   giver=p["postman"], taker=p["recipient_clerk"])
    with pytest.raises(ValidationFailed):  # the recipient clerk must sign on screen
        svc.handover_complete(actor=p["postman"], handover=delivery)
    svc.handover_complete(actor=p["postman"], handover=delivery, taker_signature=SIG, taker_signed_name="Văn thư nhận")
    item = refresh(item)
    assert item.status == ItemStatus.DELIVERED and item.holder == p["recipient_clerk"] and item.delivered_at

    events = list(CustodyEvent.objects.filter(item=item).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.code for e in events] == ["KREG", "EMA", "KHOV", "EDD", "KHOV", "EDG", "EMH", "EDG", "EMI"]
    # Exactly one holder at every moment: each custody move starts from the previous taker.
    holder = events[0].taker_id
    for e in events[1:]:
        if e.taker_id and e.code in ("EMA", "KHOV", "EMI"):
            assert e.giver_id == holder
            holder = e.taker_id
    assert holder == p["recipient_clerk"].pk
    assert audit_verify().ok


def test_return_to_sender(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    counter = svc.handover_create(actor=p["counter_clerk"], kind=HandoverKind.COUNTER, tracking_numbers=[item.tracking_number],
                                  giver=p["agency_clerk"], taker=p["counter_clerk"], giver_signature=SIG,
                                  giver_signed_name="Văn thư gửi")
    svc.handover_complete(actor=p["counter_clerk"], handover=counter)
    ev(p["postman"], item, EventCode.HANDOVER)
    ev(p["postman"], item, EventCode.OUT_FOR_DELIVERY)
    ev(p["postman"], item, EventCode.DELIVERY_FAILED, reason_code="MOVED")
    assert CustodyEvent.objects.filter(item=item, code="EMH").get().next_action == "return"
    with pytest.raises(Exception):  # a postman does not decide a return
        ev(p["postman"], item, EventCode.RETURN_STARTED)
    ev(p["supervisor"], item, EventCode.RETURN_STARTED, note="Cơ quan nhận đã chuyển địa điểm")
    item = refresh(item)
    assert item.is_returning and item.status == ItemStatus.ACCEPTED
    with pytest.raises(ValidationFailed):  # a delivery list is not for returning items
        svc.handover_create(actor=p["postman"], kind=HandoverKind.DELIVERY, tracking_numbers=[item.tracking_number],
                            giver=p["postman"], taker=p["recipient_clerk"])
    ev(p["postman"], item, EventCode.OUT_FOR_DELIVERY)
    ret = svc.handover_create(actor=p["postman"], kind=HandoverKind.RETURN, tracking_numbers=[item.tracking_number],
                              giver=p["postman"], taker=p["agency_clerk"])
    svc.handover_complete(actor=p["postman"], handover=ret, taker_signature=SIG, taker_signed_name="Văn thư gửi")
    item = refresh(item)
    assert item.status == ItemStatus.RETURNED and item.holder == p["agency_clerk"]


def test_idempotent_retries_and_mismatch(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    key = uuid.uuid4()
    first = ev(p["counter_clerk"], item, EventCode.ACCEPTED, event_uuid=key, note="quầy 1")
    again = ev(p["counter_clerk"], item, EventCode.ACCEPTED, event_uuid=key, note="quầy 1")
    assert first.created and not again.created and again.event.pk == first.event.pk
    assert CustodyEvent.objects.filter(item=item, code="EMA").count() == 1
    with pytest.raises(IdempotencyMismatch):
        ev(p["counter_clerk"], item, EventCode.ACCEPTED, event_uuid=key, note="quầy 2")


def test_refusals_change_nothing_and_are_audited(a, world):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.A)
    plain = f.item(p["agency_clerk"], a.other_agency)
    ev(p["counter_clerk"], plain, EventCode.ACCEPTED)
    before = CustodyEvent.objects.count()
    # A counter clerk cleared only up to B may not take an A item.
    with pytest.raises(ValidationFailed) as exc:
        ev(p["counter_clerk"], item, EventCode.ACCEPTED)
    assert exc.value.code == "taker_not_cleared"
    # Handing over an item you don't hold.
    with pytest.raises(ValidationFailed) as exc:
        ev(p["postman"], plain, EventCode.OUT_FOR_DELIVERY)
    assert exc.value.code == "not_holder"
    # An illegal transition.
    with pytest.raises(IllegalTransition):
        ev(p["counter_clerk"], plain, EventCode.DELIVERY_FAILED, reason_code="ABSENT")
    # Another province's staff: the item does not exist for them.
    with pytest.raises(NotFound):
        ev(world["B"].people["counter_clerk"], plain, EventCode.HANDOVER)
    # An unvetted taker.
    with pytest.raises(ValidationFailed) as exc:
        ev(p["driver"], plain, EventCode.HANDOVER)
    assert exc.value.code == "taker_not_cleared"
    assert CustodyEvent.objects.count() == before
    refused = AuditEntry.objects.filter(action="custody.refused")
    assert refused.count() == 5
    assert refresh(plain).holder == p["counter_clerk"] and refresh(item).holder == p["agency_clerk"]


def test_registration_validation(a):
    p = a.people
    from kt1.items.services import ItemInput

    def reg(**kw):
        data = dict(sender_agency=a.agency, recipient_agency=a.other_agency, kind="letter", weight_g=100)
        data.update(kw)
        return svc.item_register(actor=p["agency_clerk"], data=ItemInput(**data))

    for kw, field in [
        ({"weight_g": 0}, "weight_g"), ({"weight_g": -5}, "weight_g"), ({"weight_g": 2_000_000}, "weight_g"),
        ({"weight_g": "abc"}, "weight_g"), ({"kind": "crate"}, "kind"),
        ({"urgency": "scheduled"}, "deliver_by"),
        ({"urgency": "scheduled", "deliver_by": now() - dt.timedelta(hours=1)}, "deliver_by"),
        ({"secrecy": "A", "private": {"summary": "Về việc..."}}, "summary"),
        ({"recipient_agency": a.agency}, "recipient_agency"),
        ({"named_only": True}, "named_recipient"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            reg(**kw)
        assert field in exc.value.detail, (kw, exc.value.detail)
    assert not Item.objects.exists()
    ok = reg(urgency="scheduled", deliver_by=now() + dt.timedelta(days=1), secrecy="A",
             private={"registry_number": "01/TM"})
    assert ok.kind_rule.max_weight_g == 2000


def test_between_provinces_a_clerk_may_address_any_agency(a, world):
    """KT1 carries mail between provinces: the recipient may be an agency of another province."""
    from kt1.core.permissions import restrict
    from kt1.directory.models import Agency

    clerk = a.people["agency_clerk"]
    far = world["B"].agency
    assert not restrict(Agency.objects.filter(pk=far.pk), clerk).exists()  # not in the directory view
    assert restrict(Agency.objects.filter(pk=far.pk), clerk, "recipient").exists()
    item = f.item(clerk, far)
    assert item.zone == "between"
    # Oversight may read the directory but registers nothing, so it addresses nobody.
    assert not restrict(Agency.objects.filter(pk=far.pk), a.people["oversight"], "recipient").exists()
