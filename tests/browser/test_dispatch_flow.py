"""In the browser, each person in their own session: an item goes agency → city post office →
processing facility → commune post office → recipient through two sealed bags and a mail trip,
with custody in exactly one holder (a person or a sealed bag) at every step. A seal number typed
wrong on receiving and a bag opened without one of its items each produce an incident with its
written record (biên bản), which the witness confirms in their own session."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.directory.choices import FacilityKind
from kt1.dispatch import services as d
from kt1.dispatch.choices import BagStatus, TransferStatus, TripStatus
from kt1.dispatch.models import Bag, BagTransfer, MailTrip
from kt1.incidents.choices import IncidentKind
from kt1.incidents.models import Incident
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind, ItemStatus
from kt1.items.models import CustodyEvent
from tests import factories as f
from tests.browser.flows import (
    accept_at_counter,
    assert_held_by,
    hand_to_agency,
    holders,
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
def net(transactional_db):
    """One province: a city post office, the processing facility and a commune post office (with
    its counter clerk and postman), a route from processing to the commune office with two shifts,
    and a truck that is not a dedicated KT1 vehicle (so an escort rides along)."""
    w = f.build_province_world("Tỉnh Cao Bằng thử")
    p = w.people
    admin = f.root_admin()
    w.city_office = f.facility(w.province, kind=FacilityKind.POST_OFFICE, parent=w.provincial_post,
                               name="Bưu cục trung tâm thử")
    f.serials(w.city_office)
    p["counter_city"] = f.person("counter_clerk", facility=w.city_office, full_name="Phạm Thị Quầy")
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency, full_name="Lò Văn Nhận")
    for role in ("agency_clerk", "counter_city", "driver", "escort", "operator", "counter_clerk", "postman",
                 "recipient_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    d.mix_rule_set(actor=admin, groups=[["A"], ["B", "C"], ["none"]], valid_from=local_today() - dt.timedelta(days=1))
    w.route = d.mail_route_create(actor=admin, code="CB1", name="Khai thác → bưu cục xã", origin=w.processing,
                                  destination=w.post_office, shifts=[("Sáng", dt.time(7, 0)), ("Chiều", dt.time(14, 0))])
    w.truck = d.vehicle_create(actor=admin, registration="11A-000.01", facility=w.processing, is_dedicated=False)
    return w


def facility_label(facility) -> str:
    return f"{facility.postcode} {facility.name}"


def bag_of(page: Page) -> Bag:
    """The bag whose page is open (its S9 identifier is in the heading)."""
    identifier = page.locator("h1 .tracking").inner_text().strip()
    return Bag.objects.get(identifier=identifier)


def make_bag(page: Page, destination, item, seal: str) -> Bag:
    """Open a bag for a destination, scan the item in (a scanner types the number and Enter), seal."""
    tracking_number = item.tracking_number
    page.goto(reverse("dispatch:bag_new"))
    page.get_by_test_id("bag-new-form").get_by_label("Nơi nhận túi").select_option(label=facility_label(destination))
    page.get_by_role("button", name="Lập túi").click()
    expect(success(page)).to_contain_text("Đã lập túi")
    page.wait_for_load_state()  # htmx is ready: the scan swaps only its panel
    scan = page.get_by_label("Quét hoặc nhập số hiệu bưu gửi")
    scan.fill(tracking_number)
    scan.press("Enter")
    expect(page.locator("main")).to_contain_text(f"Đã cho {tracking_number} vào túi.")
    expect(page.get_by_test_id(f"line-{tracking_number}")).to_be_visible()
    bag = bag_of(page)
    assert_held_by(item, person=bag.created_by)  # an open bag holds nothing: still in hand until sealed
    seal_form = page.get_by_test_id("seal-form")
    seal_form.get_by_label("Số niêm phong (kẹp chì)").fill(seal)
    seal_form.get_by_role("button", name="Niêm phong").click()
    expect(success(page)).to_contain_text(f"số niêm phong {seal}, 1 bưu gửi")
    expect(page.locator("h1")).to_contain_text(label(BagStatus.SEALED))
    return Bag.objects.get(pk=bag.pk)


def give_bag(page: Page, bag: Bag, taker) -> None:
    """The holder lists the bag for the taker from the bag's page; nothing moves until they confirm."""
    page.goto(reverse("dispatch:bag_detail", args=[bag.pk]))
    page.get_by_role("link", name="Lập phiếu giao túi").click()
    form = page.get_by_test_id("transfer-form")
    expect(form.get_by_role("checkbox", name=re.compile(bag.identifier))).to_be_checked()
    form.get_by_label("Người nhận túi").select_option(label=person_label(taker))
    form.get_by_role("button", name="Lập phiếu và ký giao").click()
    expect(page.locator("h1")).to_contain_text(label(TransferStatus.OPEN))


