"""The bag pages, browserless: opening a bag, scanning items in (with and without htmx), sealing,
the printable bag list, transfers confirmed in the taker's own session, receiving with the seal
check and opening scan by scan; discrepancies become incidents; every refusal reaches the person as
a Vietnamese message and changes nothing."""

from __future__ import annotations

import datetime as dt
import subprocess
import unicodedata
import uuid

import pytest
from django.urls import reverse

from kt1.audit.models import AuditEntry
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.directory.choices import FacilityKind
from kt1.dispatch import services as d
from kt1.dispatch.choices import BagStatus, TransferStatus
from kt1.dispatch.models import Bag, BagEvent, BagItem, BagTransfer
from kt1.incidents.models import Incident
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind
from kt1.items.models import CustodyEvent, Item
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db
SIG = "data:image/png;base64,iVBORw0KGgo="
PRIVATE = {"registry_number": "SO-DK-4455/VT", "document_number": "77/QĐ-MATKHAU",
           "summary": "Trích yếu riêng của cơ quan XYZ"}


@pytest.fixture
def net(world):
    w = world["A"]
    p = dict(w.people)
    city = f.facility(w.province, kind=FacilityKind.POST_OFFICE, parent=w.provincial_post, name="Bưu cục trung tâm")
    f.serials(city)
    p["counter_city"] = f.person("counter_clerk", facility=city, full_name="Giao dịch viên Thành phố")
    p["operator_commune"] = f.person("counter_clerk", facility=w.post_office, full_name="Giao dịch viên Xã")
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency)
    for role in ("agency_clerk", "counter_city", "operator", "driver", "escort", "operator_commune", "postman",
                 "recipient_clerk", "counter_clerk"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    d.mix_rule_set(actor=f.root_admin(), groups=[["A"], ["B", "C"], ["none"]],
                   valid_from=local_today() - dt.timedelta(days=1))
    clients: dict = {}

    def c(role):
        if role not in clients:
            clients[role] = verified_client(p[role])
        return clients[role]

    return w, p, city, c


def holders(item) -> tuple:
    item = Item.objects.get(pk=item.pk)
    return item.holder_id, item.holder_bag_id


def codes(item) -> list[str]:
    return list(CustodyEvent.objects.filter(item=item).order_by("seq").values_list("code", flat=True))


def audits(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


def text(response) -> str:
    return response.content.decode()


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return unicodedata.normalize("NFC", out.stdout.decode("utf-8"))


def accepted_by(p, w, holder, n=1, secrecy=Secrecy.NONE, private=None):
    """Items registered by the agency and accepted by `holder` (counter staff)."""
    out = []
    for _ in range(n):
        it = f.item(p["agency_clerk"], w.other_agency, secrecy=secrecy, private=private)
        svc.custody_record(actor=holder, request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=it.tracking_number, code=EventCode.ACCEPTED))
        out.append(it)
    return out


def hand(p, items, to):
    for it in items:
        svc.custody_record(actor=p[to], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=it.tracking_number, code=EventCode.HANDOVER))


def new_bag(c, role, destination) -> Bag:
    before = set(Bag.objects.values_list("pk", flat=True))
    r = c(role).post(reverse("dispatch:bag_new"), {"destination": destination.pk})
    assert r.status_code == 302, text(r)
    bag = Bag.objects.exclude(pk__in=before).get()
    assert r["Location"] == reverse("dispatch:bag_detail", args=[bag.pk])
    return bag


def transfer(c, p, giver, taker, bag) -> BagTransfer:
    bag = Bag.objects.get(pk=bag.pk)  # sealing rewrote the identifier (weight, last-bag flag)
    r = c(giver).get(reverse("dispatch:transfer_new") + f"?bag={bag.pk}")
    assert r.status_code == 200 and bag.identifier in text(r)
    r = c(giver).post(reverse("dispatch:transfer_new"), {"bags": [bag.pk], "taker": p[taker].pk})
    assert r.status_code == 302, text(r)
    t = BagTransfer.objects.latest("pk")
    assert Bag.objects.get(pk=bag.pk).holder == p[giver]  # nothing moves before the taker confirms
    r = c(taker).get(reverse("dispatch:transfer_inbox"))
    assert t.number in text(r)
    r = c(taker).get(reverse("dispatch:transfer_detail", args=[t.pk]))
    assert 'data-testid="confirm-form"' in text(r)
    r = c(taker).post(reverse("dispatch:transfer_complete", args=[t.pk]))
    assert r.status_code == 302
    assert Bag.objects.get(pk=bag.pk).holder == p[taker]
    return t


