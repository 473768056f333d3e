"""The set-based custody batch is the custody engine, only faster.

custody_record_batch reads what its checks need once for the whole batch and writes the events,
audit entries and item projections together. These tests hold it to the event-by-event engine:
for any sequence of requests, by any actor, on items of any secrecy, the two give the same answers
(created, duplicate, or the same refusal), leave the items in the same state with the same events,
and the audit chain verifies. A batch's number of queries does not grow with its size.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.core.errors import ApplicationError
from kt1.items import services as svc
from kt1.items.choices import EventCode
from kt1.items.models import CustodyEvent, Item
from tests import factories as f

pytestmark = pytest.mark.django_db

# Weighted toward what a postman's handheld sends, so most examples record events, with every other
# code (and every actor) often enough to be refused in each way.
CODES = [EventCode.HANDOVER, EventCode.HANDOVER, EventCode.OUT_FOR_DELIVERY, EventCode.OUT_FOR_DELIVERY,
         EventCode.DELIVERY_FAILED, EventCode.DELIVERED, EventCode.DELIVERED, EventCode.RETURN_STARTED,
         EventCode.SEAL_CHECKED, EventCode.INTO_SORTING, EventCode.AT_DELIVERY_OFFICE, EventCode.ACCEPTED,
         EventCode.CANCELLED, EventCode.INTO_BAG]
ACTORS = ["postman", "postman", "postman", "postman_c", "operator", "supervisor", "counter_clerk", "recipient_clerk",
          "agency_clerk", "driver"]
TAKERS = ["recipient_clerk", "agency_clerk", "postman", None]
RETRY = "retry"  # send the previous request of the segment again, same event_uuid


@pytest.fixture
def cast(world):
    w = world["A"]
    p = dict(w.people)
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency)
    p["postman_c"] = f.person("postman", facility=w.post_office)
    for role in ("agency_clerk", "counter_clerk", "postman", "operator", "supervisor", "recipient_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    f.cleared(p["postman_c"], Secrecy.C, police=p["police"])  # the driver is never vetted
    return w, p


step = st.tuples(st.integers(min_value=0, max_value=1), st.sampled_from([*CODES, RETRY]), st.sampled_from(TAKERS))
segment = st.tuples(st.sampled_from(ACTORS), st.lists(step, min_size=1, max_size=7))


def _request(w, p, number: str, code: str, taker: str | None, event_uuid) -> svc.CustodyRequest:
    kwargs = {}
    if code == EventCode.DELIVERY_FAILED:
        kwargs["reason_code"] = "ABSENT"
    if taker is not None:
        kwargs["taker_id"] = p[taker].pk
    if code in (EventCode.INTO_SORTING, EventCode.AT_DELIVERY_OFFICE):
        kwargs["facility_id"] = (w.processing if code == EventCode.INTO_SORTING else w.post_office).pk
    return svc.CustodyRequest(event_uuid=event_uuid, tracking_number=number, code=code, **kwargs)


def _plan(segments):
    """Each segment's steps as (item index, code, taker, event_uuid); a retry repeats the one before."""
    planned = []
    for actor, steps in segments:
        rows = []
        for index, code, taker in steps:
            if code == RETRY:
                if rows:
                    rows.append(rows[-1])
                continue
            rows.append((index, code, taker, uuid.uuid4()))
        planned.append((actor, rows))
    return planned


def _answer(outcome_ok: bool, created: bool, error: ApplicationError | None, numbers: dict[str, str]) -> tuple:
    if outcome_ok:
        return ("ok", created)
    message = str(error.message)
    for number, name in numbers.items():  # the two paths use different items: name them alike
        message = message.replace(number, name)
    return ("refused", error.code, message)


def _state(item: Item) -> tuple:
    item = Item.objects.get(pk=item.pk)
    events = list(CustodyEvent.objects.filter(item=item).order_by("seq").values_list(
        "seq", "code", "status_after", "actor_id", "giver_id", "taker_id", "facility_id", "reason_id", "next_action"))
    return (item.status, item.holder_id, item.holder_bag_id, item.facility_id, item.is_returning, item.last_event_seq,
            item.accepted_at is not None, item.first_attempt_at is not None, item.delivered_at is not None), events


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secrecies=st.lists(st.sampled_from([Secrecy.NONE, Secrecy.C, Secrecy.B]), min_size=2, max_size=2),
       segments=st.lists(segment, min_size=1, max_size=5))
