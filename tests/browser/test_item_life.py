"""A whole item life in the browser, each person in their own session: the agency clerk registers
an item and asks for a pickup, the counter clerk confirms it and sends a postman, the postman
collects it (the clerk signs on his screen), hands it to an operator who signs in their own
session, gets it back, fails a first attempt with a reason, then delivers it with the recipient
clerk's signature drawn on screen; the recipient clerk finds it delivered. A second item is
accepted at the counter and returned to the sender on the supervisor's decision.

The pages are checked for what a person sees (status labels, timeline codes, PDFs); the database
for the custody chain (exactly one holder at every step, every event in order)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kt1.audit.models import AuditEntry
from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.items.choices import HandoverKind, HandoverStatus, ItemStatus
from kt1.items.models import CustodyEvent, HandoverList, Item
from tests import factories as f
from tests.browser.flows import (
    agency_label,
    assert_held_by,
    attempt_failed,
    draw_signature,
    hand_to_agency,
    label,
    list_for_colleague,
    out_for_delivery,
    pdf_ok,
    person_label,
    sign_in,
    sign_inbox_list,
    success,
)


@pytest.fixture
def town(transactional_db):
    w = f.build_province_world("Tỉnh Hà Giang thử")
    p = w.people
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency, full_name="Lò Thị Nhận")
    for role in ("agency_clerk", "counter_clerk", "postman", "operator", "recipient_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    return w


def timeline_codes(page: Page) -> list[str]:
    return [c.strip() for c in page.locator("table.timeline tbody tr td code").all_inner_texts()]


def assert_one_holder_chain(item: Item) -> list[str]:
    """Every custody move starts from the previous taker; the events are numbered without gaps."""
    events = list(CustodyEvent.objects.filter(item=item).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    holder = events[0].taker_id
    for e in events[1:]:
        if e.taker_id and e.code in ("EMA", "KHOV", "EMI"):
            assert e.giver_id == holder, (e.code, e.giver_id, holder)
            holder = e.taker_id
    assert holder == Item.objects.get(pk=item.pk).holder_id
    return [e.code for e in events]


def test_pickup_internal_handover_failed_attempt_and_delivery(live_server, new_context, town):
    w, p = town, town.people

    # The sender's clerk registers the item on the register page.
    clerk = sign_in(new_context, p["agency_clerk"])
    clerk.goto(reverse("items:register"))
    with clerk.expect_response(re.compile(r"/items/register/addresses/")):
        clerk.get_by_label("Cơ quan nhận").select_option(label=agency_label(w.other_agency))
    clerk.get_by_label("Loại bưu gửi").select_option("letter")
    clerk.get_by_label("Khối lượng (g)").fill("150")
    clerk.get_by_label(re.compile(r"^Độ mật\b")).select_option("C")
    clerk.get_by_label("Số đăng ký (sổ đi)").fill("15/UBND-VP")
    clerk.get_by_role("button", name="Đăng ký", exact=True).click()
    expect(success(clerk)).to_contain_text("Đã đăng ký bưu gửi số hiệu")
    tracking = clerk.get_by_test_id("tracking-number").inner_text().strip()
    expect(clerk.locator("h1")).to_contain_text(label(ItemStatus.REGISTERED))
    expect(clerk.get_by_test_id("event-KREG")).to_have_count(1)
    expect(clerk.get_by_test_id("private")).to_contain_text("15/UBND-VP")
    pdf_ok(clerk, clerk.locator("main .actions").get_by_role("link", name="In nhãn").get_attribute("href"))
    item = assert_held_by(Item.objects.get(tracking_number=tracking), person=p["agency_clerk"])
    assert item.status == ItemStatus.REGISTERED and item.secrecy == Secrecy.C

    # ... and asks the post to collect it.
    clerk.locator("main .actions").get_by_role("link", name="Yêu cầu thu gom", exact=True).click()
    expect(clerk.get_by_label(re.compile(tracking))).to_be_checked()
    clerk.get_by_role("button", name="Gửi yêu cầu").click()
    expect(success(clerk)).to_contain_text("Đã gửi yêu cầu thu gom")
    pickup_url = clerk.url
    pickup = Item.objects.get(pk=item.pk).pickup_request

    # The counter clerk confirms the request and assigns the postman.
    counter = sign_in(new_context, p["counter_clerk"])
    counter.goto(pickup_url)
    confirm = counter.get_by_test_id("confirm-form")
    confirm.get_by_label("Bưu tá thu gom").select_option(label=p["postman"].full_name)
    confirm.get_by_role("button", name="Xác nhận").click()
    expect(success(counter)).to_contain_text(p["postman"].full_name)
    expect(counter.locator("h1")).to_contain_text("Đã xác nhận, chờ thu gom")

    # The postman collects it at the agency: the clerk writes their name and signs on his screen.
    postman = sign_in(new_context, p["postman"])
    postman.goto(reverse("items:my_items"))
    postman.get_by_role("region", name="Yêu cầu thu gom được phân công cho tôi").get_by_role(
        "link", name=pickup.number).click()
    form = postman.get_by_test_id("collect-form")
    expect(form.get_by_label("Văn thư giao bưu gửi")).to_have_value(str(p["agency_clerk"].pk))
    form.get_by_label("Họ tên văn thư (tự ghi)").fill(p["agency_clerk"].full_name)
    draw_signature(postman, form)
    form.get_by_role("button", name="Xác nhận nhận bưu gửi").click()
    expect(success(postman)).to_contain_text("Đã thu gom 1 bưu gửi")
    expect(postman.locator("h1")).to_contain_text(label(HandoverStatus.COMPLETED))
    expect(postman.get_by_role("img", name=f"Chữ ký của {p['agency_clerk'].full_name}")).to_be_visible()
    item = assert_held_by(item, person=p["postman"])
    assert item.status == ItemStatus.ACCEPTED and item.accepted_at is not None
    clerk.goto(pickup_url)
    expect(clerk.locator("h1")).to_contain_text("Đã thu gom")

    # Internal handover: the postman lists it for the operator, who signs in their own session.
    list_for_colleague(postman, tracking, p["operator"])
    assert_held_by(item, person=p["postman"])  # nothing moves until the taker signs
    operator = sign_in(new_context, p["operator"])
    sign_inbox_list(operator, p["postman"])
    assert_held_by(item, person=p["operator"])

    # The operator records the item into sorting at the processing facility.
    operator.goto(reverse("items:record_event", args=[tracking]))
    event_form = operator.get_by_test_id("event-form")
    event_form.get_by_label("Sự kiện").select_option("EDD")
    event_form.get_by_role("button", name="Ghi sự kiện").click()
    expect(success(operator)).to_contain_text("Đến cơ sở khai thác")
    item = assert_held_by(item, person=p["operator"])
    assert item.facility == w.processing

    # Back to the postman for delivery (he signs in his own session).
    list_for_colleague(operator, tracking, p["postman"])
    sign_inbox_list(postman, p["operator"])
    assert_held_by(item, person=p["postman"])

    # First attempt fails: nobody to sign at the agency.
    out_for_delivery(postman, tracking)
    attempt_failed(postman, tracking, "ABSENT")
    item = assert_held_by(item, person=p["postman"])
    assert item.status == ItemStatus.DELIVERY_FAILED and item.first_attempt_at is not None
    postman.goto(reverse("items:record_event", args=[tracking]))
    expect(postman.get_by_test_id("status")).to_have_text(label(ItemStatus.DELIVERY_FAILED))

    # Second attempt: the recipient clerk signs on the postman's screen.
    out_for_delivery(postman, tracking)
    hand_to_agency(postman, w.other_agency, HandoverKind.DELIVERY, p["recipient_clerk"])
    pdf_ok(postman, postman.get_by_role("link", name="Biên nhận (PDF)").get_attribute("href"))
    item = assert_held_by(item, person=p["recipient_clerk"])
    assert item.status == ItemStatus.DELIVERED and item.delivered_at is not None

    # The recipient clerk finds it delivered among incoming items, and tracks it by identifier.
    recipient = sign_in(new_context, p["recipient_clerk"])
    recipient.goto(reverse("items:incoming"))
    row = recipient.get_by_role("row").filter(has_text=tracking)
    expect(row).to_contain_text(label(ItemStatus.DELIVERED))
    recipient.goto(reverse("items:track"))
    recipient.get_by_label("Số hiệu bưu gửi").fill(tracking.lower())
    recipient.get_by_role("button", name="Tra cứu").click()
    expect(recipient).to_have_url(re.compile(rf"/items/{tracking}/$"))
    expect(recipient.locator("h1")).to_contain_text(label(ItemStatus.DELIVERED))
    expect(recipient.get_by_test_id("private")).to_contain_text("15/UBND-VP")  # the receiving agency's clerk
    expected = ["KREG", "EMA", "KHOV", "EDD", "KHOV", "EDG", "EMH", "EDG", "EMI"]
    assert timeline_codes(recipient) == expected
    expect(recipient.get_by_test_id("event-EMH")).to_contain_text("Cơ quan nhận không có người nhận")

    # The database agrees: one holder at every step, each move signed for.
    assert assert_one_holder_chain(item) == expected
    kinds = list(HandoverList.objects.filter(lines__item=item).order_by("pk").values_list("kind", "status"))
    assert kinds == [(HandoverKind.PICKUP, "completed"), (HandoverKind.INTERNAL, "completed"),
                     (HandoverKind.INTERNAL, "completed"), (HandoverKind.DELIVERY, "completed")]
    delivery = HandoverList.objects.get(lines__item=item, kind=HandoverKind.DELIVERY)
    assert delivery.taker_signature.startswith("data:image/png;base64,")
    assert delivery.taker_signed_name == p["recipient_clerk"].full_name
    assert AuditEntry.objects.filter(action="pickup.confirmed").count() == 1
    assert audit_verify().ok


def test_counter_acceptance_and_return_to_sender(live_server, new_context, town):
    w, p = town, town.people

    # At the counter: register the item on the agency's behalf, then accept it with the clerk's
    # signature drawn on the counter clerk's screen.
    counter = sign_in(new_context, p["counter_clerk"])
    counter.goto(reverse("items:counter_accept"))
    counter.get_by_role("combobox", name=re.compile(r"^Cơ quan gửi")).select_option(label=agency_label(w.agency))
    counter.get_by_role("button", name="Chọn").click()
    counter.get_by_role("link", name="Đăng ký bưu gửi mới tại quầy").click()
    form = counter.get_by_test_id("register-form")
    form.get_by_label("Văn thư mang bưu gửi đến").select_option(label=person_label(p["agency_clerk"]))
    form.get_by_label("Cơ quan nhận").select_option(label=agency_label(w.other_agency))
    form.get_by_label("Loại bưu gửi").select_option("packet")
    form.get_by_label("Khối lượng (g)").fill("800")
    form.get_by_role("button", name="Đăng ký và cấp số hiệu").click()
    expect(success(counter)).to_contain_text("Đã đăng ký bưu gửi")
    item = Item.objects.get(sender_agency=w.agency)
    tracking = item.tracking_number
    assert_held_by(item, person=p["agency_clerk"])
    form = counter.get_by_test_id("counter-form")
    expect(form.get_by_label("Số hiệu bưu gửi")).to_have_value(tracking)
    expect(form.get_by_label("Văn thư mang bưu gửi đến")).to_have_value(str(p["agency_clerk"].pk))
    form.get_by_label("Họ tên văn thư (tự ghi)").fill(p["agency_clerk"].full_name)
    draw_signature(counter, form)
    form.get_by_role("button", name="Xác nhận chấp nhận").click()
    expect(success(counter)).to_contain_text("Đã chấp nhận 1 bưu gửi")
    item = assert_held_by(item, person=p["counter_clerk"])
    assert item.status == ItemStatus.ACCEPTED
    pdf_ok(counter, reverse("items:label", args=[tracking]))

    # The counter clerk hands it to the postman, who fails because the agency has moved.
    list_for_colleague(counter, tracking, p["postman"])
    postman = sign_in(new_context, p["postman"])
    sign_inbox_list(postman, p["counter_clerk"])
    out_for_delivery(postman, tracking)
    attempt_failed(postman, tracking, "MOVED")
    assert CustodyEvent.objects.get(item=item, code="EMH").next_action == "return"

    # The supervisor decides the return.
    supervisor = sign_in(new_context, p["supervisor"])
    supervisor.goto(reverse("items:record_event", args=[tracking]))
    back = supervisor.get_by_test_id("return-form")
    back.get_by_label("Lý do chuyển hoàn").fill("Cơ quan nhận đã chuyển địa điểm")
    back.get_by_role("button", name="Chuyển hoàn").click()  # confirms the dialog
    expect(success(supervisor)).to_contain_text(f"Đã chuyển hoàn bưu gửi {tracking}")
    expect(supervisor.locator("h1")).to_contain_text("Chuyển hoàn")
    item = assert_held_by(item, person=p["postman"])
    assert item.is_returning and item.status == ItemStatus.ACCEPTED

    # The postman takes it back to the sender, whose clerk signs on his screen.
    out_for_delivery(postman, tracking)
    hand_to_agency(postman, w.agency, HandoverKind.RETURN, p["agency_clerk"])
    item = assert_held_by(item, person=p["agency_clerk"])
    assert item.status == ItemStatus.RETURNED

    # The sender's clerk sees it returned among outgoing items, with the whole journey.
    clerk = sign_in(new_context, p["agency_clerk"])
    clerk.goto(reverse("items:outgoing"))
    expect(clerk.get_by_role("row").filter(has_text=tracking)).to_contain_text(label(ItemStatus.RETURNED))
    clerk.get_by_role("link", name=tracking).click()
    expect(clerk.locator("h1")).to_contain_text(label(ItemStatus.RETURNED))
    expected = ["KREG", "EMA", "KHOV", "EDG", "EMH", "KRET", "EDG", "EMI"]
    assert timeline_codes(clerk) == expected
    expect(clerk.get_by_test_id("event-KRET")).to_contain_text("Cơ quan nhận đã chuyển địa điểm")
    assert assert_one_holder_chain(item) == expected
    assert list(HandoverList.objects.filter(lines__item=item).order_by("pk").values_list("kind", flat=True)) == [
        HandoverKind.COUNTER, HandoverKind.INTERNAL, HandoverKind.RETURN]
    assert audit_verify().ok