def take_bags(page: Page, giver) -> None:
    """The taker opens the transfer waiting for them and confirms, in their own session."""
    page.goto(reverse("dispatch:transfer_inbox"))
    page.get_by_test_id("waiting").get_by_role("row").filter(has_text=giver.full_name).get_by_role("link").click()
    page.get_by_test_id("confirm-form").get_by_role("button", name="Xác nhận nhận túi").click()
    expect(success(page)).to_contain_text("các túi trên phiếu nay do bạn giữ")
    expect(page.locator("h1")).to_contain_text(label(TransferStatus.COMPLETED))


def receive_bag(page: Page, bag: Bag, seal_read: str, *, witnesses=()) -> None:
    """At the destination: read the seal, confirm it is intact (witnesses named), then the opening page.
    The page does not tell the destination the number: `seal_read` is what the person reads off the seal."""
    page.goto(reverse("dispatch:bag_detail", args=[bag.pk]))
    expect(page.get_by_test_id("seal-number")).to_have_text("Đọc trên kẹp chì khi nhận túi")
    page.get_by_role("link", name="Nhận túi, kiểm tra niêm phong").click()
    form = page.get_by_test_id("receive-form")
    form.get_by_label("Số niêm phong đọc trên túi").fill(seal_read)
    form.get_by_label("Niêm phong nguyên vẹn").check()
    if witnesses:
        form.get_by_label("Người chứng kiến").select_option(label=[person_label(u) for u in witnesses])
    form.get_by_role("button", name="Xác nhận nhận túi").click()
    expect(page).to_have_url(re.compile(rf"/dispatch/bags/{bag.pk}/open/"))


def scan_out(page: Page, tracking_number: str) -> None:
    page.wait_for_load_state()
    form = page.get_by_test_id("open-scan-form")
    form.get_by_label("Quét bưu gửi lấy ra khỏi túi").fill(tracking_number)
    form.get_by_role("button", name="Lấy ra khỏi túi").click()
    # Recorded on the bag line; custody moves when the opening is finished.
    expect(page.locator("main")).to_contain_text(f"Đã quét {tracking_number}; chuyển giao cho bạn khi kết thúc mở túi.")


def finish_opening(page: Page) -> None:
    page.get_by_test_id("finish-form").get_by_role("button", name="Kết thúc mở túi").click()  # confirms the dialog
    expect(page.locator("h1")).to_contain_text(label(BagStatus.OPENED))