def receive_and_open(c, receiver, bag, items, *, seal):
    r = c(receiver).get(reverse("dispatch:bag_receive", args=[bag.pk]))
    assert r.status_code == 200 and 'data-testid="receive-form"' in text(r)
    r = c(receiver).post(reverse("dispatch:bag_receive", args=[bag.pk]), {"seal_number": seal.lower(), "seal_intact": "on"})
    assert r.status_code == 302 and r["Location"].startswith(reverse("dispatch:bag_open", args=[bag.pk]))
    r = c(receiver).get(r["Location"])
    assert "niêm phong khớp" in text(r)
    for it in items:
        r = c(receiver).post(reverse("dispatch:bag_open", args=[bag.pk]), {"tracking_number": it.tracking_number})
        assert r.status_code == 302, text(r)
    r = c(receiver).post(reverse("dispatch:bag_open_finish", args=[bag.pk]), {})
    assert r.status_code == 302 and r["Location"].endswith("#opening")
    r = c(receiver).get(r["Location"])
    assert "không có sai lệch" in text(r) and "Kết quả mở túi" in text(r)


def test_item_travels_through_two_bags_by_the_pages(net, tmp_path):
    w, p, city, c = net
    item = f.item(p["agency_clerk"], w.other_agency, secrecy=Secrecy.C, private=PRIVATE)
    counter = svc.handover_create(actor=p["counter_city"], kind=HandoverKind.COUNTER, tracking_numbers=[item.tracking_number],
                                  giver=p["agency_clerk"], taker=p["counter_city"], giver_signature=SIG, giver_signed_name="VT")
    svc.handover_complete(actor=p["counter_city"], handover=counter)

    # Bag 1: city post office → processing facility, typed in lower case with spaces.
    r = c("counter_city").get(reverse("dispatch:bag_new"))
    assert r.status_code == 200 and w.processing.name in text(r) and city.name not in text(r).split('data-testid="bag-new-form"')[1]
    bag1 = new_bag(c, "counter_city", w.processing)
    assert bag1.origin == city and bag1.status == BagStatus.OPEN
    events = audits("bag.event")
    number = item.tracking_number
    spaced = f"{number[:2]} {number[2:5]} {number[5:8]} {number[8:11]} {number[11:]}".lower()
    r = c("counter_city").post(reverse("dispatch:bag_add_item", args=[bag1.pk]), {"tracking_number": spaced})
    assert r.status_code == 302, text(r)
    assert BagItem.objects.filter(bag=bag1, item=item, removed_at__isnull=True).exists()
    assert audits("bag.event") == events + 1
    r = c("counter_city").get(reverse("dispatch:bag_detail", args=[bag1.pk]))
    assert f"Đã cho {number} vào túi." in text(r) and f'data-testid="line-{number}"' in text(r)
    r = c("counter_city").post(reverse("dispatch:bag_seal", args=[bag1.pk]),
                               {"seal_number": "kc-0001", "last_in_dispatch": "on"})
    assert r.status_code == 302
    bag1 = Bag.objects.get(pk=bag1.pk)
    assert bag1.status == BagStatus.SEALED and bag1.seal_number == "KC-0001" and bag1.highest_secrecy == Secrecy.C
    assert len(bag1.identifier) == 29 and bag1.identifier[23] == "1"
    assert holders(item) == (None, bag1.pk)

    # The printable bag list: identifier, seal, the line; envelope data only.
    r = c("counter_city").get(reverse("dispatch:bag_pdf", args=[bag1.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    content = pdf_text(b"".join(r.streaming_content) if r.streaming else r.content, tmp_path)
    assert "BẢNG KÊ TÚI THƯ KT1" in content and "KC-0001" in content and number in content
    assert bag1.dispatch_id in content and "Tổng số bưu gửi: 1" in content
    for value in PRIVATE.values():
        assert value not in content
    assert "Mật (C)" not in content and "Tuyệt mật" not in content

    # Counter → driver → operator, each taker confirming in his own session.
    t1 = transfer(c, p, "counter_city", "driver", bag1)
    assert audits("bag_transfer.completed") == 1 and BagTransfer.objects.get(pk=t1.pk).status == TransferStatus.COMPLETED
    transfer(c, p, "driver", "operator", bag1)
    receive_and_open(c, "operator", bag1, [item], seal="KC-0001")
    bag1 = Bag.objects.get(pk=bag1.pk)
    assert bag1.status == BagStatus.OPENED and holders(item) == (p["operator"].pk, None)

    # Bag 2: processing → commune post office, scanned in with htmx (the panel alone comes back).
    bag2 = new_bag(c, "operator", w.post_office)
    r = c("operator").post(reverse("dispatch:bag_add_item", args=[bag2.pk]), {"tracking_number": number},
                           HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in text(r) and 'id="fill-panel"' in text(r)
    assert f"Đã cho {number} vào túi." in text(r) and f'data-testid="line-{number}"' in text(r)
    r = c("operator").post(reverse("dispatch:bag_seal", args=[bag2.pk]), {"seal_number": "KC-0001"})  # bag 1 opened: free
    assert r.status_code == 302
    transfer(c, p, "operator", "escort", bag2)
    transfer(c, p, "escort", "operator_commune", bag2)
    r = c("operator_commune").post(reverse("dispatch:bag_receive", args=[bag2.pk]),
                                   {"seal_number": "KC-0001", "seal_intact": "on"})
    assert r.status_code == 302
    r = c("operator_commune").post(reverse("dispatch:bag_open", args=[bag2.pk]), {"tracking_number": number},
                                   HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'id="open-panel"' in text(r)
    assert f"Đã quét {number}; chuyển giao cho bạn khi kết thúc mở túi." in text(r)
    assert 'data-testid="scanned-count"><strong>1</strong> / 1' in text(r)
    assert "đã quét, chuyển giao khi kết thúc mở túi" in text(r)
    assert holders(item) == (None, bag2.pk)  # scanned, still held by the bag until the opening is finished
    assert codes(item) == ["KREG", "EMA", "KBAG", "KOUT", "KBAG"]
    r = c("operator_commune").post(reverse("dispatch:bag_open_finish", args=[bag2.pk]), {})
    assert r.status_code == 302
    assert Bag.objects.get(pk=bag2.pk).status == BagStatus.OPENED
    assert holders(item) == (p["operator_commune"].pk, None)
    assert codes(item) == ["KREG", "EMA", "KBAG", "KOUT", "KBAG", "KOUT"]
    assert not Incident.objects.exists()
    r = c("operator_commune").get(reverse("dispatch:bag_detail", args=[bag2.pk]))
    for code in ("created", "item_added", "sealed", "handed_over", "received", "opened"):
        assert f'data-testid="bag-event-{code}"' in text(r)
    # An ordinary scan is recorded on its line, not as a bag event: the one `opened` event lists them.
    assert 'data-testid="bag-event-item_scanned"' not in text(r)
    assert "Chuyển giao 1 bưu gửi đã quét cho người quét" in text(r)


def test_remove_and_cancel_leave_items_with_their_holder(net):
    w, p, city, c = net
    a, b = accepted_by(p, w, p["counter_clerk"], 2)
    hand(p, [a, b], "operator")
    bag = new_bag(c, "operator", w.post_office)
    c("operator").post(reverse("dispatch:bag_add_item", args=[bag.pk]), {"tracking_number": f"{a.tracking_number} {b.tracking_number}"})
    assert BagItem.objects.filter(bag=bag, removed_at__isnull=True).count() == 2
    r = c("operator").post(reverse("dispatch:bag_remove_item", args=[bag.pk]), {"tracking_number": a.tracking_number},
                           HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and f"Đã lấy {a.tracking_number} ra khỏi túi" in text(r)
    assert list(BagItem.objects.filter(bag=bag, removed_at__isnull=True).values_list("item_id", flat=True)) == [b.pk]
    r = c("operator").post(reverse("dispatch:bag_cancel", args=[bag.pk]))
    assert r.status_code == 302
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.CANCELLED
    assert holders(a) == holders(b) == (p["operator"].pk, None)
    assert BagEvent.objects.filter(bag=bag, code="cancelled").exists()


def test_seal_mismatch_and_missing_item_become_incidents(net):
    w, p, city, c = net
    a, b = accepted_by(p, w, p["counter_clerk"], 2)
    hand(p, [a, b], "operator")
    bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    for it in (a, b):
        d.bag_add_item(actor=p["operator"], bag=bag, tracking_number=it.tracking_number)
    bag = d.bag_seal(actor=p["operator"], bag=bag, seal_number="KC-0100")
    t = d.transfer_create(actor=p["operator"], taker=p["operator_commune"], bags=[bag])
    d.transfer_complete(actor=p["operator_commune"], transfer=t)

    r = c("operator_commune").get(reverse("dispatch:bag_receive", args=[bag.pk]))
    assert p["postman"].full_name in text(r)  # staff of the receiving office can be named present
    opened = audits("incident.opened")
    r = c("operator_commune").post(reverse("dispatch:bag_receive", args=[bag.pk]),
                                   {"seal_number": "KC-9999", "seal_intact": "on", "present": [p["postman"].pk]},
                                   follow=True)
    mismatch = Incident.objects.get(kind="seal_mismatch")
    assert audits("incident.opened") == opened + 1
    page = text(r)
    assert "có sai lệch về niêm phong" in page and mismatch.number in page
    assert reverse("incidents:incident_detail", args=[mismatch.pk]) in page
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.RECEIVED and Bag.objects.get(pk=bag.pk).seal_intact is False

    # Open scan by scan: a listed item, an unlisted one (extra), the same one twice (refused).
    r = c("operator_commune").post(reverse("dispatch:bag_open", args=[bag.pk]), {"tracking_number": a.tracking_number},
                                   HTTP_HX_REQUEST="true")
    assert 'data-testid="scanned-count"><strong>1</strong> / 2' in text(r) and 'data-testid="remaining"' in text(r)
    extra = accepted_by(p, w, p["counter_clerk"], 1)[0]
    r = c("operator_commune").post(reverse("dispatch:bag_open", args=[bag.pk]), {"tracking_number": extra.tracking_number},
                                   HTTP_HX_REQUEST="true")
    assert f"Bưu gửi {extra.tracking_number} KHÔNG có trong danh sách túi" in text(r)
    assert Incident.objects.get(kind="extra_item").number in text(r)
    r = c("operator_commune").post(reverse("dispatch:bag_open", args=[bag.pk]), {"tracking_number": a.tracking_number})
    assert r.status_code == 200 and f"Bưu gửi {a.tracking_number} đã được quét." in text(r)
    # Undo the scan from the page (a reason is required), then scan it again.
    assert 'data-testid="unscan-form"' in text(r)
    unscan = reverse("dispatch:bag_open_unscan", args=[bag.pk])
    r = c("operator_commune").post(unscan, {"tracking_number": a.tracking_number, "reason": ""}, follow=True)
    assert "Nhập lý do hủy quét." in text(r) and BagItem.objects.get(bag=bag, item=a).scanned_at is not None
    r = c("operator_commune").post(unscan, {"tracking_number": a.tracking_number, "reason": "Quét nhầm"}, follow=True)
    assert f"Đã hủy quét {a.tracking_number}" in text(r) and 'data-testid="scanned-count"><strong>0</strong>' in text(r)
    assert BagEvent.objects.get(bag=bag, code="item_unscanned").data["reason"] == "Quét nhầm"
    # Many numbers pasted at once: one batch, each number standing alone.
    assert 'data-testid="paste-form"' in text(r)
    paste = reverse("dispatch:bag_open_paste", args=[bag.pk])
    r = c("operator_commune").post(paste, {"numbers_text": f"{a.tracking_number.lower()}\nRB1, {a.tracking_number}"},
                                   follow=True)
    page = text(r)
    assert "Đã gửi 3 mã: quét 1, thừa 0 (đã lập sự cố), từ chối 2." in page
    assert f"Bưu gửi {a.tracking_number} đã được quét." in page and "Số hiệu “RB1” không đúng dạng" in page
    assert BagItem.objects.get(bag=bag, item=a).scanned_at is not None
    r = c("operator_commune").post(paste, {"numbers_text": "  "}, follow=True)
    assert "Dán ít nhất một số hiệu." in text(r)
    r = c("operator_commune").post(reverse("dispatch:bag_open_finish", args=[bag.pk]), {"present": [p["postman"].pk]},
                                   follow=True)
    page = text(r)
    assert "thiếu 1, thừa 1" in page
    missing = Incident.objects.get(kind="missing_item")
    assert missing.item == b and holders(b) == (None, bag.pk)  # never silently dropped
    assert missing.number in page and b.tracking_number in page
    assert sorted(Incident.objects.values_list("kind", flat=True)) == ["extra_item", "missing_item", "seal_mismatch"]
    assert missing.records.get().confirmations.filter(person=p["postman"], confirmed_at__isnull=True).exists()


def test_refusals_reach_the_page_and_change_nothing(net):
    w, p, city, c = net
    a, b, c_item = accepted_by(p, w, p["counter_clerk"], 3)
    secret = accepted_by(p, w, p["counter_clerk"], 1, secrecy=Secrecy.B)[0]
    hand(p, [a, b, secret], "operator")
    op = c("operator")

    def state():
        return (BagEvent.objects.count(), BagItem.objects.filter(removed_at__isnull=True).count(),
                list(Bag.objects.order_by("pk").values_list("status", "seal_number", "holder_id")),
                AuditEntry.objects.filter(action__startswith="bag").count())

    empty = new_bag(c, "operator", w.post_office)
    before = state()
    r = op.post(reverse("dispatch:bag_seal", args=[empty.pk]), {"seal_number": "KC-1"})
    assert r.status_code == 200 and "Không niêm phong túi rỗng." in text(r) and 'role="alert"' in text(r)
    assert state() == before

    sealed = d.bag_create(actor=p["operator"], destination=w.post_office)
    d.bag_add_item(actor=p["operator"], bag=sealed, tracking_number=a.tracking_number)
    sealed = d.bag_seal(actor=p["operator"], bag=sealed, seal_number="KC-7")
    other = new_bag(c, "operator", w.post_office)
    op.post(reverse("dispatch:bag_add_item", args=[other.pk]), {"tracking_number": b.tracking_number})
    before = state()
    cases = [
        (reverse("dispatch:bag_seal", args=[other.pk]), {"seal_number": "kc-7"},
         f"Số niêm phong KC-7 đang dùng cho túi {sealed.identifier} chưa mở."),
        (reverse("dispatch:bag_add_item", args=[other.pk]), {"tracking_number": secret.tracking_number},
         "không được đóng chung túi"),
        (reverse("dispatch:bag_add_item", args=[other.pk]), {"tracking_number": c_item.tracking_number},
         f"Bạn không giữ bưu gửi {c_item.tracking_number}."),
        (reverse("dispatch:bag_add_item", args=[empty.pk]), {"tracking_number": b.tracking_number},
         f"Bưu gửi {b.tracking_number} đã ở trong túi {other.identifier}."),
        (reverse("dispatch:bag_add_item", args=[other.pk]), {"tracking_number": "RR123456785VN"},
         "Không tìm thấy bưu gửi RR123456785VN."),
        (reverse("dispatch:bag_add_item", args=[other.pk]), {"tracking_number": "XYZ"}, "XYZ"),
        (reverse("dispatch:bag_seal", args=[other.pk]), {"seal_number": ""}, "Nhập số niêm phong (kẹp chì) của túi."),
    ]
    for url, data, message in cases:
        r = op.post(url, data)
        assert r.status_code == 200, (url, data, r.status_code)
        assert message in text(r), (data, message)
        assert state() == before, data
    # The same refusal with htmx comes back inside the panel (htmx swaps 200 answers only).
    r = op.post(reverse("dispatch:bag_add_item", args=[other.pk]), {"tracking_number": c_item.tracking_number},
                HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in text(r) and "Bạn không giữ bưu gửi" in text(r)

    # Illegal steps: 409 with the message on the page.
    r = op.post(reverse("dispatch:bag_seal", args=[sealed.pk]), {"seal_number": "KC-8"})
    assert r.status_code == 409 and f"Túi {sealed.identifier} đã niêm phong." in text(r)
    r = op.post(reverse("dispatch:bag_add_item", args=[sealed.pk]), {"tracking_number": b.tracking_number})
    assert r.status_code == 409 and "đã niêm phong" in text(r)
    r = op.post(reverse("dispatch:bag_cancel", args=[sealed.pk]))
    assert r.status_code == 409 and "Chỉ hủy được túi chưa niêm phong." in text(r)
    r = op.post(reverse("dispatch:bag_open", args=[sealed.pk]), {"tracking_number": a.tracking_number})
    assert r.status_code == 409 and "Chỉ mở túi đã nhận và kiểm tra niêm phong." in text(r)
    assert state() == before

    # An unvetted taker: the supervisor has no vetting.
    r = op.post(reverse("dispatch:transfer_new"), {"bags": [sealed.pk], "taker": p["supervisor"].pk})
    assert r.status_code == 200 and "chưa có kết quả thẩm tra chính trị còn hiệu lực" in text(r)
    assert not BagTransfer.objects.exists()

    # Receiving at the wrong facility: the city counter clerk holds a bag bound for the commune office.
    t = d.transfer_create(actor=p["operator"], taker=p["counter_city"], bags=[sealed])
    d.transfer_complete(actor=p["counter_city"], transfer=t)
    before = state()
    r = c("counter_city").get(reverse("dispatch:bag_receive", args=[sealed.pk]))
    assert "chỉ nhận tại cơ sở đó" in text(r)
    r = c("counter_city").post(reverse("dispatch:bag_receive", args=[sealed.pk]), {"seal_number": "KC-7", "seal_intact": "on"})
    assert r.status_code == 200 and "không nhận tại cơ sở của bạn" in text(r)
    assert state() == before and not Incident.objects.exists()

    # A transfer confirmed by the wrong person: 403; confirmed twice: 409.
    t2 = d.transfer_create(actor=p["counter_city"], taker=p["driver"], bags=[sealed])
    r = c("escort").post(reverse("dispatch:transfer_complete", args=[t2.pk]))
    assert r.status_code == 403
    assert c("driver").post(reverse("dispatch:transfer_complete", args=[t2.pk])).status_code == 302
    r = c("driver").post(reverse("dispatch:transfer_complete", args=[t2.pk]))
    assert r.status_code == 409 and t2.number in text(r)


def test_driver_cannot_work_on_bags_and_other_province_sees_nothing(net, world):
    w, p, city, c = net
    a = accepted_by(p, w, p["counter_clerk"], 1)[0]
    hand(p, [a], "operator")
    bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    d.bag_add_item(actor=p["operator"], bag=bag, tracking_number=a.tracking_number)
    events = BagEvent.objects.count()
    r = c("driver").get(reverse("dispatch:bag_detail", args=[bag.pk]))
    assert r.status_code == 200 and 'data-testid="seal-form"' not in text(r)  # sees it, may not seal it
    assert c("driver").post(reverse("dispatch:bag_seal", args=[bag.pk]), {"seal_number": "KC-55"}).status_code == 403
    assert c("driver").post(reverse("dispatch:bag_add_item", args=[bag.pk]), {"tracking_number": a.tracking_number}).status_code == 403
    assert c("driver").get(reverse("dispatch:bag_new")).status_code == 404
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.OPEN and BagEvent.objects.count() == events

    theirs = verified_client(world["B"].people["operator"])
    for name in ("dispatch:bag_detail", "dispatch:bag_pdf", "dispatch:bag_receive", "dispatch:bag_open"):
        assert theirs.get(reverse(name, args=[bag.pk])).status_code == 404, name
    assert theirs.post(reverse("dispatch:bag_seal", args=[bag.pk]), {"seal_number": "KC-55"}).status_code == 404
    assert bag.identifier not in text(theirs.get(reverse("dispatch:bag_list")))
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.OPEN


def test_bag_list_filters_and_counts(net):
    w, p, city, c = net
    a, b = accepted_by(p, w, p["counter_clerk"], 2)
    hand(p, [a, b], "operator")
    out = d.bag_create(actor=p["operator"], destination=w.post_office)
    d.bag_add_item(actor=p["operator"], bag=out, tracking_number=a.tracking_number)
    out = d.bag_seal(actor=p["operator"], bag=out, seal_number="KC-300")
    still_open = d.bag_create(actor=p["operator"], destination=w.post_office)
    incoming = d.bag_create(actor=p["counter_city"], destination=w.processing)
    op = c("operator")
    url = reverse("dispatch:bag_list")
    page = text(op.get(url))
    assert all(bag.identifier in page for bag in (out, still_open, incoming))
    assert 'data-testid="count">3 túi' in page
    page = text(op.get(url, {"direction": "out"}))
    assert out.identifier in page and still_open.identifier in page and incoming.identifier not in page
    page = text(op.get(url, {"direction": "in"}))
    assert incoming.identifier in page and out.identifier not in page
    page = text(op.get(url, {"status": "sealed"}))
    assert out.identifier in page and still_open.identifier not in page
    page = text(op.get(url, {"q": "kc-300"}))
    assert out.identifier in page and incoming.identifier not in page
    page = text(op.get(url, {"q": a.tracking_number}))
    assert out.identifier in page and still_open.identifier not in page
    r = op.get(url, {"q": out.identifier.lower()})  # a scanned bag label opens the bag
    assert r.status_code == 302 and r["Location"] == reverse("dispatch:bag_detail", args=[out.pk])
    assert "Túi thư" in page and reverse("dispatch:bag_list") in page  # the menu entry
