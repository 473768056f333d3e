"""The incident pages, browserless: a seal mismatch and a missing item found on receiving and opening
a bag appear on the incident list and pages with their written records; people named present confirm
in their own session; supervisors or the police close with a conclusion; the record prints as a PDF
with envelope data only."""

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
from kt1.dispatch import services as d
from kt1.incidents.choices import IncidentStatus
from kt1.incidents.models import Incident, RecordConfirmation
from kt1.items import services as svc
from kt1.items.choices import EventCode
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db
PRIVATE = {"registry_number": "SO-DK-9911/VT", "document_number": "55/CV-MATKHAU",
           "summary": "Trích yếu riêng không được in"}


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return unicodedata.normalize("NFC", out.stdout.decode("utf-8"))


def audits(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


@pytest.fixture
def scene(world):
    """A bag of two secret (C) items sealed KC-0100 at the processing facility, received at the commune
    office with the seal read as KC-9999 (the postman present), opened with one item missing."""
    w = world["A"]
    p = w.people
    for role in ("agency_clerk", "counter_clerk", "operator"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    d.mix_rule_set(actor=f.root_admin(), groups=[["A"], ["B", "C"], ["none"]],
                   valid_from=local_today() - dt.timedelta(days=1))
    items = []
    for _ in range(2):
        it = f.item(p["agency_clerk"], w.other_agency, secrecy=Secrecy.C, private=PRIVATE)
        for actor, code in ((p["counter_clerk"], EventCode.ACCEPTED), (p["operator"], EventCode.HANDOVER)):
            svc.custody_record(actor=actor, request=svc.CustodyRequest(
                event_uuid=uuid.uuid4(), tracking_number=it.tracking_number, code=code))
        items.append(it)
    bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    for it in items:
        d.bag_add_item(actor=p["operator"], bag=bag, tracking_number=it.tracking_number)
    bag = d.bag_seal(actor=p["operator"], bag=bag, seal_number="KC-0100")
    t = d.transfer_create(actor=p["operator"], taker=p["counter_clerk"], bags=[bag])
    d.transfer_complete(actor=p["counter_clerk"], transfer=t)
    receiver = verified_client(p["counter_clerk"])
    r = receiver.post(reverse("dispatch:bag_receive", args=[bag.pk]),
                      {"seal_number": "KC-9999", "seal_intact": "on", "present": [p["postman"].pk]})
    assert r.status_code == 302
    r = receiver.post(reverse("dispatch:bag_open", args=[bag.pk]), {"tracking_number": items[0].tracking_number})
    assert r.status_code == 302
    r = receiver.post(reverse("dispatch:bag_open_finish", args=[bag.pk]), {"present": [p["postman"].pk]})
    assert r.status_code == 302
    return w, bag, items, Incident.objects.get(kind="seal_mismatch"), Incident.objects.get(kind="missing_item")


def test_incidents_listed_with_counts_and_filters(scene):
    w, bag, items, mismatch, missing = scene
    c = verified_client(w.people["supervisor"])
    url = reverse("incidents:incident_list")
    page = c.get(url).content.decode()
    assert mismatch.number in page and missing.number in page
    assert 'data-testid="count">2 sự cố' in page
    assert "Mới ghi nhận<span class=\"count\">2</span>" in page
    assert "Báo công an" in page  # secret items: the police are involved
    page = c.get(url, {"kind": "missing_item"}).content.decode()
    assert missing.number in page and mismatch.number not in page
    page = c.get(url, {"q": items[1].tracking_number}).content.decode()
    assert missing.number in page and mismatch.number not in page
    page = c.get(url, {"q": "kc-0100"}).content.decode()
    assert mismatch.number in page and missing.number in page
    page = c.get(url, {"status": "closed"}).content.decode()
    assert 'data-testid="count">0 sự cố' in page
    assert reverse("incidents:incident_list") in c.get(reverse("core:home")).content.decode()  # the menu entry


def test_record_confirmed_by_the_person_named_present(scene):
    w, bag, items, mismatch, missing = scene
    p = w.people
    record = mismatch.records.get()
    url = reverse("incidents:incident_detail", args=[mismatch.pk])
    page = verified_client(p["supervisor"]).get(url).content.decode()
    assert "Số niêm phong không khớp" in page and bag.identifier in page and record.number in page
    assert "KC-9999" in page and "Chưa xác nhận" in page and 'data-testid="confirm-form"' not in page
    assert 'data-testid="police"' in page
    postman = verified_client(p["postman"])
    page = postman.get(url).content.decode()
    assert 'data-testid="confirm-form"' in page and "Xác nhận biên bản" in page
    confirmed = audits("incident_record.confirmed")
    r = postman.post(reverse("incidents:record_confirm", args=[record.pk]))
    assert r.status_code == 302 and r["Location"] == url
    assert audits("incident_record.confirmed") == confirmed + 1
    assert RecordConfirmation.objects.get(record=record, person=p["postman"]).confirmed_at is not None
    page = postman.get(url).content.decode()
    assert "Đã đủ xác nhận" in page and 'data-testid="confirm-form"' not in page
    r = postman.post(reverse("incidents:record_confirm", args=[record.pk]))
    assert r.status_code == 409 and "Bạn đã xác nhận biên bản này." in r.content.decode()
    r = verified_client(p["supervisor"]).post(reverse("incidents:record_confirm", args=[record.pk]))
    assert r.status_code == 403
    assert audits("incident_record.confirmed") == confirmed + 1


def test_record_pdf_names_people_and_keeps_to_envelope_data(scene, tmp_path):
    w, bag, items, mismatch, missing = scene
    p = w.people
    record = mismatch.records.get()
    c = verified_client(p["police"])
    r = c.get(reverse("incidents:record_pdf", args=[record.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = pdf_text(r.content, tmp_path)
    for expected in ("BIÊN BẢN SỰ CỐ", record.number, mismatch.number, w.post_office.name, bag.identifier, "KC-0100",
                     "KC-9999", p["counter_clerk"].full_name, p["postman"].full_name, "Người lập biên bản",
                     "Đã xác nhận lúc", "Chưa xác nhận", "đã báo công an"):
        assert expected in text, expected
    for value in PRIVATE.values():
        assert value not in text
    text = pdf_text(c.get(reverse("incidents:record_pdf", args=[missing.records.get().pk])).content, tmp_path)
    assert items[1].tracking_number in text and "độ mật C" in text and "Mật (C)" not in text
    for value in PRIVATE.values():
        assert value not in text


def test_close_with_conclusion(scene):
    w, bag, items, mismatch, missing = scene
    p = w.people
    url = reverse("incidents:incident_close", args=[missing.pk])
    closed = audits("incident.closed")
    r = verified_client(p["operator"]).post(url, {"conclusion": "Tìm thấy"})
    assert r.status_code == 403
    sup = verified_client(p["supervisor"])
    r = sup.post(url, {"conclusion": ""})
    assert r.status_code == 200 and "Ghi kết luận." in r.content.decode()
    assert Incident.objects.get(pk=missing.pk).status == IncidentStatus.OPEN and audits("incident.closed") == closed
    r = sup.post(url, {"conclusion": "Bưu gửi để sót tại cơ sở khai thác, đã chuyển tiếp."})
    assert r.status_code == 302
    incident = Incident.objects.get(pk=missing.pk)
    assert incident.status == IncidentStatus.CLOSED and "đã chuyển tiếp" in incident.description
    assert audits("incident.closed") == closed + 1
    r = verified_client(p["police"]).post(url, {"conclusion": "Lần nữa"})
    assert r.status_code == 409 and "Sự cố đã kết thúc." in r.content.decode()
    page = sup.get(reverse("incidents:incident_detail", args=[missing.pk])).content.decode()
    assert "Đã kết thúc" in page and 'data-testid="close-form"' not in page
    r = verified_client(p["police"]).post(reverse("incidents:incident_close", args=[mismatch.pk]),
                                          {"conclusion": "Kẹp chì thay thế hợp lệ."})
    assert r.status_code == 302 and Incident.objects.get(pk=mismatch.pk).status == IncidentStatus.CLOSED


def test_other_province_sees_nothing(scene, world):
    w, bag, items, mismatch, missing = scene
    theirs = verified_client(world["B"].people["supervisor"])
    record = mismatch.records.get()
    assert theirs.get(reverse("incidents:incident_detail", args=[mismatch.pk])).status_code == 404
    assert theirs.get(reverse("incidents:record_pdf", args=[record.pk])).status_code == 404
    assert theirs.post(reverse("incidents:record_confirm", args=[record.pk])).status_code == 404
    assert theirs.post(reverse("incidents:incident_close", args=[mismatch.pk]), {"conclusion": "x"}).status_code == 404
    assert mismatch.number not in theirs.get(reverse("incidents:incident_list")).content.decode()
    assert verified_client(w.people["agency_clerk"]).get(reverse("incidents:incident_list")).status_code == 404
    assert Incident.objects.get(pk=mismatch.pk).status == IncidentStatus.OPEN
