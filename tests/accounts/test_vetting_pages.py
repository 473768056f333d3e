"""Vetting pages: request → approve → revoke, request → reject, refusals, scope, expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from kt1.accounts import services
from kt1.accounts.choices import VettingStatus
from kt1.accounts.clearance import handling_clearance
from kt1.accounts.models import Vetting
from kt1.audit.models import AuditEntry
from kt1.core.choices import Secrecy
from kt1.core.clock import LOCAL_TZ, local_today, now
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db


def _request(world, province="A", person="postman"):
    w = world[province]
    return services.vetting_request(actor=w.people["supervisor"], user=w.people[person], note="Bưu tá mới")


def _approve_payload(days=365, level=Secrecy.B):
    return {"valid_until": (local_today() + dt.timedelta(days=days)).isoformat(), "max_secrecy": level,
            "reference": "123/CAT-PA03", "note": ""}


def test_request_approve_revoke_through_pages(world):
    a = world["A"]
    supervisor, police, postman = a.people["supervisor"], a.people["police"], a.people["postman"]

    response = verified_client(supervisor).post(reverse("accounts:vetting_request", args=[postman.pk]), {"note": "Bưu tá mới"})
    vetting = Vetting.objects.get(user=postman)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:vetting_detail", args=[vetting.pk])
    assert vetting.status == VettingStatus.REQUESTED
    assert AuditEntry.objects.filter(action="vetting.requested", object_id=str(vetting.pk), actor=supervisor).exists()
    # A second request while one is pending is refused on the form.
    response = verified_client(supervisor).post(reverse("accounts:vetting_request", args=[postman.pk]), {"note": ""})
    assert response.status_code == 200 and "chưa được kết luận" in response.content.decode()
    assert Vetting.objects.filter(user=postman).count() == 1

    police_client = verified_client(police)
    page = police_client.get(reverse("accounts:vetting_list"), {"status": "requested"}).content.decode()
    assert reverse("accounts:vetting_detail", args=[vetting.pk]) in page
    detail = police_client.get(reverse("accounts:vetting_detail", args=[vetting.pk])).content.decode()
    assert reverse("accounts:vetting_approve", args=[vetting.pk]) in detail
    assert police_client.get(reverse("accounts:vetting_approve", args=[vetting.pk])).status_code == 200

    chosen = local_today() + dt.timedelta(days=200)
    response = police_client.post(reverse("accounts:vetting_approve", args=[vetting.pk]),
                                  {"valid_until": chosen.isoformat(), "max_secrecy": Secrecy.B, "reference": "123/CAT-PA03"})
    assert response.status_code == 302
    vetting.refresh_from_db()
    assert (vetting.status, vetting.max_secrecy, vetting.decided_by_id) == (VettingStatus.APPROVED, Secrecy.B, police.pk)
    local_end = vetting.valid_until.astimezone(LOCAL_TZ)
    assert local_end.date() == chosen and (local_end.hour, local_end.minute) == (23, 59)
    assert AuditEntry.objects.filter(action="vetting.approved", object_id=str(vetting.pk), actor=police).exists()

    services.training_record(actor=supervisor, user=postman, course="Nghiệp vụ KT1", completed_on=local_today())
    assert handling_clearance(postman, Secrecy.B)
    assert not handling_clearance(postman, Secrecy.A)

    # Revocation needs a reason, then takes effect at once.
    url = reverse("accounts:vetting_revoke", args=[vetting.pk])
    response = police_client.post(url, {"reason": "  "})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    vetting.refresh_from_db()
    assert vetting.status == VettingStatus.APPROVED
    response = police_client.post(url, {"reason": "Vi phạm quy định bảo vệ bí mật nhà nước"})
    assert response.status_code == 302
    vetting.refresh_from_db()
    assert vetting.status == VettingStatus.REVOKED and vetting.revoked_by_id == police.pk
    assert AuditEntry.objects.filter(action="vetting.revoked", object_id=str(vetting.pk), actor=police).exists()
    assert not handling_clearance(postman, Secrecy.NONE)
    page = verified_client(postman).get(reverse("accounts:me")).content.decode()
    assert "Đã thu hồi" in page and "Được</span>" not in page


def test_request_then_reject_needs_a_reason(world):
    a = world["A"]
    vetting = _request(world)
    client = verified_client(a.people["police"])
    url = reverse("accounts:vetting_reject", args=[vetting.pk])
    response = client.post(url, {"reference": "", "note": ""})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    vetting.refresh_from_db()
    assert vetting.status == VettingStatus.REQUESTED
    response = client.post(url, {"reference": "45/CAT", "note": "Chưa đủ tiêu chuẩn"})
    assert response.status_code == 302
    vetting.refresh_from_db()
    assert vetting.status == VettingStatus.REJECTED and vetting.decision_note == "Chưa đủ tiêu chuẩn"
    assert AuditEntry.objects.filter(action="vetting.rejected", object_id=str(vetting.pk)).exists()
    assert not handling_clearance(a.people["postman"])


def test_illegal_transition_is_refused_with_409_and_nothing_changes(world):
    a = world["A"]
    vetting = _request(world)
    services.vetting_reject(actor=a.people["police"], vetting=vetting, note="Không đạt")
    vetting.refresh_from_db()
    entries = AuditEntry.objects.count()
    client = verified_client(a.people["police"])
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("accounts:vetting_approve", args=[vetting.pk]), _approve_payload())
        assert response.status_code == 409
        body = response.content.decode()
        assert "Không đạt" in body and "không thể chuyển sang" in body and 'role="alert"' in body
    response = client.post(reverse("accounts:vetting_revoke", args=[vetting.pk]), {"reason": "x"})
    assert response.status_code == 409
    after = Vetting.objects.get(pk=vetting.pk)
    assert (after.status, after.decided_at, after.valid_until) == (VettingStatus.REJECTED, vetting.decided_at, None)
    assert AuditEntry.objects.count() == entries

    # The service refuses the same edge on its own (the pages are not the only guard).
    from kt1.core.transitions import IllegalTransition

    with pytest.raises(IllegalTransition) as exc:
        services.vetting_approve(actor=a.people["police"], vetting=vetting, valid_until=now() + dt.timedelta(days=1),
                                 max_secrecy=Secrecy.C)
    assert exc.value.http_status == 409


def test_only_police_of_the_province_decide(world):
    a, b = world["A"], world["B"]
    vetting = _request(world)
    for name, payload in [("accounts:vetting_approve", _approve_payload()), ("accounts:vetting_reject", {"note": "x"})]:
        url = reverse(name, args=[vetting.pk])
        # The police of another province: the vetting does not exist for them.
        assert verified_client(b.people["police"]).post(url, payload).status_code == 404
        assert verified_client(b.people["police"]).get(url).status_code == 404
        # A supervisor or administrator sees it but may not decide.
        assert verified_client(a.people["supervisor"]).post(url, payload).status_code == 403
        assert verified_client(a.people["admin"]).post(url, payload).status_code == 403
        # A clerk does not see it at all.
        assert verified_client(a.people["agency_clerk"]).post(url, payload).status_code == 404
    assert verified_client(b.people["police"]).get(reverse("accounts:vetting_detail", args=[vetting.pk])).status_code == 404
    vetting.refresh_from_db()
    assert vetting.status == VettingStatus.REQUESTED
    assert not AuditEntry.objects.filter(action__in=["vetting.approved", "vetting.rejected"]).exists()
    # The supervisor's detail page offers no decision buttons.
    page = verified_client(a.people["supervisor"]).get(reverse("accounts:vetting_detail", args=[vetting.pk])).content.decode()
    assert reverse("accounts:vetting_approve", args=[vetting.pk]) not in page


def test_past_validity_date_is_refused(world):
    a = world["A"]
    vetting = _request(world)
    response = verified_client(a.people["police"]).post(reverse("accounts:vetting_approve", args=[vetting.pk]),
                                                        _approve_payload(days=-1))
    assert response.status_code == 200 and "Ngày hết hiệu lực phải ở tương lai." in response.content.decode()
    vetting.refresh_from_db()
    assert vetting.status == VettingStatus.REQUESTED


def test_expired_vetting_no_longer_clears_and_shows_expired(world):
    a = world["A"]
    postman, police = a.people["postman"], a.people["police"]
    vetting = _request(world)
    soon = now() + dt.timedelta(hours=1)
    services.vetting_approve(actor=police, vetting=vetting, valid_until=soon, max_secrecy=Secrecy.A)
    services.training_record(actor=a.people["supervisor"], user=postman, course="KT1", completed_on=local_today())
    assert handling_clearance(postman, Secrecy.A)
    later = soon + dt.timedelta(minutes=1)
    assert not handling_clearance(postman, Secrecy.NONE, at=later)

    client = verified_client(police)
    page = client.get(reverse("accounts:vetting_list"), {"expiring": "30"}).content.decode()
    assert reverse("accounts:vetting_detail", args=[vetting.pk]) in page

    # No service sets a validity in the past: move it there to see how an expired vetting looks.
    Vetting.objects.filter(pk=vetting.pk).update(valid_until=now() - dt.timedelta(days=1))
    detail = client.get(reverse("accounts:vetting_detail", args=[vetting.pk])).content.decode()
    assert "Hết hạn" in detail and "đã hết hạn" in detail
    page = client.get(reverse("accounts:vetting_list"), {"expiring": "30"}).content.decode()
    assert reverse("accounts:vetting_detail", args=[vetting.pk]) not in page
    page = client.get(reverse("accounts:user_list"), {"q": postman.username}).content.decode()
    assert 'class="badge bad">Hết hạn' in page


def test_vetting_list_scope_and_filters(world):
    a, b = world["A"], world["B"]
    mine = _request(world, "A", "postman")
    theirs = _request(world, "B", "postman")
    approved = f.cleared(a.people["operator"], police=a.people["police"])
    approved_vetting = Vetting.objects.get(user=approved)

    page = verified_client(a.people["police"]).get(reverse("accounts:vetting_list")).content.decode()
    assert reverse("accounts:vetting_detail", args=[mine.pk]) in page
    assert reverse("accounts:vetting_detail", args=[theirs.pk]) not in page
    page = verified_client(a.people["police"]).get(reverse("accounts:vetting_list"), {"status": "requested"}).content.decode()
    assert reverse("accounts:vetting_detail", args=[approved_vetting.pk]) not in page
    page = verified_client(a.people["police"]).get(reverse("accounts:vetting_list"), {"q": approved.username}).content.decode()
    assert reverse("accounts:vetting_detail", args=[approved_vetting.pk]) in page
    assert reverse("accounts:vetting_detail", args=[mine.pk]) not in page

    response = verified_client(a.people["police"]).get(reverse("accounts:vetting_list"), {"expiring": "abc", "q": approved.username})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert reverse("accounts:vetting_detail", args=[mine.pk]) not in response.content.decode()

    # A person sees their own vettings and nobody else's.
    own = verified_client(a.people["postman"])
    page = own.get(reverse("accounts:vetting_list")).content.decode()
    assert reverse("accounts:vetting_detail", args=[mine.pk]) in page
    assert reverse("accounts:vetting_detail", args=[approved_vetting.pk]) not in page
    assert own.get(reverse("accounts:vetting_detail", args=[mine.pk])).status_code == 200
    assert own.get(reverse("accounts:vetting_detail", args=[approved_vetting.pk])).status_code == 404
    assert verified_client(b.people["supervisor"]).get(reverse("accounts:vetting_detail", args=[mine.pk])).status_code == 404
