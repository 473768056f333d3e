"""Items API v1: registration, envelope reads with agency-private fields only for the two agencies'
clerks, the custody timeline, events one by one and in batches (idempotent, refusals with stable
codes), scope (out of scope answers exactly like unknown) and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from contextlib import redirect_stderr

import pytest
from django.urls import reverse

from kt1.audit.models import AuditEntry
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today, now
from kt1.directory.services import agency_retire
from kt1.items import s10
from kt1.items.choices import EventCode, ItemStatus
from kt1.items.models import CustodyEvent, Item
from tests import factories as f
from tests.helpers import api_client

pytestmark = pytest.mark.django_db

PRIVATE = {"registry_number": "125/UBND-VT", "document_number": "37/QĐ-UBND", "summary": "Về việc phân bổ ngân sách"}


@pytest.fixture
def a(world):
    w = world["A"]
    p = w.people
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency, full_name="Văn thư nhận")
    for role in ("agency_clerk", "counter_clerk", "postman", "operator", "supervisor", "recipient_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    return w


def items_url() -> str:
    return reverse("api:item_list")


def item_url(number: str) -> str:
    return reverse("api:item_detail", kwargs={"tracking_number": number})


def events_url(number: str) -> str:
    return reverse("api:item_events", kwargs={"tracking_number": number})


def register(client, a, **overrides):
    body = {"recipient_agency": a.other_agency.pk, "kind": "letter", "weight_g": 120}
    body.update(overrides)
    return client.post(items_url(), body, format="json")


def unused_number() -> str:
    """A well-formed identifier no item carries."""
    return s10.build("KT", 99_999_998)


def event(client, number: str, code: str, **fields):
    body = {"event_uuid": str(fields.pop("event_uuid", uuid.uuid4())), "code": code, **fields}
    return client.post(events_url(number), body, format="json")


def accept_at_counter(a, number: str):
    """The counter clerk takes the item from the agency clerk (their acceptance is the event)."""
    response = event(api_client(a.people["counter_clerk"]), number, EventCode.ACCEPTED)
    assert response.status_code == 201, response.json()
    return response


# --- registration ----------------------------------------------------------------------------------


def test_a_clerk_registers_an_item_and_gets_an_s10_tracking_number(a):
    clerk = a.people["agency_clerk"]
    deliver_by = (now() + dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=7))).isoformat()
    response = register(api_client(clerk), a, secrecy="C", urgency="scheduled", deliver_by=deliver_by,
                        named_recipient="Ông Trần Văn Nhận", named_only=True, private=PRIVATE)
    assert response.status_code == 201, response.json()
    body = response.json()
    number = body["tracking_number"]
    assert s10.is_valid(number) and number.endswith("VN")
    assert response["Location"] == item_url(number)
    assert body["sender_agency"]["id"] == a.agency.pk  # left out: the clerk's own agency
    assert body["recipient_agency"]["id"] == a.other_agency.pk
    assert body["status"] == ItemStatus.REGISTERED and body["holder"]["id"] == clerk.pk
    assert body["secrecy"] == "C" and body["urgency"] == "scheduled" and body["named_only"] is True
    assert body["recipient_address"]["id"] == a.other_agency.addresses.get().pk
    assert body["private"] == PRIVATE  # the registering clerk sees what they wrote
    item = Item.objects.get(tracking_number=number)
    assert item.holder == clerk and item.weight_g == 120 and item.deliver_by is not None
    assert PRIVATE["summary"] not in item.private_data  # stored encrypted
    assert AuditEntry.objects.filter(action="item.registered", object_id=str(item.pk)).exists()
    assert list(item.events.values_list("code", flat=True)) == [EventCode.REGISTERED]


def test_a_counter_clerk_registers_on_the_agencys_behalf_without_seeing_private_fields(world):
    a = world["A"]
    p = a.people
    client = api_client(p["counter_clerk"])
    missing_holder = register(client, a, sender_agency=a.agency.pk)
    assert missing_holder.status_code == 400 and "holder" in missing_holder.json()["detail"]
    response = register(client, a, sender_agency=a.agency.pk, holder=p["agency_clerk"].pk,
                        private={"registry_number": "9/VP"})
    assert response.status_code == 201, response.json()
    assert response.json()["holder"]["id"] == p["agency_clerk"].pk
    assert response.json()["private"] is None and "9/VP" not in response.content.decode()


def test_people_who_register_nothing_are_refused_and_nothing_is_created(world):
    a = world["A"]
    for role in ("oversight", "police", "finance", "admin", "operator"):
        response = register(api_client(a.people[role]), a, sender_agency=a.agency.pk)
        assert response.status_code == 403, role
        assert set(response.json()) == {"code", "message", "detail"}
    assert not Item.objects.exists()


BAD_REGISTRATIONS = {
    "unknown recipient": ({"recipient_agency": 999_999}, "recipient_agency", "không tồn tại"),
    "retired recipient": ("retired", "recipient_agency", "ngừng hiệu lực"),
    "unknown sender": ({"sender_agency": 999_999}, "sender_agency", "không tồn tại"),
    "zero weight": ({"weight_g": 0}, "weight_g", "lớn hơn 0"),
    "negative weight": ({"weight_g": -5}, "weight_g", "lớn hơn 0"),
    "absurd weight": ({"weight_g": 2_000_000}, "weight_g", "vượt mức tối đa"),
    "fractional weight": ({"weight_g": "12.5"}, "weight_g", "gam nguyên"),
    "unknown kind": ({"kind": "crate"}, "kind", "crate"),
    "scheduled without a time": ({"urgency": "scheduled"}, "deliver_by", "hẹn phát"),
    "scheduled in the past": ({"urgency": "scheduled", "deliver_by": "2020-01-01T08:00:00+07:00"}, "deliver_by",
                              "tương lai"),
    "scheduled without an offset": ({"urgency": "scheduled", "deliver_by": "2099-01-01T08:00:00"}, "deliver_by",
                                     "múi giờ"),
    "a time on a non-scheduled item": ({"deliver_by": "2099-01-01T08:00:00+07:00"}, "deliver_by", "hẹn giờ"),
    "summary on an A item": ({"secrecy": "A", "private": {"summary": "Về việc ..."}}, "summary", "Tuyệt mật"),
    "named only without a name": ({"named_only": True}, "named_recipient", "tên người nhận"),
    "sender as recipient": ("self", "recipient_agency", "khác cơ quan gửi"),
    "address of another agency": ("foreign_address", "recipient_address", "không thuộc cơ quan nhận"),
    "unknown address": ({"recipient_address": 999_999}, "recipient_address", "không tồn tại"),
    "overlong registry number": ({"private": {"registry_number": "x" * 51}}, "private", ""),
}


def test_bad_registrations_answer_400_naming_the_field_and_create_nothing(world, root_admin):
    # One world for all cases (building one costs seconds); each case names itself on failure.
    a = world["A"]
    retired = agency_retire(actor=root_admin, agency=f.agency(a.commune))
    special = {
        "B": {"recipient_agency": world["B"].agency.pk},
        "retired": {"recipient_agency": retired.pk},
        "self": {"recipient_agency": a.agency.pk},
        "foreign_address": {"recipient_address": a.agency.addresses.get().pk},
    }
    client = api_client(a.people["agency_clerk"])
    audit_before = AuditEntry.objects.filter(action="item.registered").count()
    for case, (overrides, field, words) in BAD_REGISTRATIONS.items():
        body = special[overrides] if isinstance(overrides, str) else overrides
        response = register(client, a, **body)
        assert response.status_code == 400, (case, response.json())
        body = response.json()
        assert set(body) == {"code", "message", "detail"}, case
        assert field in body["detail"], (case, body)
        assert words in body["message"] + json.dumps(body["detail"], ensure_ascii=False), (case, body)
    assert not Item.objects.exists()
    assert AuditEntry.objects.filter(action="item.registered").count() == audit_before


def test_an_agency_out_of_scope_answers_like_an_unknown_one(world):
    a = world["A"]
    client = api_client(a.people["agency_clerk"])
    unknown = register(client, a, sender_agency=999_999).json()
    foreign = register(client, a, sender_agency=world["B"].agency.pk).json()
    assert foreign["code"] == unknown["code"] == "invalid"
    assert foreign["message"].replace(str(world["B"].agency.pk), "#") == unknown["message"].replace("999999", "#")
    assert world["B"].agency.name not in json.dumps(foreign, ensure_ascii=False)


def test_a_recipient_in_another_province_is_addressed_between_provinces(world):
    a = world["A"]
    response = register(api_client(a.people["agency_clerk"]), a, recipient_agency=world["B"].agency.pk)
    assert response.status_code == 201 and response.json()["zone"] == "between"


# --- reading items ---------------------------------------------------------------------------------


def test_malformed_identifiers_answer_400_naming_the_problem(world):
    a = world["A"]
    client = api_client(a.people["agency_clerk"])
    good = unused_number()
    wrong_check = good[:10] + str((int(good[10]) + 1) % 10) + good[11:]
    response = client.get(item_url(wrong_check))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_check_digit" and "tracking_number" in response.json()["detail"]
    response = client.get(item_url("KT123VN"))
    assert response.status_code == 400 and response.json()["code"] == "invalid_tracking_number"
    assert client.get(events_url(wrong_check)).json()["code"] == "invalid_check_digit"
    posted = event(client, wrong_check, EventCode.CANCELLED)
    assert posted.status_code == 400 and posted.json()["code"] == "invalid_check_digit"


def test_private_fields_for_the_two_agencies_clerks_only(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.C, private=PRIVATE)
    for role in ("agency_clerk", "recipient_clerk"):
        reads = AuditEntry.objects.filter(action="item.private_read", object_id=str(item.pk)).count()
        response = api_client(p[role]).get(item_url(item.tracking_number))
        assert response.status_code == 200
        assert response.json()["private"] == PRIVATE, role
        assert AuditEntry.objects.filter(action="item.private_read", object_id=str(item.pk)).count() == reads + 1
    for role in ("counter_clerk", "postman", "supervisor", "oversight", "police", "admin", "finance"):
        response = api_client(p[role]).get(item_url(item.tracking_number.lower()))  # identifiers are normalised
        assert response.status_code == 200, role
        body = response.json()
        assert body["tracking_number"] == item.tracking_number and body["private"] is None
        raw = response.content.decode()
        for value in PRIVATE.values():
            assert value not in raw and json.dumps(value)[1:-1] not in raw, (role, value)
    assert AuditEntry.objects.filter(action="item.private_read", object_id=str(item.pk)).count() == 2


def test_out_of_scope_answers_exactly_like_unknown(a, world):
    item = f.item(a.people["agency_clerk"], a.other_agency)
    unknown = unused_number()
    for role in ("agency_clerk", "counter_clerk", "postman", "oversight", "police"):
        client = api_client(world["B"].people[role])
        for url_of in (item_url, events_url):
            foreign = client.get(url_of(item.tracking_number))
            missing = client.get(url_of(unknown))
            assert foreign.status_code == missing.status_code == 404, (role, url_of)
            assert foreign.json() == json.loads(missing.content.decode().replace(unknown, item.tracking_number))
        before = (CustodyEvent.objects.count(), AuditEntry.objects.count())
        foreign = event(client, item.tracking_number, EventCode.HANDOVER)
        missing = event(client, unknown, EventCode.HANDOVER)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json()["code"] == missing.json()["code"] == "item_not_found"
        assert (CustodyEvent.objects.count(), AuditEntry.objects.count()) == before


def test_list_outgoing_incoming_and_filters(a, world):
    p = a.people
    sent = f.item(p["agency_clerk"], a.other_agency, named_recipient="Bà Lê Thị Nhận")
    received = f.item(p["recipient_clerk"], a.agency)
    f.item(world["B"].people["agency_clerk"], world["B"].other_agency)
    clerk = api_client(p["agency_clerk"])
    outgoing = clerk.get(items_url(), {"direction": "outgoing"}).json()
    assert outgoing["count"] == 1 and outgoing["results"][0]["tracking_number"] == sent.tracking_number
    assert "private" not in outgoing["results"][0]
    incoming = clerk.get(items_url(), {"direction": "incoming"}).json()
    assert [r["tracking_number"] for r in incoming["results"]] == [received.tracking_number]
    everything = {r["tracking_number"] for r in clerk.get(items_url()).json()["results"]}
    assert everything == {sent.tracking_number, received.tracking_number}
    assert clerk.get(items_url(), {"q": "Lê Thị"}).json()["count"] == 1
    assert clerk.get(items_url(), {"status": "delivered"}).json()["count"] == 0
    bad = clerk.get(items_url(), {"direction": "sideways"})
    assert bad.status_code == 400 and "direction" in bad.json()["detail"]
    assert clerk.get(items_url(), {"status": "lost"}).status_code == 400
    assert clerk.get(items_url(), {"date_from": "hôm qua"}).status_code == 400
    assert clerk.get(items_url(), {"date_from": local_today().isoformat()}).json()["count"] == 2
    # The post sees its province's items waiting for acceptance, never another province's.
    post = {r["tracking_number"] for r in api_client(p["counter_clerk"]).get(items_url()).json()["results"]}
    assert post == {sent.tracking_number, received.tracking_number}
    held = api_client(p["agency_clerk"]).get(items_url(), {"held_by_me": "true"}).json()
    assert [r["tracking_number"] for r in held["results"]] == [sent.tracking_number]


# --- custody events, one by one ----------------------------------------------------------------------


def test_events_one_by_one_with_idempotent_retries(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.C)
    counter = api_client(p["counter_clerk"])
    key = uuid.uuid4()
    device_time = (now() - dt.timedelta(minutes=3)).replace(microsecond=0)
    first = event(counter, item.tracking_number, EventCode.ACCEPTED, event_uuid=key, note="Quầy 1",
                  device_time=device_time.astimezone(dt.timezone(dt.timedelta(hours=7))).isoformat())
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["event_uuid"] == str(key) and body["code"] == "EMA" and body["status_after"] == ItemStatus.ACCEPTED
    assert body["giver"]["id"] == p["agency_clerk"].pk and body["taker"]["id"] == p["counter_clerk"].pk
    assert body["taker"]["name"] == p["counter_clerk"].full_name and body["facility"]["id"] == a.post_office.pk
    # A retry (the device lost the answer) with the same instant spelled in UTC: the same event, 200.
    again = event(counter, item.tracking_number, EventCode.ACCEPTED, event_uuid=key, note="Quầy 1",
                  device_time=device_time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"))
    assert again.status_code == 200 and again.json() == body
    # The same key with other content is a client bug: 422, nothing recorded.
    clash = event(counter, item.tracking_number, EventCode.ACCEPTED, event_uuid=key, note="Quầy 2")
    assert clash.status_code == 422 and clash.json()["code"] == "idempotency_mismatch"
    assert CustodyEvent.objects.filter(item=item, code="EMA").count() == 1
    assert AuditEntry.objects.filter(action="custody.recorded", object_id=str(item.pk)).count() == 2  # KREG + EMA

    # Internal handover recorded by the taker, sorting, out for delivery, a failed attempt.
    operator = api_client(p["operator"])
    assert event(operator, item.tracking_number, EventCode.HANDOVER, giver=p["counter_clerk"].pk).status_code == 201
    assert event(operator, item.tracking_number, EventCode.INTO_SORTING,
                 facility=a.processing.pk).status_code == 201
    postman = api_client(p["postman"])
    assert event(postman, item.tracking_number, EventCode.HANDOVER).status_code == 201
    assert event(postman, item.tracking_number, EventCode.OUT_FOR_DELIVERY).status_code == 201
    unknown_reason = event(postman, item.tracking_number, EventCode.DELIVERY_FAILED, reason="NOPE")
    assert unknown_reason.status_code == 400 and unknown_reason.json()["code"] == "unknown_reason"
    failed = event(postman, item.tracking_number, EventCode.DELIVERY_FAILED, reason="ABSENT")
    assert failed.status_code == 201 and failed.json()["reason"] == "ABSENT" and failed.json()["next_action"] == "retry"

    timeline = api_client(p["agency_clerk"]).get(events_url(item.tracking_number))
    assert timeline.status_code == 200
    rows = timeline.json()
    assert [r["code"] for r in rows] == ["KREG", "EMA", "KHOV", "EDD", "KHOV", "EDG", "EMH"]
    assert [r["seq"] for r in rows] == list(range(1, 8))
    assert rows[1]["event_uuid"] == str(key) and rows[1]["code_label"] and rows[1]["device_time"]
    assert rows[3]["facility"]["id"] == a.processing.pk
    assert rows[6]["reason_label"] == "Cơ quan nhận không có người nhận" and rows[6]["status_after"] == "delivery_failed"
    assert Item.objects.get(pk=item.pk).holder == p["postman"]


def test_refusals_keep_their_stable_codes_and_change_nothing(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    secret = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.A)
    accept_at_counter(a, item.tracking_number)
    before = CustodyEvent.objects.count()
    refused_before = AuditEntry.objects.filter(action="custody.refused").count()

    # An event the item's state does not allow: 409.
    illegal = event(api_client(p["counter_clerk"]), item.tracking_number, EventCode.DELIVERY_FAILED, reason="ABSENT")
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"
    # Taking the item out for delivery without holding it.
    not_holder = event(api_client(p["postman"]), item.tracking_number, EventCode.OUT_FOR_DELIVERY)
    assert not_holder.status_code == 400 and not_holder.json()["code"] == "not_holder"
    # Naming as giver someone who does not hold it.
    wrong_giver = event(api_client(p["operator"]), item.tracking_number, EventCode.HANDOVER, giver=p["postman"].pk)
    assert wrong_giver.status_code == 400 and wrong_giver.json()["code"] == "not_holder"
    assert "giver" in wrong_giver.json()["detail"]
    # A taker without vetting (the driver was never cleared).
    unvetted = event(api_client(p["driver"]), item.tracking_number, EventCode.HANDOVER)
    assert unvetted.status_code == 400 and unvetted.json()["code"] == "taker_not_cleared"
    # Cleared up to B only: an A item is refused.
    too_secret = event(api_client(p["counter_clerk"]), secret.tracking_number, EventCode.ACCEPTED)
    assert too_secret.status_code == 400 and too_secret.json()["code"] == "taker_not_cleared"
    assert CustodyEvent.objects.count() == before
    assert AuditEntry.objects.filter(action="custody.refused").count() == refused_before + 5
    assert Item.objects.get(pk=item.pk).holder == p["counter_clerk"]
    assert Item.objects.get(pk=secret.pk).holder == p["agency_clerk"]


def test_bad_event_bodies_and_roles_that_record_nothing(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    counter = api_client(p["counter_clerk"])
    before = AuditEntry.objects.count()
    for body, field in [
        ({"code": "EMA"}, "event_uuid"),
        ({"event_uuid": "not-a-uuid", "code": "EMA"}, "event_uuid"),
        ({"event_uuid": str(uuid.uuid4()), "code": "ZZZ"}, "code"),
        ({"event_uuid": str(uuid.uuid4()), "code": "EMA", "device_time": "2026-01-01T08:00:00"}, "device_time"),
        ({"event_uuid": str(uuid.uuid4()), "code": "EMA", "taker": "someone"}, "taker"),
    ]:
        response = counter.post(events_url(item.tracking_number), body, format="json")
        assert response.status_code == 400 and field in response.json()["detail"], (body, response.json())
    assert AuditEntry.objects.count() == before
    assert item.events.count() == 1


RECORDS_CUSTODY = {"agency_clerk", "counter_clerk", "postman", "operator", "driver", "escort", "supervisor"}
REGISTERS = {"agency_clerk", "counter_clerk", "postman", "supervisor"}


def test_posts_on_item_urls_as_every_role_in_and_out_of_scope(world):
    """The permission suite keys URLs by name and runs GET on these; this runs their POST the same
    way: another province's item is 404 for everyone, an in-scope item is 403 for people who record
    no custody, and nothing a refused caller sends is written."""
    ours, theirs = world["A"], world["B"]
    own = f.item(ours.people["agency_clerk"], ours.other_agency)
    foreign = f.item(theirs.people["agency_clerk"], theirs.other_agency)
    assert set(ours.people) >= RECORDS_CUSTODY | {"admin", "oversight", "police", "finance"}
    for role, user in ours.people.items():
        client = api_client(user)
        before = (AuditEntry.objects.count(), CustodyEvent.objects.count(), Item.objects.count())
        response = client.post(events_url(foreign.tracking_number), {}, format="json")
        assert response.status_code == 404, role
        response = client.post(events_url(own.tracking_number), {}, format="json")
        assert response.status_code == (400 if role in RECORDS_CUSTODY else 403), (role, response.json())
        response = client.post(items_url(), {}, format="json")
        assert response.status_code == (400 if role in REGISTERS else 403), (role, response.json())
        assert (AuditEntry.objects.count(), CustodyEvent.objects.count(), Item.objects.count()) == before, role


# --- batches -------------------------------------------------------------------------------------------


def test_batch_each_event_stands_alone(a):
    p = a.people
    one = f.item(p["agency_clerk"], a.other_agency)
    two = f.item(p["agency_clerk"], a.other_agency)
    accept_at_counter(a, one.tracking_number)
    accept_at_counter(a, two.tracking_number)
    postman = api_client(p["postman"])
    key = str(uuid.uuid4())
    good = two.tracking_number
    wrong_check = good[:10] + str((int(good[10]) + 1) % 10) + good[11:]
    events = [
        {"tracking_number": one.tracking_number, "event_uuid": key, "code": "KHOV"},
        {"tracking_number": one.tracking_number, "event_uuid": str(uuid.uuid4()), "code": "EDG"},
        {"tracking_number": one.tracking_number, "event_uuid": key, "code": "KHOV"},  # retried in the same upload
        {"tracking_number": two.tracking_number, "event_uuid": str(uuid.uuid4()), "code": "EDG"},  # not holding it
        {"tracking_number": wrong_check, "event_uuid": str(uuid.uuid4()), "code": "KHOV"},
        {"tracking_number": one.tracking_number, "code": "EMH"},  # no event_uuid
        "garbage",
        {"tracking_number": one.tracking_number, "event_uuid": str(uuid.uuid4()), "code": "EMI"},  # no taker
        {"tracking_number": one.tracking_number, "event_uuid": str(uuid.uuid4()), "code": "EMH", "reason": "ABSENT"},
        {"tracking_number": one.tracking_number, "event_uuid": key, "code": "KHOV", "note": "khác"},
        {"tracking_number": one.tracking_number, "event_uuid": str(uuid.uuid4()), "code": "KREG"},
    ]
    response = postman.post(reverse("api:event_batch"), {"events": events}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(events)))
    assert [r["status"] for r in results] == ["created", "created", "duplicate", "refused", "refused", "refused",
                                              "refused", "refused", "created", "refused", "refused"]
    assert [r["http_status"] for r in results] == [201, 201, 200, 400, 400, 400, 400, 400, 201, 422, 409]
    assert results[0]["event"]["code"] == "KHOV" and results[0]["code"] is None
    assert results[2]["event"] == results[0]["event"]
    assert results[3]["code"] == "not_holder" and results[3]["event"] is None
    assert results[4]["code"] == "invalid_check_digit"
    assert results[5]["code"] == "invalid" and "event_uuid" in results[5]["detail"]
    assert results[6]["code"] == "invalid" and results[6]["event_uuid"] is None
    assert results[7]["code"] == "invalid" and "taker" in results[7]["detail"]
    assert results[8]["event"]["reason"] == "ABSENT"
    assert results[9]["code"] == "idempotency_mismatch"
    assert results[10]["code"] == "illegal_transition"
    assert (body["created"], body["duplicates"], body["refused"]) == (3, 1, 7)
    assert list(CustodyEvent.objects.filter(item=one).order_by("seq").values_list("code", flat=True)) == [
        "KREG", "EMA", "KHOV", "EDG", "EMH"]
    item = Item.objects.get(pk=one.pk)
    assert item.status == ItemStatus.DELIVERY_FAILED and item.holder == p["postman"]
    assert Item.objects.get(pk=two.pk).holder == p["counter_clerk"]
    # The whole upload sent again: every event is a duplicate or the same refusal, nothing new.
    again = postman.post(reverse("api:event_batch"), {"events": events[:3]}, format="json").json()
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate", "duplicate"]
    assert CustodyEvent.objects.filter(item=one).count() == 5


def test_batch_limits_and_who_may_send(a, world):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    url = reverse("api:event_batch")
    counter = api_client(p["counter_clerk"])
    too_many = [{"tracking_number": item.tracking_number, "event_uuid": str(uuid.uuid4()), "code": "EMA"}] * 1001
    response = counter.post(url, {"events": too_many}, format="json")
    assert response.status_code == 400 and "events" in response.json()["detail"]
    assert "1000" in response.json()["message"]
    assert counter.post(url, {"events": []}, format="json").status_code == 400
    assert counter.post(url, {"events": "EMA"}, format="json").status_code == 400
    assert counter.post(url, {}, format="json").status_code == 400
    assert item.events.count() == 1
    # People who record no custody do not have this endpoint at all.
    for role in ("oversight", "police", "finance", "admin"):
        assert api_client(p[role]).post(url, {"events": too_many[:1]}, format="json").status_code == 404
    # Another province's counter clerk: the item does not exist for them.
    foreign = api_client(world["B"].people["counter_clerk"]).post(url, {"events": too_many[:1]}, format="json").json()
    assert foreign["results"][0]["http_status"] == 404 and foreign["results"][0]["code"] == "item_not_found"
    assert item.events.count() == 1


# --- the schema ----------------------------------------------------------------------------------------


def test_schema_documents_the_items_endpoints_and_validates(client):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    ours = [line for line in stderr.getvalue().splitlines()
            if any(name in line for name in ("items.py", "Item", "EventBatch", "/items/", "/events/"))]
    assert not ours, ours
    validate_schema(schema)
    paths = schema["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/items/"])
    assert set(paths["/api/v1/items/{tracking_number}/events/"]) >= {"get", "post"}
    assert "get" in paths["/api/v1/items/{tracking_number}/"] and "post" in paths["/api/v1/events/batch/"]
    create = paths["/api/v1/items/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ItemCreateInput")
    assert set(create["responses"]) >= {"201", "400", "403"}
    post_event = paths["/api/v1/items/{tracking_number}/events/"]["post"]
    assert set(post_event["responses"]) >= {"200", "201", "400", "404", "409", "422"}
    components = schema["components"]["schemas"]
    assert set(components["ItemCreateInput"]["properties"]) >= {
        "sender_agency", "recipient_agency", "kind", "weight_g", "secrecy", "urgency", "deliver_by",
        "named_recipient", "named_only", "recipient_address", "private"}
    assert set(components["ItemPrivateInput"]["properties"]) == {"registry_number", "document_number", "summary"}
    assert "private" in components["ItemDetail"]["properties"] and "private" not in components["Item"]["properties"]
    assert components["CustodyEventBatchInput"]["properties"]["events"]["maxItems"] == 1000
    served = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert served.status_code == 200 and "/api/v1/events/batch/" in served.content.decode()
