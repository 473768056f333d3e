"""People pages: who may open what, creating people with a scoped first role, roles, passwords."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kt1.accounts.choices import Role
from kt1.accounts.models import RoleAssignment, User
from kt1.audit.models import AuditEntry
from kt1.directory import services as directory
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Buu-dien-KT1-moi-2026"


def _status(user, name, *args):
    return verified_client(user).get(reverse(name, args=args)).status_code


def test_pages_answer_by_role_and_scope(world):
    a, b = world["A"], world["B"]
    admin, police, supervisor, clerk = (a.people[r] for r in ("admin", "police", "supervisor", "agency_clerk"))
    postman, postman_b = a.people["postman"], b.people["postman"]

    for name, args in [
        ("accounts:user_list", ()), ("accounts:user_create", ()), ("accounts:user_detail", (postman.pk,)),
        ("accounts:user_edit", (postman.pk,)), ("accounts:role_grant", (postman.pk,)),
        ("accounts:user_set_password", (postman.pk,)), ("accounts:training_add", (postman.pk,)),
        ("accounts:vetting_request", (postman.pk,)), ("accounts:vetting_list", ()), ("accounts:me", ()),
    ]:
        assert _status(admin, name, *args) == 200, name

    # The police and supervisors read people in their scope but do not manage them.
    for viewer in (police, supervisor):
        assert _status(viewer, "accounts:user_list") == 200
        assert _status(viewer, "accounts:user_detail", postman.pk) == 200
        assert _status(viewer, "accounts:vetting_list") == 200
        assert _status(viewer, "accounts:user_create") == 404  # no accounts.user.manage: the page does not exist for them
        assert _status(viewer, "accounts:user_edit", postman.pk) == 403  # visible person, forbidden action
    assert _status(supervisor, "accounts:training_add", postman.pk) == 200
    assert _status(supervisor, "accounts:vetting_request", postman.pk) == 200
    assert _status(police, "accounts:training_add", postman.pk) == 404

    # Out of scope answers 404, exactly like a missing person.
    assert _status(admin, "accounts:user_detail", postman_b.pk) == 404
    assert _status(police, "accounts:user_detail", postman_b.pk) == 404
    assert _status(admin, "accounts:user_edit", postman_b.pk) == 404
    assert _status(admin, "accounts:user_detail", 999999) == 404

    # A clerk has no people pages, only their own profile and their own vettings.
    assert _status(clerk, "accounts:user_list") == 404
    assert _status(clerk, "accounts:user_detail", postman.pk) == 404
    assert _status(clerk, "accounts:me") == 200
    assert _status(clerk, "accounts:vetting_list") == 200


def test_user_list_filters_and_shows_roles_and_vetting(world):
    a = world["A"]
    admin, postman = a.people["admin"], a.people["postman"]
    f.cleared(postman)
    client = verified_client(admin)
    page = client.get(reverse("accounts:user_list"), {"q": postman.username}).content.decode()
    assert postman.username in page and "Bưu tá" in page and str(a.post_office) in page
    assert "Đạt, hiệu lực đến" in page
    page = client.get(reverse("accounts:user_list"), {"role": Role.POLICE}).content.decode()
    assert a.people["police"].username in page and postman.username not in page
    # Province B's people never show to province A's administrator.
    other = world["B"].people["postman"]
    page = client.get(reverse("accounts:user_list"), {"q": other.username}).content.decode()
    assert reverse("accounts:user_detail", args=[other.pk]) not in page and "0 người dùng" in page


def _create_payload(**overrides):
    data = {
        "username": "buuta.moi", "full_name": "Nguyễn Văn Mới", "email": "moi@example.vn", "phone": "0912345678",
        "position": "Bưu tá", "password": NEW_PASSWORD, "password2": NEW_PASSWORD, "role": Role.POSTMAN,
        "agency": "", "facility": "", "province": "",
    }
    data.update(overrides)
    return data


def test_create_user_with_role_and_scope(world):
    a = world["A"]
    admin = a.people["admin"]
    response = verified_client(admin).post(reverse("accounts:user_create"), _create_payload(facility=a.post_office.pk))
    user = User.objects.get(username="buuta.moi")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:user_detail", args=[user.pk])
    assert user.check_password(NEW_PASSWORD) and user.full_name == "Nguyễn Văn Mới"
    assignment = RoleAssignment.objects.get(user=user)
    assert (assignment.role, assignment.facility_id, assignment.created_by_id) == (Role.POSTMAN, a.post_office.pk, admin.pk)
    assert AuditEntry.objects.filter(action="user.created", object_id=str(user.pk), actor=admin).exists()
    assert AuditEntry.objects.filter(action="role.granted", object_id=str(user.pk), actor=admin).exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"role": Role.POSTMAN, "agency": "AGENCY", "facility": ""}, "Nhân viên bưu chính phải thuộc một cơ sở bưu chính."),
        ({"role": Role.AGENCY_CLERK, "facility": "FACILITY"}, "Văn thư phải thuộc một cơ quan."),
        ({"role": Role.POLICE, "agency": "AGENCY", "province": "PROVINCE"}, "Phạm vi không phù hợp với vai trò."),
        ({"role": Role.POLICE, "facility": ""}, "Vai trò này phải gắn với một tỉnh."),
        ({"role": Role.AGENCY_CLERK, "agency": "RETIRED"}, "Cơ quan không hợp lệ, ngoài phạm vi của bạn hoặc đã ngừng hiệu lực."),
        ({"role": Role.AGENCY_CLERK, "agency": "AGENCY_B"}, "Cơ quan không hợp lệ, ngoài phạm vi của bạn hoặc đã ngừng hiệu lực."),
        ({"username": "DUPLICATE"}, "đã được dùng"),
        ({"password2": "khac-hoan-toan-2026"}, "Hai lần nhập mật khẩu không khớp."),
        ({"password": "12345678901", "password2": "12345678901"}, "Mật khẩu này"),
    ],
)
def test_create_user_refusals_save_nothing(world, overrides, message):
    a, b = world["A"], world["B"]
    admin = a.people["admin"]
    retired = f.agency(a.province)
    directory.agency_retire(actor=f.root_admin(), agency=retired)
    values = {"AGENCY": a.agency.pk, "FACILITY": a.post_office.pk, "PROVINCE": a.province.pk, "RETIRED": retired.pk,
              "AGENCY_B": b.agency.pk, "DUPLICATE": a.people["postman"].username.upper()}
    overrides = {k: values.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    payload = _create_payload(**({"facility": a.post_office.pk} | overrides))
    users, roles, entries = User.objects.count(), RoleAssignment.objects.count(), AuditEntry.objects.count()
    response = verified_client(admin).post(reverse("accounts:user_create"), payload)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert (User.objects.count(), RoleAssignment.objects.count(), AuditEntry.objects.count()) == (users, roles, entries)


def test_service_refuses_retired_agency_in_vietnamese(world):
    from kt1.accounts import services
    from kt1.core.errors import ValidationFailed

    a = world["A"]
    retired = f.agency(a.province)
    directory.agency_retire(actor=f.root_admin(), agency=retired)  # `retired` in hand is now a stale copy
    before = User.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(actor=a.people["admin"], username="vt.cu", full_name="Văn thư", password=NEW_PASSWORD,
                             role=Role.AGENCY_CLERK, agency=retired)
    assert "đã ngừng hiệu lực" in str(exc.value.message) and "agency" in exc.value.detail
    assert User.objects.count() == before


def test_role_grant_and_end_are_audited(world):
    a = world["A"]
    admin, postman = a.people["admin"], a.people["postman"]
    client = verified_client(admin)
    response = client.post(reverse("accounts:role_grant", args=[postman.pk]),
                           {"role": Role.OPERATOR, "facility": a.processing.pk, "agency": "", "province": ""})
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=postman, role=Role.OPERATOR)
    granted = AuditEntry.objects.filter(action="role.granted", object_id=str(postman.pk), actor=admin)
    assert granted.filter(data__role=Role.OPERATOR).exists()
    # The same role in the same scope again is refused on the form.
    response = client.post(reverse("accounts:role_grant", args=[postman.pk]),
                           {"role": Role.OPERATOR, "facility": a.processing.pk})
    assert response.status_code == 200 and "đã có vai trò này" in response.content.decode()

    response = client.post(reverse("accounts:role_end", args=[assignment.pk]))
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.ended_at is not None
    assert AuditEntry.objects.filter(action="role.ended", object_id=str(postman.pk), data__assignment=assignment.pk).exists()
    page = client.get(reverse("accounts:user_detail", args=[postman.pk])).content.decode()
    assert "Vai trò đã kết thúc" in page

    # Ending it again is refused with a message and nothing changes.
    ended_at = assignment.ended_at
    response = client.post(reverse("accounts:role_end", args=[assignment.pk]), follow=True)
    assert "Vai trò này đã kết thúc." in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.ended_at == ended_at


def test_role_end_refused_to_police_and_out_of_scope(world):
    a, b = world["A"], world["B"]
    assignment = RoleAssignment.objects.get(user=a.people["postman"])
    assert verified_client(a.people["police"]).post(reverse("accounts:role_end", args=[assignment.pk])).status_code == 403
    assert verified_client(b.people["admin"]).post(reverse("accounts:role_end", args=[assignment.pk])).status_code == 404
    assignment.refresh_from_db()
    assert assignment.ended_at is None
    assert verified_client(a.people["admin"]).get(reverse("accounts:role_end", args=[assignment.pk])).status_code == 405


def test_admin_of_province_a_cannot_grant_in_province_b(world):
    a, b = world["A"], world["B"]
    postman = a.people["postman"]
    before = RoleAssignment.objects.count()
    response = verified_client(a.people["admin"]).post(
        reverse("accounts:role_grant", args=[postman.pk]), {"role": Role.POLICE, "province": b.province.pk}
    )
    assert response.status_code == 200 and "Tỉnh không hợp lệ" in response.content.decode()
    assert RoleAssignment.objects.count() == before


def test_edit_lock_password_and_two_factor_reset(world):
    a = world["A"]
    admin, postman = a.people["admin"], a.people["postman"]
    client = verified_client(admin)
    response = client.post(reverse("accounts:user_edit", args=[postman.pk]),
                           {"full_name": "Trần Thị Bưu", "email": "", "phone": "0987", "position": "Bưu tá chính"})
    assert response.status_code == 302
    postman.refresh_from_db()
    assert (postman.full_name, postman.position) == ("Trần Thị Bưu", "Bưu tá chính")
    assert AuditEntry.objects.filter(action="user.updated", object_id=str(postman.pk)).exists()

    assert client.post(reverse("accounts:user_set_active", args=[postman.pk]), {"active": "0"}).status_code == 302
    postman.refresh_from_db()
    assert not postman.is_active
    assert AuditEntry.objects.filter(action="user.deactivated", object_id=str(postman.pk)).exists()
    client.post(reverse("accounts:user_set_active", args=[postman.pk]), {"active": "1"})
    postman.refresh_from_db()
    assert postman.is_active and AuditEntry.objects.filter(action="user.reactivated", object_id=str(postman.pk)).exists()

    # An administrator cannot lock themselves out.
    response = client.post(reverse("accounts:user_set_active", args=[admin.pk]), {"active": "0"}, follow=True)
    assert "Bạn không thể tự khóa tài khoản của mình." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active

    response = client.post(reverse("accounts:user_set_password", args=[postman.pk]),
                           {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    postman.refresh_from_db()
    assert postman.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="user.password_set", object_id=str(postman.pk), actor=admin).exists()

    TOTPDevice.objects.create(user=postman, name="phone", confirmed=True)
    assert client.post(reverse("accounts:user_reset_two_factor", args=[postman.pk])).status_code == 302
    assert not TOTPDevice.objects.filter(user=postman).exists()
    assert AuditEntry.objects.filter(action="user.otp_reset", object_id=str(postman.pk)).exists()

    # The supervisor sees the person but may not lock them.
    response = verified_client(a.people["supervisor"]).post(reverse("accounts:user_set_active", args=[postman.pk]), {"active": "0"})
    assert response.status_code == 403
    postman.refresh_from_db()
    assert postman.is_active


def test_me_shows_roles_clearance_and_changes_own_password(world):
    a = world["A"]
    postman = f.cleared(a.people["postman"], "B")
    client = verified_client(postman)
    page = client.get(reverse("accounts:me")).content.decode()
    assert "Bưu tá" in page and str(a.post_office) in page
    assert page.count('class="badge ok">Được') == 3  # none, C, B
    assert "chỉ được tiếp xúc tới độ mật" in page  # A refused, with the reason

    before = AuditEntry.objects.filter(action="user.password_set").count()
    response = client.post(reverse("accounts:me"), {"current_password": "sai-mat-khau", "password": NEW_PASSWORD,
                                                    "password2": NEW_PASSWORD})
    assert response.status_code == 200 and "Mật khẩu hiện tại không đúng." in response.content.decode()
    response = client.post(reverse("accounts:me"), {"current_password": f.PASSWORD, "password": NEW_PASSWORD,
                                                    "password2": NEW_PASSWORD})
    assert response.status_code == 302
    postman.refresh_from_db()
    assert postman.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="user.password_set").count() == before + 1
    entry = AuditEntry.objects.filter(action="user.password_set").order_by("-seq").first()
    assert entry.actor_id == postman.pk and entry.object_id == str(postman.pk)
    assert client.get(reverse("accounts:me")).status_code == 200  # still signed in


def test_training_add_validates_and_audits(world):
    import datetime as dt

    from kt1.accounts.models import Training
    from kt1.core.clock import local_today

    a = world["A"]
    postman = a.people["postman"]
    client = verified_client(a.people["supervisor"])
    url = reverse("accounts:training_add", args=[postman.pk])
    tomorrow = local_today() + dt.timedelta(days=1)
    response = client.post(url, {"course": "Nghiệp vụ KT1", "completed_on": tomorrow.isoformat()})
    assert response.status_code == 200 and "Ngày hoàn thành không được ở tương lai." in response.content.decode()
    response = client.post(url, {"course": "Nghiệp vụ KT1", "completed_on": local_today().isoformat(),
                                 "valid_until": (local_today() - dt.timedelta(days=3)).isoformat()})
    assert response.status_code == 200 and "Ngày hết hiệu lực phải sau ngày hoàn thành." in response.content.decode()
    assert not Training.objects.filter(user=postman).exists()

    response = client.post(url, {"course": "Nghiệp vụ KT1", "completed_on": local_today().isoformat(),
                                 "valid_until": (local_today() + dt.timedelta(days=365)).isoformat()})
    assert response.status_code == 302
    training = Training.objects.get(user=postman)
    assert AuditEntry.objects.filter(action="training.recorded", object_id=str(training.pk)).exists()
    # Out of scope: the supervisor of province A cannot record training for province B's people.
    assert client.get(reverse("accounts:training_add", args=[world["B"].people["postman"].pk])).status_code == 404