def test_a_batch_answers_and_records_exactly_as_event_by_event(cast, secrecies, segments):
    w, p = cast
    one_by_one = [f.item(p["agency_clerk"], w.other_agency, secrecy=s) for s in secrecies]
    batched = [f.item(p["agency_clerk"], w.other_agency, secrecy=s) for s in secrecies]
    names = {i.tracking_number: f"item {n}" for items in (one_by_one, batched) for n, i in enumerate(items)}
    for item in (*one_by_one, *batched):  # accepted at the counter: the post's part is what is compared
        svc.custody_record(actor=p["counter_clerk"], request=_request(w, p, item.tracking_number, EventCode.ACCEPTED,
                                                                      None, uuid.uuid4()))
    for actor, rows in _plan(segments):
        single_answers = []
        for index, code, taker, event_uuid in rows:
            request = _request(w, p, one_by_one[index].tracking_number, code, taker, event_uuid)
            try:
                result = svc.custody_record(actor=p[actor], request=request)
                single_answers.append(_answer(True, result.created, None, names))
            except ApplicationError as exc:
                single_answers.append(_answer(False, False, exc, names))
        # The batch's event_uuids differ from the single path's (they are unique in the database)
        # but repeat where the single path's repeat.
        renamed = {}
        requests = [_request(w, p, batched[index].tracking_number, code, taker,
                             renamed.setdefault(event_uuid, uuid.uuid4()))
                    for index, code, taker, event_uuid in rows]
        batch_answers = [_answer(o.ok, o.created, o.error, names)
                         for o in svc.custody_record_batch(actor=p[actor], requests=requests)]
        assert batch_answers == single_answers, (actor, rows)
        for answer in batch_answers:
            event(f"{answer[0]} {answer[1]}")  # what the examples exercised (--hypothesis-show-statistics)
    for single, batch in zip(one_by_one, batched, strict=True):
        single_state, single_events = _state(single)
        batch_state, batch_events = _state(batch)
        assert batch_state == single_state
        assert batch_events == single_events
    assert audit_verify().ok


def test_a_batch_reads_and_writes_in_a_fixed_number_of_queries(cast):
    w, p = cast

    def journeys(count: int) -> list[svc.CustodyRequest]:
        requests = []
        for _ in range(count):
            item = f.item(p["agency_clerk"], w.other_agency, secrecy=Secrecy.C)
            svc.custody_record(actor=p["counter_clerk"], request=_request(
                w, p, item.tracking_number, EventCode.ACCEPTED, None, uuid.uuid4()))
            for code, taker in ((EventCode.HANDOVER, None), (EventCode.AT_DELIVERY_OFFICE, None),
                                (EventCode.OUT_FOR_DELIVERY, None), (EventCode.DELIVERY_FAILED, None),
                                (EventCode.OUT_FOR_DELIVERY, None), (EventCode.DELIVERED, "recipient_clerk")):
                requests.append(_request(w, p, item.tracking_number, code, taker, uuid.uuid4()))
        return requests

    counts = []
    for size in (2, 8):
        requests = journeys(size)
        actor = type(p["postman"]).objects.get(pk=p["postman"].pk)  # as a new request loads them: nothing cached
        with CaptureQueriesContext(connection) as queries:
            outcomes = svc.custody_record_batch(actor=actor, requests=requests)
        assert all(o.ok and o.created for o in outcomes), [o.error for o in outcomes if not o.ok]
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert audit_verify().ok


def test_a_refusal_in_a_batch_is_audited_and_the_rest_stands(cast):
    w, p = cast
    item = f.item(p["agency_clerk"], w.other_agency, secrecy=Secrecy.B)
    svc.custody_record(actor=p["counter_clerk"], request=_request(w, p, item.tracking_number, EventCode.ACCEPTED,
                                                                  None, uuid.uuid4()))
    from kt1.audit.models import AuditEntry

    refusals = AuditEntry.objects.filter(action="custody.refused").count()
    outcomes = svc.custody_record_batch(actor=p["postman_c"], requests=[
        _request(w, p, item.tracking_number, EventCode.HANDOVER, None, uuid.uuid4()),  # C-cleared, B item
    ])
    assert not outcomes[0].ok and outcomes[0].error.code == "taker_not_cleared"
    outcomes = svc.custody_record_batch(actor=p["postman"], requests=[
        _request(w, p, item.tracking_number, EventCode.HANDOVER, None, uuid.uuid4()),
        _request(w, p, item.tracking_number, EventCode.DELIVERED, "driver", uuid.uuid4()),  # not a clerk
        _request(w, p, item.tracking_number, EventCode.OUT_FOR_DELIVERY, None, uuid.uuid4()),
    ])
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].error.code == "taker_not_allowed"
    assert AuditEntry.objects.filter(action="custody.refused").count() == refusals + 2
    refreshed = Item.objects.get(pk=item.pk)
    assert refreshed.holder_id == p["postman"].pk and refreshed.status == "out_for_delivery"
    assert refreshed.last_event_seq == 4
    assert audit_verify().ok
