"""Property-based tests: S10 identifiers and the custody state machine."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kt1.core.choices import Secrecy
from kt1.core.errors import ApplicationError, ValidationFailed
from kt1.items import s10
from kt1.items import services as svc
from kt1.items.choices import EventCode, ItemStatus
from kt1.items.models import CustodyEvent, Item
from kt1.items.transitions import EDGES
from tests import factories as f

letters = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
serials = st.integers(min_value=0, max_value=99_999_999)


@given(letters, serials, letters)
def test_built_identifiers_parse_back(si, serial, country):
    number = s10.build(si, serial, country)
    parsed = s10.parse(number)
    assert str(parsed) == number and int(parsed.serial) == serial and len(number) == 13


@given(letters, serials, st.integers(min_value=0, max_value=9))
def test_any_other_check_digit_is_refused(si, serial, wrong):
    number = s10.build(si, serial)
    if int(number[10]) == wrong:
        return
    with pytest.raises(ValidationFailed) as exc:
        s10.parse(number[:10] + str(wrong) + number[11:])
    assert exc.value.code == "invalid_check_digit"


@given(letters, serials)
def test_scanner_noise_is_normalised(si, serial):
    number = s10.build(si, serial)
    noisy = f" {number[:2].lower()}-{number[2:6]} {number[6:11]} {number[11:].lower()} "
    assert str(s10.parse(noisy)) == number


@given(st.text(max_size=20))
def test_arbitrary_input_never_crashes(raw):
    try:
        s10.parse(raw)
    except ValidationFailed as exc:
        assert exc.code in {"invalid_tracking_number", "invalid_check_digit"}


def test_known_check_digits():
    assert s10.check_digit("47312482") == 9
    assert s10.check_digit("12345678") == 5
    assert s10.build("RB", 12345678, "US") == "RB123456785US"


# --- the custody state machine ---------------------------------------------------------------

CODES = [EventCode.ACCEPTED, EventCode.HANDOVER, EventCode.OUT_FOR_DELIVERY, EventCode.DELIVERY_FAILED,
         EventCode.DELIVERED, EventCode.RETURN_STARTED, EventCode.SEAL_CHECKED, EventCode.INTO_SORTING,
         EventCode.CANCELLED]
ACTORS = ["agency_clerk", "counter_clerk", "postman", "operator", "supervisor", "recipient_clerk", "driver"]


@pytest.fixture
def cast(world):
    w = world["A"]
    p = dict(w.people)
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency)
    for role in ("agency_clerk", "counter_clerk", "postman", "operator", "supervisor", "recipient_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    return w, p


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(ACTORS), st.sampled_from(CODES)), min_size=1, max_size=12))
def test_random_event_sequences_keep_custody_consistent(cast, steps):
    w, p = cast
    item = f.item(p["agency_clerk"], w.other_agency)
    for role, code in steps:
        before = Item.objects.get(pk=item.pk)
        kwargs = {}
        if code == EventCode.DELIVERY_FAILED:
            kwargs["reason_code"] = "ABSENT"
        if code == EventCode.DELIVERED:
            target = p["agency_clerk"] if before.is_returning else p["recipient_clerk"]
            kwargs["taker_id"] = target.pk
        if code == EventCode.INTO_SORTING:
            kwargs["facility_id"] = w.processing.pk
        try:
            svc.custody_record(actor=p[role], request=svc.CustodyRequest(
                event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=code, **kwargs))
        except ApplicationError:
            after = Item.objects.get(pk=item.pk)
            # A refusal changes nothing.
            assert (after.status, after.holder_id, after.last_event_seq, after.facility_id) == (
                before.status, before.holder_id, before.last_event_seq, before.facility_id)
    item = Item.objects.get(pk=item.pk)
    events = list(CustodyEvent.objects.filter(item=item).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1)) and item.last_event_seq == len(events)
    assert item.status == events[-1].status_after
    # Exactly one holder, and it is the last taker of a custody-moving event.
    assert item.holder_id is not None
    movers = [e for e in events if e.code in ("KREG", "EMA", "KHOV", "EMI")]
    assert item.holder_id == movers[-1].taker_id
    for previous, move in zip(movers, movers[1:], strict=False):
        assert move.giver_id == previous.taker_id
    # Every recorded step is an edge of the state machine.
    allowed = {(e.source, e.code) for e in EDGES}
    status = ItemStatus.REGISTERED
    for e in events[1:]:
        assert (status, e.code) in allowed
        status = e.status_after
