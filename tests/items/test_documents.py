"""Printable documents as PDF: the item label, the handover list and the delivery receipt.

PDFs are read back with poppler's pdftotext / pdfimages (poppler-utils), so the assertions are about
what a person holding the paper would read."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import subprocess
import time
import unicodedata
import uuid

import pytest
import segno
from django.urls import reverse

from kt1.core.choices import Secrecy
from kt1.core.clock import LOCAL_TZ, now
from kt1.items import documents
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db

PRIVATE = {"registry_number": "SO-DK-7781/VT", "document_number": "123/QĐ-UBND-MATKHAU",
           "summary": "Trích yếu bí mật về kế hoạch XYZ"}
FORBIDDEN_ON_LABEL = ("Tuyệt mật", "Tối mật", "mật")


def _png_data_uri() -> str:
    """A real PNG (a drawn signature stand-in) so the renderer embeds an image."""
    buf = io.BytesIO()
    segno.make("chu ky", error="l").save(buf, kind="png", scale=4)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


SIG = _png_data_uri()


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return unicodedata.normalize("NFC", out.stdout.decode("utf-8"))


def pdf_image_count(pdf: bytes, tmp_path) -> int:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True, text=True)
    return max(0, len(out.stdout.strip().splitlines()) - 2)  # two header lines


def assert_no_private(text: str):
    for value in PRIVATE.values():
        assert value not in text
    assert "SO-DK-7781" not in text and "MATKHAU" not in text


@pytest.fixture
def a(world):
    w = world["A"]
    p = w.people
    p["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency, full_name="Trần Thị Nhận")
    for role in ("agency_clerk", "counter_clerk", "postman", "operator", "recipient_clerk"):
        f.cleared(p[role], Secrecy.A, police=p["police"])
    return w


def named_only_item(w, **kw):
    """Registered through the service: the factory has no named-only switch."""
    return svc.item_register(actor=w.people["agency_clerk"], data=svc.ItemInput(
        sender_agency=w.agency, recipient_agency=w.other_agency, kind=kw.pop("kind", "letter"),
        weight_g=kw.pop("weight_g", 120), named_only=True, **kw))


def ev(actor, item, code, **kw):
    return svc.custody_record(actor=actor, request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=code, **kw))


def accepted_at_counter(w, *items):
    p = w.people
    handover = svc.handover_create(actor=p["counter_clerk"], kind=HandoverKind.COUNTER,
                                   tracking_numbers=[i.tracking_number for i in items], giver=p["agency_clerk"],
                                   taker=p["counter_clerk"], giver_signature=SIG, giver_signed_name="Nguyễn Văn Giao",
                                   envelope_ok={items[-1].tracking_number: False} if len(items) > 1 else None)
    return svc.handover_complete(actor=p["counter_clerk"], handover=handover)


def delivered(w, *items, sign=True):
    p = w.people
    for item in items:
        ev(p["postman"], item, EventCode.HANDOVER)
        ev(p["postman"], item, EventCode.OUT_FOR_DELIVERY)
    handover = svc.handover_create(actor=p["postman"], kind=HandoverKind.DELIVERY,
                                   tracking_numbers=[i.tracking_number for i in items], giver=p["postman"],
                                   taker=p["recipient_clerk"])
    if sign:
        handover = svc.handover_complete(actor=p["postman"], handover=handover, taker_signature=SIG,
                                         taker_signed_name="Trần Thị Nhận")
    return handover


def local(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


# --- the label --------------------------------------------------------------------------------------


def test_label_pdf_envelope_data_only(a, tmp_path):
    p = a.people
    item = named_only_item(a, secrecy=Secrecy.C, urgency="express", weight_g=350,
                           named_recipient="Lê Văn Đích Danh", private=PRIVATE)

    response = verified_client(p["counter_clerk"]).get(reverse("items:label", args=[item.tracking_number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="KT1-{item.tracking_number}.pdf"'
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")

    text = pdf_text(pdf, tmp_path)
    assert item.tracking_number in text.replace(" ", "")
    assert documents.human_readable(item.tracking_number) in text
    assert "KT1" in text and "HỎA TỐC" in text
    assert "Chỉ người có tên mới được bóc bì" in text and "Lê Văn Đích Danh" in text
    assert item.sender_agency.name in text and item.recipient_agency.name in text
    assert item.recipient_address.street in text
    assert "350 g" in text and "Thư" in text
    assert item.issuing_facility.postcode in text and local(item.registered_at)[6:] in text
    assert re.search(r"(^|\s)C(\s|$)", text), "the secrecy letter is printed"
    for word in FORBIDDEN_ON_LABEL:
        assert word.lower() not in text.lower(), word
    assert_no_private(text)

    # The barcode is a Code 128 SVG of the identifier, embedded as an image.
    html = documents.label_html(item)
    src = re.search(r'class="barcode" src="data:image/svg\+xml;base64,([^"]+)"', html).group(1)
    svg = base64.b64decode(src)
    assert b"<svg" in svg and svg.count(b"<rect") > 20
    assert svg == documents.barcode_svg(item.tracking_number)


def test_top_secret_label_shows_the_letter_alone(a, tmp_path):
    item = named_only_item(a, secrecy=Secrecy.A, named_recipient="Phạm Văn Mật Danh",
                           private={"registry_number": PRIVATE["registry_number"]})
    html = documents.label_html(item)
    assert '<span class="secrecy" data-secrecy>A</span>' in html
    text = pdf_text(documents.label_pdf(item), tmp_path)
    assert re.search(r"(^|\s)A(\s|$)", text)
    assert "Tuyệt mật" not in text and "mật" not in text.lower()
    # The outer envelope of an A item looks like ordinary mail: the named person and "only the named
    # person may open" are written on the inner envelope (DOMAIN §7).
    assert "Phạm Văn" not in text and "bóc bì" not in text
    assert_no_private(text)


def test_scheduled_and_plain_labels(a, tmp_path):
    p = a.people
    when = now() + dt.timedelta(days=2)
    scheduled = f.item(p["agency_clerk"], a.other_agency, urgency="scheduled", deliver_by=when, kind="parcel")
    text = pdf_text(documents.label_pdf(scheduled), tmp_path)
    assert "HẸN GIỜ" in text and local(when) in text and "Kiện tài liệu" in text

    plain = f.item(p["agency_clerk"], a.other_agency)
    html = documents.label_html(plain)
    assert "data-secrecy" not in html
    text = pdf_text(documents.label_pdf(plain), tmp_path)
    assert "HỎA TỐC" not in text and "HẸN GIỜ" not in text and "KT1" in text


def test_label_renders_quickly(a):
    item = f.item(a.people["agency_clerk"], a.other_agency, secrecy=Secrecy.B, urgency="express")
    documents.label_pdf(item)  # warm-up: fonts and Pango load once per process
    started = time.perf_counter()
    for _ in range(3):
        documents.label_pdf(item)
    per_label = (time.perf_counter() - started) / 3
    print(f"label render: {per_label * 1000:.0f} ms")
    assert per_label < 3  # generous: a shared CI runner; measured ~0.1-0.3 s here


def test_who_may_print_a_label(a, world):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency, private=PRIVATE)
    url = reverse("items:label", args=[item.tracking_number])
    for role in ("agency_clerk", "counter_clerk", "postman", "operator", "supervisor"):
        assert verified_client(p[role]).get(url).status_code == 200, role
    # They can see the item but do not print its label: the receiving agency's clerk, the police,
    # oversight, finance and the administrator.
    for role in ("recipient_clerk", "police", "oversight", "finance", "admin"):
        assert verified_client(p[role]).get(url).status_code == 404, role
    # Another province: the item does not exist for them.
    for role in ("counter_clerk", "agency_clerk", "supervisor"):
        assert verified_client(world["B"].people[role]).get(url).status_code == 404, role
    # A malformed or unknown identifier is a missing page, not an error page.
    client = verified_client(p["counter_clerk"])
    assert client.get(reverse("items:label", args=["KT123"])).status_code == 404
    wrong_check = item.tracking_number[:10] + str((int(item.tracking_number[10]) + 1) % 10) + "VN"
    assert client.get(reverse("items:label", args=[wrong_check])).status_code == 404
    # Signed out: to the sign-in page.
    from django.test import Client

    response = Client().get(url)
    assert response.status_code == 302 and "login" in response["Location"]


# --- the handover list ------------------------------------------------------------------------------


def test_handover_list_pdf(a, tmp_path):
    p = a.people
    one = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.B, urgency="express", weight_g=200, private=PRIVATE)
    two = f.item(p["agency_clerk"], a.other_agency, kind="packet", weight_g=1300)
    handover = accepted_at_counter(a, one, two)

    response = verified_client(p["counter_clerk"]).get(reverse("items:handover_pdf", args=[handover.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="KT1-{handover.number}.pdf"'
    text = pdf_text(response.content, tmp_path)
    assert "PHIẾU GIAO NHẬN BƯU GỬI KT1" in text and "Chấp nhận tại quầy" in text and handover.number in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert one.tracking_number in text and two.tracking_number in text
    assert "Hỏa tốc" in text and "Gói" in text and "Thư" in text
    assert "Nguyên vẹn" in text and "Không nguyên vẹn" in text
    assert "Tổng số bưu gửi: 2" in text and "1500 g" in text
    assert a.agency.name in text and a.post_office.name in text  # the two parties' units
    assert "Nguyễn Văn Giao" in text and str(p["counter_clerk"]) in text  # signed names
    assert local(handover.giver_signed_at) in text and local(handover.taker_signed_at) in text
    assert pdf_image_count(response.content, tmp_path) >= 1  # the giver's drawn signature
    assert_no_private(text)
    # The giver (agency clerk), the post supervisor and the police of the province may print it too.
    for role in ("agency_clerk", "supervisor", "police"):
        assert verified_client(p[role]).get(reverse("items:handover_pdf", args=[handover.pk])).status_code == 200


def test_internal_and_unsigned_and_cancelled_lists(a, world, tmp_path):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    accepted_at_counter(a, item)
    internal = svc.handover_create(actor=p["counter_clerk"], kind=HandoverKind.INTERNAL,
                                   tracking_numbers=[item.tracking_number], giver=p["counter_clerk"], taker=p["operator"])
    text = pdf_text(documents.handover_pdf(internal), tmp_path)
    assert "BIÊN BẢN GIAO NHẬN BƯU GỬI KT1" in text and "Bên nhận chưa ký nhận" in text
    assert a.processing.name in text  # the taker's unit, from their role on the day
    svc.handover_cancel(actor=p["counter_clerk"], handover=internal, reason="Nhầm người nhận")
    internal.refresh_from_db()
    text = pdf_text(documents.handover_pdf(internal), tmp_path)
    assert "PHIẾU ĐÃ HỦY" in text and "Nhầm người nhận" in text

    url = reverse("items:handover_pdf", args=[internal.pk])
    assert verified_client(p["operator"]).get(url).status_code == 200  # the named taker
    for user in (p["driver"], p["finance"], world["B"].people["supervisor"], world["B"].people["police"]):
        assert verified_client(user).get(url).status_code == 404, user
    assert verified_client(p["counter_clerk"]).get(reverse("items:handover_pdf", args=[internal.pk + 999])
                                                   ).status_code == 404


# --- the delivery receipt ---------------------------------------------------------------------------


def test_delivery_receipt(a, world, tmp_path):
    p = a.people
    one = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.A,
                 private={k: v for k, v in PRIVATE.items() if k != "summary"})  # an A item has no summary
    two = f.item(p["agency_clerk"], a.other_agency, urgency="express", private=PRIVATE)
    accepted_at_counter(a, one, two)
    handover = delivered(a, one, two)

    url = reverse("items:receipt_pdf", args=[handover.pk])
    response = verified_client(p["recipient_clerk"]).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="KT1-BN-{handover.number}.pdf"'
    text = pdf_text(response.content, tmp_path)
    assert "BIÊN NHẬN BƯU GỬI KT1" in text and handover.number in text
    assert a.other_agency.name in text and one.recipient_address.street in text  # the recipient agency
    assert one.tracking_number in text and two.tracking_number in text
    assert a.agency.short_name in text  # where each envelope came from
    assert "Trần Thị Nhận" in text and str(p["postman"]) in text
    assert local(handover.taker_signed_at) in text
    assert pdf_image_count(response.content, tmp_path) >= 1  # the drawn signature
    assert "Tuyệt mật" not in text
    assert_no_private(text)
    # The postman who delivered and the post supervisor may print it; the sending agency's clerk
    # (not a party to this list) and another province may not.
    assert verified_client(p["postman"]).get(url).status_code == 200
    assert verified_client(p["supervisor"]).get(url).status_code == 200
    for user in (p["agency_clerk"], p["driver"], world["B"].people["agency_clerk"], world["B"].people["postman"]):
        assert verified_client(user).get(url).status_code == 404, user


def test_no_receipt_before_signing_or_for_other_lists(a, tmp_path):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    counter = accepted_at_counter(a, item)
    client = verified_client(p["counter_clerk"])
    assert client.get(reverse("items:receipt_pdf", args=[counter.pk])).status_code == 404
    unsigned = delivered(a, item, sign=False)
    postman = verified_client(p["postman"])
    assert postman.get(reverse("items:receipt_pdf", args=[unsigned.pk])).status_code == 404
    assert postman.get(reverse("items:handover_pdf", args=[unsigned.pk])).status_code == 200
    with pytest.raises(ValueError):
        documents.receipt_pdf(unsigned)


def test_return_receipt(a, tmp_path):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency)
    accepted_at_counter(a, item)
    ev(p["postman"], item, EventCode.HANDOVER)
    ev(p["postman"], item, EventCode.OUT_FOR_DELIVERY)
    ev(p["postman"], item, EventCode.DELIVERY_FAILED, reason_code="MOVED")
    ev(p["supervisor"], item, EventCode.RETURN_STARTED, note="Cơ quan nhận đã chuyển địa điểm")
    ev(p["postman"], item, EventCode.OUT_FOR_DELIVERY)
    ret = svc.handover_create(actor=p["postman"], kind=HandoverKind.RETURN, tracking_numbers=[item.tracking_number],
                              giver=p["postman"], taker=p["agency_clerk"])
    ret = svc.handover_complete(actor=p["postman"], handover=ret, taker_signature=SIG, taker_signed_name="Văn thư gửi")
    response = verified_client(p["agency_clerk"]).get(reverse("items:receipt_pdf", args=[ret.pk]))
    assert response.status_code == 200
    text = pdf_text(response.content, tmp_path)
    assert "BIÊN NHẬN BƯU GỬI KT1 CHUYỂN HOÀN" in text and a.agency.name in text and "Văn thư gửi" in text
    assert a.other_agency.short_name in text  # the original recipient, on the line


def test_renderer_fetches_nothing_but_inline_data():
    fetch = documents.url_fetcher()
    for url in ("file:///etc/passwd", "http://example.org/x.png", "https://example.org/x.css"):
        with pytest.raises(ValueError):
            fetch(url)
    assert fetch(SIG).read().startswith(b"\x89PNG")
    # A stylesheet or image pointing outside is dropped, not fetched.
    pdf = documents.render_pdf('<link rel="stylesheet" href="file:///etc/passwd"><img src="file:///etc/hostname">x')
    assert pdf.startswith(b"%PDF")
    assert documents.signature_src("javascript:alert(1)") == ""
    assert documents.signature_src('data:image/png;base64,AAA" onload="x') == ""
    assert documents.signature_src(SIG) == SIG
