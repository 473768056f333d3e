"""The post-side pages, browserless: pickup confirmation and collection, counter acceptance,
internal handover lists signed in the taker's own session, events on held items, failed attempts,
delivery and return signed on the postman's screen, and the refusals, each of which leaves the item
as it was."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from kt1.audit.models import AuditEntry
from kt1.core.choices import Secrecy
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind, HandoverStatus, ItemStatus
from kt1.items.models import CustodyEvent, HandoverList, Item, PickupRequest
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db
SIG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture
def a(world):
    w = world["A"]
    p = w.people
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency, full_name="Văn thư nhận")
    for role in ("agency_clerk", "counter_clerk", "postman", "operator", "supervisor", "recipient_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    return w


@pytest.fixture
def c(a):
    """One signed-in browser per person, created on first use."""
    clients = {}

    def client(role):
        if role not in clients:
            clients[role] = verified_client(a.people[role])
        return clients[role]

    return client


def refresh(item) -> Item:
    return Item.objects.get(pk=item.pk)


def codes(item) -> list[str]:
    return list(CustodyEvent.objects.filter(item=item).order_by("seq").values_list("code", flat=True))


def accept_at_counter(a, item):
    p = a.people
    h = svc.handover_create(actor=p["counter_clerk"], kind=HandoverKind.COUNTER, tracking_numbers=[item.tracking_number],
                            giver=p["agency_clerk"], taker=p["counter_clerk"], giver_signature=SIG,
                            giver_signed_name="Văn thư gửi")
    svc.handover_complete(actor=p["counter_clerk"], handover=h)
    return refresh(item)


def hand_over(c, a, giver: str, taker: str, item):
    """Internal handover through the pages: the giver lists, the taker signs in his own session."""
    r = c(giver).post(reverse("items:handover_new"), {"items": [item.tracking_number], "taker": a.people[taker].pk})
    assert r.status_code == 302, r.content.decode()
    handover = HandoverList.objects.filter(kind=HandoverKind.INTERNAL).latest("pk")
    r = c(taker).post(reverse("items:handover_complete", args=[handover.pk]))
    assert r.status_code == 302
    assert refresh(item).holder == a.people[taker]
    return handover


def bulk(client, item, code, batch=None):
    return client.post(reverse("items:my_items"), {
        "items": [item.tracking_number], "code": code, "batch": str(batch or uuid.uuid4()), "facility": "", "note": "",
    })


def test_pickup_to_delivery_through_the_pages(a, c):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.C)
    n = item.tracking_number
    pickup = svc.pickup_request(actor=p["agency_clerk"], agency=a.agency, tracking_numbers=[n])

    # The counter clerk confirms and assigns the postman.
    r = c("counter_clerk").post(reverse("items:pickup_confirm", args=[pickup.pk]), {"postman": p["postman"].pk})
    assert r.status_code == 302
    pickup.refresh_from_db()
    assert pickup.status == "confirmed" and pickup.postman == p["postman"]
    assert AuditEntry.objects.filter(action="pickup.confirmed").exists()

    # The postman at the agency: the page offers the signature pad for the clerk.
    url = reverse("items:pickup_collect", args=[pickup.pk])
    page = c("postman").get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="signature-pad"' in html and 'name="signature"' in html and "signature.js" in html
    assert "Xóa chữ ký" in html and n in html
    form = {f"take_{n}": "on", f"ok_{n}": "on", f"weight_{n}": "130", "giver": p["agency_clerk"].pk,
            "giver_signed_name": "Nguyễn Văn Thư"}
    # Without the clerk's signature nothing happens.
    r = c("postman").post(url, form)
    assert r.status_code == 200 and "Hãy ký trên màn hình" in r.content.decode()
    assert refresh(item).status == ItemStatus.REGISTERED and not HandoverList.objects.exists()
    r = c("postman").post(url, {**form, "signature": SIG})
    assert r.status_code == 302
    pickup_list = HandoverList.objects.get(kind=HandoverKind.PICKUP)
    assert r["Location"] == reverse("items:handover_detail", args=[pickup_list.pk])
    assert pickup_list.status == HandoverStatus.COMPLETED and pickup_list.giver_signature == SIG
    assert pickup_list.giver_signed_name == "Nguyễn Văn Thư" and pickup_list.lines.get().weight_g == 130
    item = refresh(item)
    assert item.status == ItemStatus.ACCEPTED and item.holder == p["postman"]
    assert PickupRequest.objects.get(pk=pickup.pk).status == "collected"
    assert AuditEntry.objects.filter(action="handover.completed", object_id=str(pickup_list.pk)).exists()
    detail = c("postman").get(r["Location"]).content.decode()
    assert f'src="{SIG}"' in detail and "Nguyễn Văn Thư" in detail

    # Internal handover: the postman lists it for the operator, who signs in his own session.
    r = c("postman").post(reverse("items:handover_new"), {"items": [n], "taker": p["operator"].pk})
    assert r.status_code == 302
    internal = HandoverList.objects.get(kind=HandoverKind.INTERNAL)
    assert internal.status == HandoverStatus.OPEN and refresh(item).holder == p["postman"]
    inbox = c("operator").get(reverse("items:handover_list")).content.decode()
    assert internal.number in inbox.split('data-testid="inbox"')[1].split("</section>")[0]
    assert "Ký nhận" in c("operator").get(reverse("items:handover_detail", args=[internal.pk])).content.decode()
    r = c("operator").post(reverse("items:handover_complete", args=[internal.pk]))
    assert r.status_code == 302
    assert refresh(item).holder == p["operator"]

    # Back to the postman, who takes it out for delivery.
    hand_over(c, a, "operator", "postman", item)
    batch = uuid.uuid4()
    assert bulk(c("postman"), item, EventCode.OUT_FOR_DELIVERY, batch).status_code == 302
    assert refresh(item).status == ItemStatus.OUT_FOR_DELIVERY
    bulk(c("postman"), item, EventCode.OUT_FOR_DELIVERY, batch)  # a double submit records nothing twice
    assert codes(item).count("EDG") == 1

    # A failed attempt: reason from the configured list, next action.
    url = reverse("items:attempt_failed", args=[n])
    page = c("postman").get(url).content.decode()
    assert "Cơ quan nhận không có người nhận" in page
    r = c("postman").post(url, {"reason": "ABSENT", "next_action": "retry", "note": "Cửa đóng", "event": str(uuid.uuid4())})
    assert r.status_code == 302
    item = refresh(item)
    assert item.status == ItemStatus.DELIVERY_FAILED and item.first_attempt_at is not None
    failed = CustodyEvent.objects.get(item=item, code="EMH")
    assert failed.reason.code == "ABSENT" and failed.next_action == "retry"

    # Delivery: the recipient clerk signs on the postman's screen.
    bulk(c("postman"), item, EventCode.OUT_FOR_DELIVERY)
    page = c("postman").get(reverse("items:deliver")).content.decode()
    assert a.other_agency.name in page
    url = reverse("items:deliver") + f"?agency={a.other_agency.pk}&kind=delivery"
    page = c("postman").get(url).content.decode()
    assert 'data-testid="signature-pad"' in page and "Văn thư nhận" in page
    r = c("postman").post(url, {"items": [n], "taker": p["recipient_clerk"].pk, "taker_signed_name": "Lê Thị Nhận",
                                "signature": SIG})
    assert r.status_code == 302
    item = refresh(item)
    assert item.status == ItemStatus.DELIVERED and item.holder == p["recipient_clerk"] and item.delivered_at
    delivery = HandoverList.objects.get(kind=HandoverKind.DELIVERY)
    assert delivery.status == HandoverStatus.COMPLETED and delivery.taker_signature == SIG
    assert delivery.taker_signed_name == "Lê Thị Nhận"
    assert codes(item) == ["KREG", "EMA", "KHOV", "KHOV", "EDG", "EMH", "EDG", "EMI"]
    assert AuditEntry.objects.filter(action="custody.recorded").count() >= len(codes(item))
    assert AuditEntry.objects.filter(action="handover.completed").count() == 4
    # The recipient's clerk sees the list of their agency with the signature.
    page = c("recipient_clerk").get(reverse("items:handover_detail", args=[delivery.pk])).content.decode()
    assert "Lê Thị Nhận" in page


def test_counter_registration_acceptance_and_return(a, c):
    p = a.people
    # The counter clerk registers an item on the spot for the clerk present, then accepts it.
    url = reverse("items:counter_register") + f"?agency={a.agency.pk}"
    assert c("counter_clerk").get(url).status_code == 200
    r = c("counter_clerk").post(url, {"holder": p["agency_clerk"].pk, "recipient_agency": a.other_agency.pk,
                                      "kind": "letter", "weight_g": "80", "secrecy": "none", "urgency": "none"})
    assert r.status_code == 302
    item = Item.objects.get()
    assert item.status == ItemStatus.REGISTERED and item.holder == p["agency_clerk"]
    assert item.tracking_number in r["Location"]
    page = c("counter_clerk").get(r["Location"]).content.decode()
    assert item.tracking_number in page and 'data-testid="signature-pad"' in page
    r = c("counter_clerk").post(r["Location"], {"giver": p["agency_clerk"].pk, "tracking_numbers": f"{item.tracking_number}\n",
                                                "giver_signed_name": "Văn thư gửi", "signature": SIG})
    assert r.status_code == 302
    counter = HandoverList.objects.get(kind=HandoverKind.COUNTER)
    assert counter.status == HandoverStatus.COMPLETED and counter.giver_signature == SIG
    item = refresh(item)
    assert item.status == ItemStatus.ACCEPTED and item.holder == p["counter_clerk"]

    hand_over(c, a, "counter_clerk", "postman", item)
    bulk(c("postman"), item, EventCode.OUT_FOR_DELIVERY)
    c("postman").post(reverse("items:attempt_failed", args=[item.tracking_number]),
                      {"reason": "MOVED", "next_action": "", "event": str(uuid.uuid4())})
    assert CustodyEvent.objects.get(item=item, code="EMH").next_action == "return"

    # A postman does not decide a return; the supervisor does.
    url = reverse("items:return_start", args=[item.tracking_number])
    assert c("postman").post(url, {"note": "x", "event": str(uuid.uuid4())}).status_code == 404
    page = c("supervisor").get(reverse("items:record_event", args=[item.tracking_number])).content.decode()
    assert 'data-testid="return-form"' in page
    r = c("supervisor").post(url, {"note": "Cơ quan nhận đã chuyển địa điểm", "event": str(uuid.uuid4())})
    assert r.status_code == 302
    item = refresh(item)
    assert item.is_returning and item.status == ItemStatus.ACCEPTED and item.holder == p["postman"]

    # Delivered back to the sender's clerk under the same controls, on a return list.
    bulk(c("postman"), item, EventCode.OUT_FOR_DELIVERY)
    url = reverse("items:deliver") + f"?agency={a.agency.pk}&kind=return"
    r = c("postman").post(url, {"items": [item.tracking_number], "taker": p["agency_clerk"].pk,
                                "taker_signed_name": "Văn thư gửi", "signature": SIG})
    assert r.status_code == 302
    item = refresh(item)
    assert item.status == ItemStatus.RETURNED and item.holder == p["agency_clerk"]
    assert HandoverList.objects.get(kind=HandoverKind.RETURN).status == HandoverStatus.COMPLETED


def test_refusals_leave_the_item_unchanged(a, c, world):
    p = a.people
    item = accept_at_counter(a, f.item(p["agency_clerk"], a.other_agency))
    n = item.tracking_number
    before = codes(item)
    refused = AuditEntry.objects.filter(action="custody.refused").count()

    # Handing over an item you don't hold.
    r = c("postman").post(reverse("items:handover_new"), {"scanned": n, "taker": p["operator"].pk})
    assert r.status_code == 200 and "không giữ bưu gửi" in r.content.decode()
    r = c("postman").post(reverse("items:record_event", args=[n]),
                          {"code": EventCode.OUT_FOR_DELIVERY, "event": str(uuid.uuid4())})
    assert r.status_code == 200 and "Bạn không giữ bưu gửi" in r.content.decode()
    assert AuditEntry.objects.filter(action="custody.refused").count() == refused + 1

    # An unvetted taker: the message says why.
    r = c("counter_clerk").post(reverse("items:handover_new"), {"items": [n], "taker": p["driver"].pk})
    assert r.status_code == 200
    assert "chưa có kết quả thẩm tra chính trị còn hiệu lực" in r.content.decode()
    assert not HandoverList.objects.filter(kind=HandoverKind.INTERNAL).exists()

    # Completing a list you are not the taker of: 403 if you can see it, 404 if you cannot.
    r = c("counter_clerk").post(reverse("items:handover_new"), {"items": [n], "taker": p["operator"].pk})
    assert r.status_code == 302
    internal = HandoverList.objects.get(kind=HandoverKind.INTERNAL)
    complete = reverse("items:handover_complete", args=[internal.pk])
    assert c("counter_clerk").post(complete).status_code == 403  # the giver
    assert c("supervisor").post(complete).status_code == 403  # sees the list, is not its taker
    assert c("postman").post(complete).status_code == 404  # not a party, not his list
    assert HandoverList.objects.get(pk=internal.pk).status == HandoverStatus.OPEN

    # Out of scope: another province's staff find nothing.
    other = verified_client(world["B"].people["counter_clerk"])
    assert other.get(reverse("items:handover_detail", args=[internal.pk])).status_code == 404
    assert other.get(reverse("items:record_event", args=[n])).status_code == 404
    assert other.post(complete).status_code == 404

    # An illegal transition: a 409 page in Vietnamese, nothing recorded but the refusal.
    r = c("counter_clerk").post(reverse("items:record_event", args=[n]), {
        "code": EventCode.DELIVERY_FAILED, "reason": "ABSENT", "event": str(uuid.uuid4())})
    assert r.status_code == 409 and "Không thể ghi sự kiện" in r.content.decode()
    last = AuditEntry.objects.filter(action="custody.refused").latest("seq")
    assert last.data["error"] == "illegal_transition"

    item = refresh(item)
    assert codes(item) == before and item.holder == p["counter_clerk"] and item.status == ItemStatus.ACCEPTED

    # The giver withdraws the list with a reason; the item can be listed again.
    r = c("counter_clerk").post(reverse("items:handover_cancel", args=[internal.pk]), {"reason": ""})
    assert r.status_code == 200 and HandoverList.objects.get(pk=internal.pk).status == HandoverStatus.OPEN
    r = c("counter_clerk").post(reverse("items:handover_cancel", args=[internal.pk]), {"reason": "Nhầm người nhận"})
    assert r.status_code == 302
    assert HandoverList.objects.get(pk=internal.pk).status == HandoverStatus.CANCELLED
    assert AuditEntry.objects.filter(action="handover.cancelled").exists()
    # A closed list cannot be signed any more: 409.
    assert c("operator").post(complete).status_code == 409


def test_pickup_refusals(a, c):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    pickup = svc.pickup_request(actor=p["agency_clerk"], agency=a.agency, tracking_numbers=[item.tracking_number])
    unvetted = f.person("postman", facility=a.post_office, full_name="Bưu tá mới")
    r = c("counter_clerk").post(reverse("items:pickup_confirm", args=[pickup.pk]), {"postman": unvetted.pk}, follow=True)
    assert "chưa có kết quả thẩm tra chính trị còn hiệu lực" in r.content.decode()
    assert PickupRequest.objects.get(pk=pickup.pk).status == "requested"
    # A postman may not confirm (no permission: the page does not exist for him).
    assert c("postman").post(reverse("items:pickup_confirm", args=[pickup.pk]),
                             {"postman": p["postman"].pk}).status_code == 404
    c("counter_clerk").post(reverse("items:pickup_confirm", args=[pickup.pk]), {"postman": p["postman"].pk})
    # Another postman may not collect it.
    f.cleared(unvetted, Secrecy.B, police=p["police"])
    assert verified_client(unvetted).get(reverse("items:pickup_collect", args=[pickup.pk])).status_code == 403
    # The post cancels it with a reason; then it cannot be collected (409).
    r = c("counter_clerk").post(reverse("items:pickup_cancel_post", args=[pickup.pk]), {"reason": "Cơ quan hoãn gửi"})
    assert r.status_code == 302 and PickupRequest.objects.get(pk=pickup.pk).status == "cancelled"
    assert c("postman").get(reverse("items:pickup_collect", args=[pickup.pk])).status_code == 409
    assert refresh(item).status == ItemStatus.REGISTERED and refresh(item).holder == p["agency_clerk"]


def test_open_delivery_list_signed_on_screen_later(a, c):
    """A delivery list drawn up elsewhere (e.g. by a handheld) is signed on the detail page."""
    p = a.people
    item = accept_at_counter(a, f.item(p["agency_clerk"], a.other_agency))
    hand_over(c, a, "counter_clerk", "postman", item)
    bulk(c("postman"), item, EventCode.OUT_FOR_DELIVERY)
    h = svc.handover_create(actor=p["postman"], kind=HandoverKind.DELIVERY, tracking_numbers=[item.tracking_number],
                            giver=p["postman"], taker=p["recipient_clerk"])
    url = reverse("items:handover_detail", args=[h.pk])
    page = c("postman").get(url).content.decode()
    assert 'data-testid="sign-form"' in page and 'data-testid="signature-pad"' in page
    complete = reverse("items:handover_complete", args=[h.pk])
    r = c("postman").post(complete, {"taker_signed_name": "Văn thư nhận"})
    assert r.status_code == 200 and "Hãy ký trên màn hình" in r.content.decode()
    assert refresh(item).status == ItemStatus.OUT_FOR_DELIVERY
    assert c("recipient_clerk").post(complete, {"taker_signed_name": "X", "signature": SIG}).status_code == 403
    r = c("postman").post(complete, {"taker_signed_name": "Văn thư nhận", "signature": SIG})
    assert r.status_code == 302
    assert refresh(item).status == ItemStatus.DELIVERED


def test_menu_and_my_items_page(a, c):
    p = a.people
    item = accept_at_counter(a, f.item(p["agency_clerk"], a.other_agency))
    page = c("counter_clerk").get(reverse("items:my_items")).content.decode()
    for label in ("Bưu gửi tôi đang giữ", "Phiếu giao nhận", "Chấp nhận tại quầy"):
        assert label in page
    assert item.tracking_number in page and 'data-testid="bulk-form"' in page
    r = c("counter_clerk").get(reverse("items:my_items") + f"?go={item.tracking_number.lower()}")
    assert r.status_code == 302 and r["Location"] == reverse("items:record_event", args=[item.tracking_number])
    r = c("counter_clerk").get(reverse("items:my_items") + "?go=KT123", follow=True)
    assert "không đúng dạng" in r.content.decode()
    operator_page = c("operator").get(reverse("items:my_items")).content.decode()
    assert "Chấp nhận tại quầy" not in operator_page
    # An agency clerk has no post-side pages.
    assert c("agency_clerk").get(reverse("items:my_items")).status_code == 404
    assert c("agency_clerk").get(reverse("items:counter_accept")).status_code == 404
    # A location event for several held items at once, at the chosen facility.
    r = c("counter_clerk").post(reverse("items:my_items"), {
        "items": [item.tracking_number], "code": EventCode.AT_DELIVERY_OFFICE, "batch": str(uuid.uuid4()),
        "facility": a.post_office.pk, "note": ""})
    assert r.status_code == 302
    assert refresh(item).facility == a.post_office and codes(item)[-1] == "EMG"
