"""The API's hand-written representations (items, custody events) equal DRF's generic ones.

ItemOutput and EventOutput declare their fields for the schema and write them out directly for
speed; this holds the two together for items and events of every shape (with and without
address, holder, facility, reason, handover, device time, deadline)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import translation
from rest_framework import serializers

from kt1.api.v1.items import (
    EventOutput,
    ItemDetailOutput,
    ItemOutput,
    _card_representation,
    _item_representation,
)
from kt1.core.choices import Secrecy
from kt1.core.clock import now
from kt1.items import selectors
from kt1.items import services as svc
from kt1.items.choices import EventCode
from kt1.items.models import CustodyEvent, Item
from kt1.items.selectors import _ITEM_RELATED
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def histories(world):
    w = world["A"]
    p = dict(w.people)
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency)
    for role in ("agency_clerk", "counter_clerk", "postman", "operator", "recipient_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    plain = f.item(p["agency_clerk"], w.other_agency)
    scheduled = f.item(p["agency_clerk"], w.other_agency, secrecy=Secrecy.C, urgency="scheduled",
                       deliver_by=now() + dt.timedelta(days=2), named_recipient="Ông A")
    for item in (plain, scheduled):
        svc.custody_record(actor=p["counter_clerk"], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.ACCEPTED,
            device_time=now() - dt.timedelta(minutes=3)))
    for code, extra in ((EventCode.HANDOVER, {}), (EventCode.AT_DELIVERY_OFFICE, {"facility_id": w.post_office.pk}),
                        (EventCode.OUT_FOR_DELIVERY, {}), (EventCode.DELIVERY_FAILED, {"reason_code": "ABSENT"}),
                        (EventCode.OUT_FOR_DELIVERY, {}),
                        (EventCode.DELIVERED, {"taker_id": p["recipient_clerk"].pk, "signer_name": "Bà B"})):
        svc.custody_record(actor=p["postman"], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=scheduled.tracking_number, code=code, **extra))
    handover = svc.handover_create(actor=p["counter_clerk"], kind="internal", tracking_numbers=[plain.tracking_number],
                                   giver=p["counter_clerk"], taker=p["operator"])
    svc.handover_complete(actor=p["operator"], handover=handover)
    return [plain, scheduled]


def test_items_are_written_as_the_declared_fields_say(histories):
    for item in Item.objects.filter(pk__in=[i.pk for i in histories]):
        assert ItemOutput().to_representation(item) == serializers.Serializer.to_representation(ItemOutput(), item)
        detail = ItemDetailOutput(context={"private": {"registry_number": "12/CV", "document_number": None,
                                                       "summary": None}})
        generic = serializers.Serializer.to_representation(detail, item)
        assert detail.to_representation(item) == generic and generic["private"]["registry_number"] == "12/CV"
        assert _item_representation(item, detail.context["private"]) == generic
        assert _item_representation(item, None) == serializers.Serializer.to_representation(
            ItemDetailOutput(context={"private": None}), item)


def test_custody_events_are_written_as_the_declared_fields_say(histories):
    events = list(CustodyEvent.objects.filter(item__in=histories))
    shapes = {(e.giver_id is None, e.taker_id is None, e.facility_id is None, e.reason_id is None,
               e.handover_id is None, e.device_time is None) for e in events}
    assert len(shapes) >= 4 and any(e.reason_id for e in events) and any(e.handover_id for e in events)
    for event in events:
        assert EventOutput().to_representation(event) == serializers.Serializer.to_representation(EventOutput(), event)


def test_the_lookup_row_is_written_as_the_item_would_be(histories, world):
    """The tracking lookup reads a row (selectors.item_card), not instances: same answer, in both
    languages, with and without private fields, for items of every shape."""
    w = world["A"]
    no_address = f.item(w.people["agency_clerk"], w.other_agency)
    Item.objects.filter(pk=no_address.pk).update(recipient_address=None)
    operator = w.people["operator"]  # holds one of the histories' items; a person without a full name
    operator.full_name = ""
    operator.save(update_fields=["full_name"])
    items = list(Item.objects.filter(pk__in=[i.pk for i in [*histories, no_address]]).select_related(*_ITEM_RELATED))
    shapes = {(i.recipient_address_id is None, i.holder_id is None, i.facility_id is None, i.deliver_by is None,
               i.delivered_at is None) for i in items}
    assert len(shapes) == 3 and any(i.holder_id == operator.pk for i in items)
    private = {"registry_number": "12/CV", "document_number": None, "summary": "Về việc"}
    for language in ("vi", "en"):
        with translation.override(language):
            for item in items:
                card = selectors.item_card(viewer=w.people["supervisor"], tracking_number=item.tracking_number)
                for extra in (None, private):
                    assert _card_representation(card, extra) == _item_representation(item, extra)
