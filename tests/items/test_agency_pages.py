"""Agency pages of items: registering an outgoing item (and every refusal from the issue), the
outgoing and incoming lists with filters and counts, cancelling, and pickup requests."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import uuid

import pytest
from django.urls import NoReverseMatch, reverse

from kt1.audit.models import AuditEntry
from kt1.core.choices import Secrecy
from kt1.core.clock import LOCAL_TZ, now
from kt1.directory.services import agency_retire
from kt1.items import services as svc
from kt1.items.choices import EventCode, ItemStatus, PickupStatus
from kt1.items.forms_agency import pickup_postman_choices
from kt1.items.models import CustodyEvent, Item, PickupRequest
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(world):
    w = world["A"]
    w.people["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency, full_name="Văn thư nhận")
    return w


def local_input(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def form_data(a, **overrides) -> dict:
    data = {
        "sender_agency": a.agency.pk, "recipient_agency": a.other_agency.pk, "recipient_address": "",
        "kind": "letter", "weight_g": "120", "secrecy": "none", "urgency": "none", "deliver_by": "",
        "named_recipient": "", "registry_number": "", "document_number": "", "summary": "",
    }
    data.update(overrides)
    return data


def text(response) -> str:
    return htmllib.unescape(response.content.decode())


# --- registration ------------------------------------------------------------------------------------


def test_register_form_offers_only_what_the_clerk_may_pick(a, world):
    response = verified_client(a.people["agency_clerk"]).get(reverse("items:register"))
    assert response.status_code == 200
    html = text(response)
    assert 'data-testid="sender"' in html and a.agency.name in html  # one agency: shown, not chosen
    recipients = html.split('name="recipient_agency"', 1)[1].split("</select>", 1)[0]
    assert a.other_agency.name in recipients
    assert a.agency.name not in recipients  # not to itself
    assert world["B"].agency.name in recipients  # KT1 carries mail between provinces
    assert 'hx-get="/items/register/addresses/"' in html


def test_register_happy_path(a):
    clerk = a.people["agency_clerk"]
    client = verified_client(clerk)
    deliver_by = (now() + dt.timedelta(days=2)).astimezone(LOCAL_TZ).replace(second=0, microsecond=0)
    address = a.other_agency.addresses.get()
    response = client.post(reverse("items:register"), form_data(
        a, secrecy="B", urgency="scheduled", deliver_by=local_input(deliver_by), weight_g="250", kind="packet",
        recipient_address=address.pk, named_recipient="Đồng chí Chánh Văn phòng", named_only="on",
        registry_number="15/UBND-VP", document_number="123/QĐ-UBND", summary="Về việc thử nghiệm"))
    assert response.status_code == 302
    item = Item.objects.get()
    assert response.url == reverse("items:item_detail", args=[item.tracking_number])
    assert (item.kind, item.weight_g, item.secrecy, item.urgency) == ("packet", 250, "B", "scheduled")
    assert item.deliver_by == deliver_by and item.recipient_address == address
    assert item.named_only and item.named_recipient == "Đồng chí Chánh Văn phòng"
    assert item.status == ItemStatus.REGISTERED and item.holder == clerk and item.sender_agency == a.agency
    assert "Về việc" not in item.private_data  # encrypted at rest
    assert AuditEntry.objects.filter(action="item.registered", actor=clerk).count() == 1
    assert CustodyEvent.objects.filter(item=item, code=EventCode.REGISTERED, taker=clerk).count() == 1
    page = text(client.get(response.url))
    assert f"Đã đăng ký bưu gửi số hiệu {item.tracking_number}." in page
    assert "Về việc thử nghiệm" in page and "15/UBND-VP" in page


def test_register_defaults_the_recipient_address(a):
    client = verified_client(a.people["agency_clerk"])
    assert client.post(reverse("items:register"), form_data(a)).status_code == 302
    item = Item.objects.get()
    assert item.recipient_address == a.other_agency.addresses.get()
    assert item.urgency == "none" and item.deliver_by is None




BAD_INPUTS = [
    ("zero weight", {"weight_g": "0"}, "Khối lượng phải lớn hơn 0 gam."),
    ("negative weight", {"weight_g": "-5"}, "Khối lượng phải lớn hơn 0 gam."),
    ("absurd weight", {"weight_g": "2000000"}, "vượt mức tối đa 2000 g"),
    ("weight not a number", {"weight_g": "nặng"}, "Khối lượng phải là số gam nguyên."),
    ("unknown agency", {"recipient_agency": "999999"}, "Cơ quan nhận không tồn tại hoặc không chọn được."),
    ("Hẹn giờ in the past", {"urgency": "scheduled", "deliver_by": "PAST"}, "Thời điểm hẹn phát phải ở tương lai."),
    ("Hẹn giờ without time", {"urgency": "scheduled"}, "Bưu gửi hẹn giờ phải có thời điểm hẹn phát."),
    ("time without Hẹn giờ", {"deliver_by": "FUTURE"}, "Chỉ bưu gửi hẹn giờ mới có thời điểm hẹn phát."),
    ("summary on an A item", {"secrecy": "A", "summary": "Về việc bí mật"},
     "Tài liệu Tuyệt mật (A) không được ghi trích yếu"),
    ("named only without a name", {"named_only": "on"}, "Ghi tên người nhận khi chỉ người có tên mới được bóc bì."),
    ("unknown kind", {"kind": "crate"}, "Loại bưu gửi phải là thư, gói hoặc kiện tài liệu."),
    ("unknown secrecy", {"secrecy": "D"}, "Độ mật phải là không mật, C, B hoặc A."),
]


@pytest.mark.parametrize(("case", "overrides", "message"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_register_refuses_bad_input(a, case, overrides, message):
    overrides = dict(overrides)
    if overrides.get("deliver_by") == "PAST":
        overrides["deliver_by"] = local_input(now() - dt.timedelta(hours=2))
    elif overrides.get("deliver_by") == "FUTURE":
        overrides["deliver_by"] = local_input(now() + dt.timedelta(days=1))
    response = verified_client(a.people["agency_clerk"]).post(reverse("items:register"), form_data(a, **overrides))
    assert response.status_code == 200, case
    html = text(response)
    assert message in html, case
    assert 'role="alert"' in html
    assert not Item.objects.exists()
    assert not AuditEntry.objects.filter(action="item.registered").exists()


def test_register_refuses_a_retired_recipient(a):
    client = verified_client(a.people["agency_clerk"])
    agency_retire(actor=f.root_admin(), agency=a.other_agency)
    html = text(client.post(reverse("items:register"), form_data(a)))
    assert f"Cơ quan nhận “{a.other_agency.name}” đã ngừng hiệu lực, không chọn được." in html
    assert not Item.objects.exists()


def test_register_addresses_an_agency_of_another_province(a, world):
    """KT1 carries mail between provinces (liên tỉnh): any active agency of the country is a recipient."""
    response = verified_client(a.people["agency_clerk"]).post(
        reverse("items:register"), form_data(a, recipient_agency=world["B"].agency.pk))
    assert response.status_code == 302
    item = Item.objects.get()
    assert item.recipient_agency == world["B"].agency and item.zone == "between"


def test_register_refuses_an_unknown_recipient(a):
    html = text(verified_client(a.people["agency_clerk"]).post(
        reverse("items:register"), form_data(a, recipient_agency=999_999)))
    assert "Cơ quan nhận không tồn tại hoặc không chọn được." in html
    assert not Item.objects.exists()


def test_register_refuses_an_address_of_another_agency(a):
    other_address = a.agency.addresses.get()
    html = text(verified_client(a.people["agency_clerk"]).post(
        reverse("items:register"), form_data(a, recipient_address=other_address.pk)))
    assert "Địa chỉ phát không thuộc cơ quan nhận hoặc đã ngừng sử dụng." in html
    assert not Item.objects.exists()


def test_a_clerk_of_two_agencies_chooses_the_sender(a):
    from kt1.accounts.services import role_grant

    clerk = a.people["agency_clerk"]
    second = f.agency(a.commune)
    role_grant(actor=f.root_admin(), user=clerk, role="agency_clerk", agency=second)
    client = verified_client(clerk)
    html = text(client.get(reverse("items:register")))
    senders = html.split('name="sender_agency"', 1)[1].split("</select>", 1)[0]
    assert a.agency.name in senders and second.name in senders
    # A sender the clerk does not work for is refused.
    response = client.post(reverse("items:register"), form_data(a, sender_agency=a.other_agency.pk,
                                                                  recipient_agency=second.pk))
    assert response.status_code == 200 and not Item.objects.exists()
    assert client.post(reverse("items:register"), form_data(a, sender_agency=second.pk)).status_code == 302
    assert Item.objects.get().sender_agency == second


def test_address_options_for_the_chosen_recipient(a, world):
    client = verified_client(a.people["agency_clerk"])
    url = reverse("items:recipient_addresses")
    html = text(client.get(url, {"recipient_agency": a.other_agency.pk}))
    address = a.other_agency.addresses.get()
    assert f'value="{address.pk}"' in html and address.street in html
    theirs = text(client.get(url, {"recipient_agency": world["B"].agency.pk}))
    assert world["B"].agency.addresses.get().street in theirs  # another province's agency is a recipient too
    assert text(client.get(url, {"recipient_agency": "x"})).count("<option") == 1


@pytest.mark.parametrize("role", ["counter_clerk", "postman", "admin", "police", "oversight", "supervisor"])
def test_agency_pages_are_404_for_non_clerks(a, role):
    client = verified_client(a.people[role])
    for name in ("items:register", "items:outgoing", "items:incoming", "items:pickup_new", "items:recipient_addresses"):
        assert client.get(reverse(name)).status_code == 404, (role, name)
    assert client.post(reverse("items:register"), form_data(a)).status_code == 404
    assert not Item.objects.exists()


# --- outgoing and incoming lists ---------------------------------------------------------------------------


@pytest.fixture
def traffic(a):
    p = a.people
    plain = f.item(p["agency_clerk"], a.other_agency)
    secret = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.C, urgency="express")
    cancelled = f.item(p["agency_clerk"], a.other_agency, named_recipient="Bà Trần Thị Hủy")
    svc.custody_record(actor=p["agency_clerk"], request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=cancelled.tracking_number, code=EventCode.CANCELLED))
    incoming = f.item(p["recipient_clerk"], a.agency)
    return {"plain": plain, "secret": secret, "cancelled": cancelled, "incoming": incoming}


def rows(response) -> set[str]:
    html = response.content.decode()
    tbody = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return {number for number in Item.objects.values_list("tracking_number", flat=True) if number in tbody}


def count(response, key: str) -> int:
    html = response.content.decode()
    return int(html.split(f'data-testid="count-{key}">', 1)[1].split("<", 1)[0])


def test_outgoing_list_with_filters_and_counts(a, traffic):
    client = verified_client(a.people["agency_clerk"])
    url = reverse("items:outgoing")
    response = client.get(url)
    assert response.status_code == 200
    assert rows(response) == {traffic[k].tracking_number for k in ("plain", "secret", "cancelled")}
    assert count(response, "all") == 3 and count(response, "registered") == 2 and count(response, "cancelled") == 1
    # The count bar keeps counting every status while a status is chosen.
    response = client.get(url, {"status": "cancelled"})
    assert rows(response) == {traffic["cancelled"].tracking_number}
    assert count(response, "all") == 3 and count(response, "registered") == 2
    assert rows(client.get(url, {"secrecy": "C"})) == {traffic["secret"].tracking_number}
    assert rows(client.get(url, {"urgency": "express"})) == {traffic["secret"].tracking_number}
    assert rows(client.get(url, {"q": traffic["plain"].tracking_number})) == {traffic["plain"].tracking_number}
    assert rows(client.get(url, {"q": "Trần Thị Hủy"})) == {traffic["cancelled"].tracking_number}
    today = now().astimezone(LOCAL_TZ).date()
    assert len(rows(client.get(url, {"date_from": today.isoformat(), "date_to": today.isoformat()}))) == 3
    response = client.get(url, {"date_from": (today + dt.timedelta(days=1)).isoformat()})
    assert rows(response) == set() and count(response, "all") == 0
    # A hand-edited filter is ignored rather than failing.
    assert len(rows(client.get(url, {"status": "bogus", "date_from": "hôm qua"}))) == 3


def test_incoming_list(a, traffic):
    client = verified_client(a.people["agency_clerk"])
    response = client.get(reverse("items:incoming"))
    assert rows(response) == {traffic["incoming"].tracking_number}
    assert count(response, "all") == 1
    # The recipient agency's clerk sees the sender's items as incoming, never the cancelled one.
    response = verified_client(a.people["recipient_clerk"]).get(reverse("items:incoming"))
    assert rows(response) == {traffic["plain"].tracking_number, traffic["secret"].tracking_number}


def test_lists_paginate(a):
    for _ in range(27):
        f.item(a.people["agency_clerk"], a.other_agency)
    client = verified_client(a.people["agency_clerk"])
    first = client.get(reverse("items:outgoing"))
    assert len(rows(first)) == 25 and count(first, "all") == 27
    assert len(rows(client.get(reverse("items:outgoing"), {"page": 2}))) == 2


# --- cancelling ------------------------------------------------------------------------------------------


def cancel_url(item) -> str:
    return reverse("items:cancel", args=[item.tracking_number])


def test_sender_clerk_cancels_a_registered_item(a):
    clerk = a.people["agency_clerk"]
    item = f.item(clerk, a.other_agency)
    client = verified_client(clerk)
    assert "Hủy đăng ký" in text(client.get(reverse("items:item_detail", args=[item.tracking_number])))
    key = str(uuid.uuid4())
    response = client.post(cancel_url(item), {"event_uuid": key, "note": "Gửi nhầm"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ItemStatus.CANCELLED
    event = CustodyEvent.objects.get(item=item, code=EventCode.CANCELLED)
    assert event.actor == clerk and event.note == "Gửi nhầm" and str(event.event_uuid) == key
    assert "Đã hủy đăng ký bưu gửi" in text(client.get(response.url))
    # A double submit of the same form records nothing new.
    client.post(cancel_url(item), {"event_uuid": key, "note": "Gửi nhầm"})
    assert CustodyEvent.objects.filter(item=item, code=EventCode.CANCELLED).count() == 1


def test_cancel_refused_for_others(a, world):
    item = f.item(a.people["agency_clerk"], a.other_agency)
    before = AuditEntry.objects.count()
    assert verified_client(a.people["recipient_clerk"]).post(cancel_url(item)).status_code == 403
    assert verified_client(a.people["counter_clerk"]).post(cancel_url(item)).status_code == 403
    assert verified_client(world["B"].people["agency_clerk"]).post(cancel_url(item)).status_code == 404
    assert verified_client(a.people["agency_clerk"]).get(cancel_url(item)).status_code == 405
    item.refresh_from_db()
    assert item.status == ItemStatus.REGISTERED and AuditEntry.objects.count() == before
    html = text(verified_client(a.people["recipient_clerk"]).get(reverse("items:item_detail", args=[item.tracking_number])))
    assert cancel_url(item) not in html


def test_cancel_after_acceptance_is_refused_with_a_message(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    counter = f.cleared(p["counter_clerk"], Secrecy.B, police=p["police"])
    svc.custody_record(actor=counter, request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.ACCEPTED))
    client = verified_client(p["agency_clerk"])
    response = client.post(cancel_url(item), {"event_uuid": str(uuid.uuid4())})
    assert response.status_code == 302
    assert "Không thể ghi sự kiện “Hủy đăng ký”" in text(client.get(response.url))
    item.refresh_from_db()
    assert item.status == ItemStatus.ACCEPTED
    assert not CustodyEvent.objects.filter(item=item, code=EventCode.CANCELLED).exists()


# --- pickup requests -------------------------------------------------------------------------------------


def test_pickup_request_flow(a, world):
    clerk = a.people["agency_clerk"]
    first = f.item(clerk, a.other_agency)
    second = f.item(clerk, a.other_agency, secrecy=Secrecy.C)
    client = verified_client(clerk)
    form = text(client.get(reverse("items:pickup_new")))
    for item in (first, second):
        assert f'value="{item.tracking_number}"' in form
    assert form.count("checked") == 2  # everything waiting is ticked to start with
    wanted = now() + dt.timedelta(hours=5)
    response = client.post(reverse("items:pickup_new"), {
        "agency": a.agency.pk, "items": [first.tracking_number, second.tracking_number],
        "wanted_by": local_input(wanted), "note": "Cổng phụ"})
    assert response.status_code == 302
    pickup = PickupRequest.objects.get()
    assert response.url == reverse("items:pickup_detail", args=[pickup.pk])
    assert set(pickup.items.values_list("tracking_number", flat=True)) == {first.tracking_number, second.tracking_number}
    assert pickup.status == PickupStatus.REQUESTED and pickup.note == "Cổng phụ" and pickup.requested_by == clerk
    assert AuditEntry.objects.filter(action="pickup.requested", actor=clerk).count() == 1
    detail = text(client.get(response.url))
    assert pickup.number in detail and first.tracking_number in detail and second.tracking_number in detail
    # Items already in an open pickup are not offered again.
    assert 'data-testid="no-candidates"' in text(client.get(reverse("items:pickup_new")))
    # The item page links to its pickup.
    assert reverse("items:pickup_detail", args=[pickup.pk]) in text(
        client.get(reverse("items:item_detail", args=[first.tracking_number])))
    # Lists: the clerk and the province's counter clerk see it; other provinces do not.
    assert pickup.number in text(client.get(reverse("items:pickup_list")))
    counter = verified_client(a.people["counter_clerk"])
    assert pickup.number in text(counter.get(reverse("items:pickup_list")))
    assert pickup.number in text(counter.get(reverse("items:pickup_list"), {"status": "requested"}))
    assert pickup.number not in text(counter.get(reverse("items:pickup_list"), {"status": "collected"}))
    assert counter.get(reverse("items:pickup_detail", args=[pickup.pk])).status_code == 200
    b_counter = verified_client(world["B"].people["counter_clerk"])
    assert pickup.number not in text(b_counter.get(reverse("items:pickup_list")))
    assert b_counter.get(reverse("items:pickup_detail", args=[pickup.pk])).status_code == 404
    assert verified_client(a.people["postman"]).get(reverse("items:pickup_list")).status_code == 404


@pytest.mark.parametrize(("overrides", "message"), [
    ({"items": []}, "Chọn ít nhất một bưu gửi cần thu gom."),
    ({"wanted_by": "PAST"}, "Thời điểm cần thu gom phải ở tương lai."),
    ({"items": ["KT000000000VN"]}, "không phải là một trong các lựa chọn"),
])
def test_pickup_request_refusals(a, overrides, message):
    item = f.item(a.people["agency_clerk"], a.other_agency)
    data = {"agency": a.agency.pk, "items": [item.tracking_number], "wanted_by": "", "note": ""}
    data.update(overrides)
    if data["wanted_by"] == "PAST":
        data["wanted_by"] = local_input(now() - dt.timedelta(hours=1))
    response = verified_client(a.people["agency_clerk"]).post(reverse("items:pickup_new"), data)
    assert response.status_code == 200
    assert message in text(response)
    assert not PickupRequest.objects.exists()
    item.refresh_from_db()
    assert item.pickup_request is None


def test_pickup_offers_only_registered_items_of_the_agency(a):
    p = a.people
    waiting = f.item(p["agency_clerk"], a.other_agency)
    accepted = f.item(p["agency_clerk"], a.other_agency)
    counter = f.cleared(p["counter_clerk"], Secrecy.B, police=p["police"])
    svc.custody_record(actor=counter, request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=accepted.tracking_number, code=EventCode.ACCEPTED))
    incoming = f.item(p["recipient_clerk"], a.agency)
    html = text(verified_client(p["agency_clerk"]).get(reverse("items:pickup_new")))
    assert waiting.tracking_number in html
    assert accepted.tracking_number not in html and incoming.tracking_number not in html


def test_postman_choices_for_a_pickup(a, world):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.B)
    pickup = svc.pickup_request(actor=p["agency_clerk"], agency=a.agency, tracking_numbers=[item.tracking_number])
    assert pickup_postman_choices(pickup) == []  # nobody cleared yet
    cleared_b = f.cleared(p["postman"], Secrecy.B, police=p["police"])
    only_c = f.cleared(f.person("postman", facility=a.post_office), Secrecy.C, police=p["police"])
    f.cleared(world["B"].people["postman"], Secrecy.A, police=world["B"].people["police"])
    assert pickup_postman_choices(pickup) == [cleared_b]
    assert only_c not in pickup_postman_choices(pickup)


def test_pickup_detail_confirm_form_for_the_counter(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    pickup = svc.pickup_request(actor=p["agency_clerk"], agency=a.agency, tracking_numbers=[item.tracking_number])
    f.cleared(p["postman"], Secrecy.C, police=p["police"])
    try:
        confirm_url = reverse("items:pickup_confirm", args=[pickup.pk])
    except NoReverseMatch:
        confirm_url = None  # the post side installs the confirm page
    counter_html = text(verified_client(p["counter_clerk"]).get(reverse("items:pickup_detail", args=[pickup.pk])))
    clerk_html = text(verified_client(p["agency_clerk"]).get(reverse("items:pickup_detail", args=[pickup.pk])))
    assert 'data-testid="confirm-form"' not in clerk_html
    if confirm_url:
        assert 'data-testid="confirm-form"' in counter_html and confirm_url in counter_html
        assert f'value="{p["postman"].pk}"' in counter_html
    else:
        assert 'data-testid="confirm-form"' not in counter_html


def test_confirm_form_posts_to_the_post_side(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.C)
    pickup = svc.pickup_request(actor=p["agency_clerk"], agency=a.agency, tracking_numbers=[item.tracking_number])
    postman = f.cleared(p["postman"], Secrecy.C, police=p["police"])
    confirm_url = reverse("items:pickup_confirm", args=[pickup.pk])
    client = verified_client(p["counter_clerk"])
    response = client.post(confirm_url, {"postman": postman.pk})
    assert response.status_code == 302 and response.url == reverse("items:pickup_detail", args=[pickup.pk])
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.CONFIRMED and pickup.postman == postman
    html = text(client.get(response.url))
    assert 'data-testid="confirm-form"' not in html and postman.full_name in html


def test_clerk_cancels_a_pickup_request(a, world):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    pickup = svc.pickup_request(actor=p["agency_clerk"], agency=a.agency, tracking_numbers=[item.tracking_number])
    url = reverse("items:pickup_cancel", args=[pickup.pk])
    client = verified_client(p["agency_clerk"])
    assert url in text(client.get(reverse("items:pickup_detail", args=[pickup.pk])))
    # Others: the post has its own cancel page; another province does not see the pickup.
    assert verified_client(p["counter_clerk"]).post(url, {"reason": "x"}).status_code == 404
    assert verified_client(world["B"].people["agency_clerk"]).post(url, {"reason": "x"}).status_code == 404
    # A reason is required.
    response = client.post(url, {"reason": " "})
    assert response.status_code == 302
    assert "Ghi lý do hủy." in text(client.get(response.url))
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.REQUESTED
    response = client.post(url, {"reason": "Đã tự mang ra bưu cục"})
    pickup.refresh_from_db()
    item.refresh_from_db()
    assert pickup.status == PickupStatus.CANCELLED and item.pickup_request is None
    assert AuditEntry.objects.filter(action="pickup.cancelled", actor=p["agency_clerk"]).count() == 1
    # The item waits again and can go into a new request.
    assert item.tracking_number in text(client.get(reverse("items:pickup_new")))


def test_item_page_actions_follow_the_person(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    page = reverse("items:item_detail", args=[item.tracking_number])
    try:
        label = reverse("items:label", args=[item.tracking_number])
    except NoReverseMatch:
        label = None
    sender = text(verified_client(p["agency_clerk"]).get(page))
    recipient = text(verified_client(p["recipient_clerk"]).get(page))
    counter = text(verified_client(p["counter_clerk"]).get(page))
    assert cancel_url(item) in sender and cancel_url(item) not in recipient and cancel_url(item) not in counter
    assert reverse("items:pickup_new") in sender
    if label:
        assert label in sender and label in counter and label not in recipient