def test_agency_to_recipient_through_two_bags_and_a_mail_trip(live_server, new_context, net):
    w, p = net, net.people
    item = f.item(p["agency_clerk"], w.other_agency, secrecy=Secrecy.C)
    tn = item.tracking_number

    # City post office: the counter clerk accepts the item (the agency clerk signs on screen).
    counter_city = sign_in(new_context, p["counter_city"])
    accept_at_counter(counter_city, w.agency, p["agency_clerk"], [tn])
    assert_held_by(item, person=p["counter_city"])

    # Bag 1, city post office → processing facility: sealing moves custody to the bag.
    bag1 = make_bag(counter_city, w.processing, item, "KC-0001")
    item = assert_held_by(item, bag=bag1)
    assert item.status == ItemStatus.IN_BAG and bag1.holder == p["counter_city"] and bag1.highest_secrecy == "C"
    pdf_ok(counter_city, counter_city.get_by_role("link", name="Bảng kê túi (PDF)").get_attribute("href"))

    # The driver takes the bag (confirming in his session), then hands it to the operator.
    give_bag(counter_city, bag1, p["driver"])
    assert Bag.objects.get(pk=bag1.pk).holder == p["counter_city"]  # until the driver confirms
    driver = sign_in(new_context, p["driver"])
    take_bags(driver, p["counter_city"])
    assert Bag.objects.get(pk=bag1.pk).holder == p["driver"]
    assert_held_by(item, bag=bag1)
    give_bag(driver, bag1, p["operator"])
    operator = sign_in(new_context, p["operator"])
    take_bags(operator, p["driver"])
    assert Bag.objects.get(pk=bag1.pk).holder == p["operator"]
    assert_held_by(item, bag=bag1)

    # Processing facility: the seal matches (typed in lower case), the bag is opened scan by scan.
    receive_bag(operator, bag1, "kc-0001")
    expect(success(operator)).to_contain_text("số niêm phong khớp")
    assert_held_by(item, bag=bag1)  # received, not yet opened
    scan_out(operator, tn)
    expect(operator.get_by_test_id("open-panel")).to_contain_text("Đã quét đủ các bưu gửi trong bảng kê.")
    expect(operator.get_by_test_id("custody-note")).to_contain_text("đã quét, chuyển giao khi kết thúc mở túi")
    assert_held_by(item, bag=bag1)  # scanned: custody moves when the opening is finished
    finish_opening(operator)
    expect(success(operator)).to_contain_text("không có sai lệch")
    assert_held_by(item, person=p["operator"])

    # Bag 2, processing facility → commune post office, on a mail trip.
    bag2 = make_bag(operator, w.post_office, item, "KC-0002")
    assert_held_by(item, bag=bag2)
    operator.goto(reverse("dispatch:trip_new"))
    operator.get_by_role("combobox", name=re.compile(r"^Đường thư")).select_option(
        label=f"{w.route.code} — {w.processing.name} → {w.post_office.name}")
    operator.get_by_role("button", name="Chọn").click()
    trip_form = operator.get_by_test_id("trip-form")
    trip_form.get_by_label(f"Chọn túi {bag2.identifier}").check()
    trip_form.get_by_role("button", name="Lập chuyến thư").click()
    expect(success(operator)).to_contain_text("Đã lập chuyến thư")
    expect(operator.get_by_test_id("blockers")).to_contain_text("Chuyến thư chưa được xếp lên chuyến xe.")
    trip = MailTrip.objects.get(route=w.route)
    trip_url = reverse("dispatch:trip_detail", args=[trip.pk])

    # The vehicle trip: the truck is not a dedicated KT1 vehicle, so it is refused without an escort.
    operator.get_by_role("link", name="Lập chuyến xe cho chuyến thư này").click()
    vt_form = operator.get_by_test_id("vehicle-trip-form")
    vt_form.get_by_role("combobox", name=re.compile(r"^Xe\b")).select_option(
        label=f"{w.truck.registration} (xe không chuyên dùng: cần áp tải)")
    vt_form.get_by_role("combobox", name=re.compile(r"^Lái xe")).select_option(label=person_label(p["driver"]))
    expect(vt_form.get_by_label(re.compile(trip.number))).to_be_checked()
    vt_form.get_by_role("button", name="Lập chuyến xe").click()
    expect(operator.get_by_test_id("vehicle-trip-form").get_by_role("alert").first).to_contain_text(
        "phải có người áp tải")
    operator.get_by_test_id("vehicle-trip-form").get_by_label("Áp tải").select_option(label=person_label(p["escort"]))
    operator.get_by_test_id("vehicle-trip-form").get_by_role("button", name="Lập chuyến xe").click()
    expect(operator).to_have_url(re.compile(rf"{trip_url}$"))
    expect(operator.get_by_test_id("vehicle-trip")).to_contain_text(p["escort"].full_name)
    blockers = operator.get_by_test_id("blockers")
    expect(blockers).to_contain_text(f"Tổ lái chưa nhận túi: {bag2.identifier}")

    # The crew takes the bag: the operator lists it for the escort from the trip page.
    blockers.get_by_role("link", name="Lập phiếu giao túi cho tổ lái").click()
    form = operator.get_by_test_id("transfer-form")
    expect(form.get_by_role("checkbox", name=re.compile(bag2.identifier))).to_be_checked()
    expect(form.get_by_label("Người nhận túi")).to_have_value(str(p["escort"].pk))
    form.get_by_role("button", name="Lập phiếu và ký giao").click()
    expect(operator.locator("main")).to_contain_text(trip.number)
    escort = sign_in(new_context, p["escort"])
    take_bags(escort, p["operator"])
    assert Bag.objects.get(pk=bag2.pk).holder == p["escort"]
    assert_held_by(item, bag=bag2)

    # Departure and arrival, confirmed by the crew.
    driver.goto(trip_url)
    expect(driver.get_by_test_id("blockers")).to_have_count(0)
    driver.get_by_test_id("crew-actions").get_by_role("button", name="Xuất phát").click()
    expect(success(driver)).to_contain_text("đã xuất phát")
    escort.goto(trip_url)
    escort.get_by_test_id("crew-actions").get_by_role("button", name="Đã đến nơi").click()
    expect(success(escort)).to_contain_text("đã đến nơi")
    assert MailTrip.objects.get(pk=trip.pk).status == TripStatus.ARRIVED
    assert_held_by(item, bag=bag2)

    # Commune post office: the escort hands the bag to the counter clerk, who receives and opens it.
    give_bag(escort, bag2, p["counter_clerk"])
    commune = sign_in(new_context, p["counter_clerk"])
    take_bags(commune, p["escort"])
    assert Bag.objects.get(pk=bag2.pk).holder == p["counter_clerk"]
    receive_bag(commune, bag2, "KC-0002")
    scan_out(commune, tn)
    assert_held_by(item, bag=bag2)  # scanned, still held by the bag until the opening is finished
    finish_opening(commune)
    assert_held_by(item, person=p["counter_clerk"])

    # The commune postman takes it (signing in his session) and delivers it; the clerk signs on screen.
    list_for_colleague(commune, tn, p["postman"])
    postman = sign_in(new_context, p["postman"])
    sign_inbox_list(postman, p["counter_clerk"])
    assert_held_by(item, person=p["postman"])
    out_for_delivery(postman, tn)
    hand_to_agency(postman, w.other_agency, HandoverKind.DELIVERY, p["recipient_clerk"])
    item = assert_held_by(item, person=p["recipient_clerk"])
    assert item.status == ItemStatus.DELIVERED

    # The item page shows the journey through both bags.
    postman.goto(reverse("items:item_detail", args=[tn]))
    codes = ["KREG", "EMA", "KBAG", "KOUT", "KBAG", "KOUT", "KHOV", "EDG", "EMI"]
    assert [c.strip() for c in postman.locator("table.timeline tbody tr td code").all_inner_texts()] == codes
    assert list(CustodyEvent.objects.filter(item=item).order_by("seq").values_list("code", flat=True)) == codes
    assert [b.status for b in Bag.objects.filter(pk__in=[bag1.pk, bag2.pk]).order_by("pk")] == [BagStatus.OPENED] * 2
    assert BagTransfer.objects.filter(status=TransferStatus.COMPLETED).count() == 4
    assert not BagTransfer.objects.filter(status=TransferStatus.OPEN).exists()
    assert not Incident.objects.exists()
    assert audit_verify().ok


def test_seal_mismatch_and_missing_item_become_incidents_with_records(live_server, new_context, net):
    w, p = net, net.people
    # Built through the services: two items accepted and handed to the operator, sealed in one bag
    # for the commune post office, and handed to its counter clerk.
    items = []
    for _ in range(2):
        it = f.item(p["agency_clerk"], w.other_agency)
        for actor, code in ((p["counter_clerk"], EventCode.ACCEPTED), (p["operator"], EventCode.HANDOVER)):
            svc.custody_record(actor=actor, request=svc.CustodyRequest(
                event_uuid=uuid.uuid4(), tracking_number=it.tracking_number, code=code))
        items.append(it)
    present, missing = items
    bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    for it in items:
        d.bag_add_item(actor=p["operator"], bag=bag, tracking_number=it.tracking_number)
    bag = d.bag_seal(actor=p["operator"], bag=bag, seal_number="KC-0100")
    transfer = d.transfer_create(actor=p["operator"], taker=p["counter_clerk"], bags=[bag])
    d.transfer_complete(actor=p["counter_clerk"], transfer=transfer)

    # The seal number is read wrong: the bag is received anyway, with an incident and its record.
    commune = sign_in(new_context, p["counter_clerk"])
    receive_bag(commune, bag, "KC-0109", witnesses=[p["postman"]])
    warning = commune.locator("main .messages .msg.warning")
    expect(warning).to_contain_text("có sai lệch về niêm phong")
    expect(warning.get_by_role("link")).to_contain_text(label(IncidentKind.SEAL_MISMATCH))
    assert holders(present) == (None, bag.pk) and holders(missing) == (None, bag.pk)

    # Opened with one item never scanned: finishing records it missing, still in the bag.
    scan_out(commune, present.tracking_number)
    assert holders(present) == (None, bag.pk)
    expect(commune.get_by_test_id("remaining")).to_contain_text(missing.tracking_number)
    finish_opening(commune)
    expect(commune.locator("main .messages .msg.warning")).to_contain_text("thiếu 1")
    expect(commune.get_by_test_id("missing-count")).to_contain_text(missing.tracking_number)
    incidents = commune.get_by_test_id("opening-incidents")
    expect(incidents).to_contain_text(label(IncidentKind.SEAL_MISMATCH))
    expect(incidents).to_contain_text(f"{label(IncidentKind.MISSING_ITEM)} ({missing.tracking_number})")
    assert holders(present) == (p["counter_clerk"].pk, None)
    assert holders(missing) == (None, bag.pk)  # never silently dropped

    # Both incidents are on the incident page, each with its written record.
    commune.goto(reverse("incidents:incident_list"))
    expect(commune.get_by_test_id("count")).to_contain_text("2 sự cố")
    commune.get_by_role("row").filter(has_text=label(IncidentKind.SEAL_MISMATCH)).get_by_role("link").first.click()
    record = commune.get_by_test_id("record")
    expect(record).to_contain_text("KC-0109")
    expect(record.get_by_test_id("present")).to_contain_text(p["postman"].full_name)
    expect(record).to_contain_text("1 người chưa xác nhận")
    pdf_ok(commune, record.get_by_role("link", name="Biên bản (PDF)").get_attribute("href"))
    seal_url = commune.url
    commune.goto(reverse("incidents:incident_list"))
    commune.get_by_role("row").filter(has_text=label(IncidentKind.MISSING_ITEM)).get_by_role("link").first.click()
    expect(commune.locator("main dl.facts").first).to_contain_text(missing.tracking_number)
    expect(commune.get_by_test_id("record")).to_have_count(1)

    # The witness confirms the seal record in his own session.
    postman = sign_in(new_context, p["postman"])
    postman.goto(seal_url)
    postman.get_by_test_id("confirm-form").get_by_role("button", name="Xác nhận biên bản").click()
    expect(postman.get_by_test_id("record")).to_contain_text("Đã đủ xác nhận")

    kinds = sorted(Incident.objects.values_list("kind", flat=True))
    assert kinds == ["missing_item", "seal_mismatch"]
    assert Incident.objects.get(kind="missing_item").item == missing
    seal_incident = Incident.objects.get(kind="seal_mismatch")
    assert seal_incident.bag == bag and seal_incident.records.get().fully_confirmed
    assert audit_verify().ok
