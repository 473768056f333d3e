"""Every change to people, roles, vetting and training.

Each service: keyword-only, takes the acting user, checks the permission policy, validates, locks
what it changes, saves only changed fields and writes its audit entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kt1.audit import actions as audit_actions
from kt1.audit.services import audit_record
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today, now
from kt1.core.errors import PermissionDenied, ValidationFailed
from kt1.core.permissions import forget_scope, get_in_scope, require, scope_of

from .choices import Role, ScopeKind, VettingStatus, scope_kind_for
from .models import RoleAssignment, Training, User, Vetting
from .transitions import VETTING

# --- people -------------------------------------------------------------------------------------


def _clean_username(username: str) -> str:
    username = (username or "").strip().lower()
    if not username:
        raise ValidationFailed(_("Tên đăng nhập không được để trống."), detail={"username": _("Bắt buộc.")})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(
            _("Tên đăng nhập “%(u)s” đã được dùng.") % {"u": username}, detail={"username": _("Đã tồn tại.")}
        )
    return username


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), detail={"password": exc.messages}) from exc


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    full_name: str,
    password: str,
    role: str,
    agency=None,
    facility=None,
    province=None,
    email: str = "",
    phone: str = "",
    position: str = "",
) -> User:
    """Create a person together with their first role (a person without a role would be visible
    to no provincial administrator). Permission: accounts.user.manage over the role's scope.
    Audit: user.created, role.granted."""
    require(actor, "accounts.user.manage")
    full_name = (full_name or "").strip()
    if not full_name:
        raise ValidationFailed(_("Họ và tên không được để trống."), detail={"full_name": _("Bắt buộc.")})
    username = _clean_username(username)
    user = User(username=username, full_name=full_name, email=email.strip(), phone=phone.strip(), position=position.strip())
    _check_password(password, user)
    _validate_role_target(actor=actor, role=role, agency=agency, facility=facility, province=province)
    user.set_password(password)
    user.save()
    audit_record(action=audit_actions.USER_CREATED.code, actor=actor, obj=user, data={"username": username})
    _grant(actor=actor, user=user, role=role, agency=agency, facility=facility, province=province)
    return user


_EDITABLE_USER_FIELDS = ("full_name", "email", "phone", "position")


@transaction.atomic
def user_update(*, actor: User, user: User, **changes) -> User:
    """Change a person's name and contact details. Permission: accounts.user.manage.
    Audit: user.updated with the changed fields."""
    user = get_in_scope(User.objects.select_for_update(), actor, "change", pk=user.pk)
    require(actor, "accounts.user.manage")
    unknown = set(changes) - set(_EDITABLE_USER_FIELDS)
    if unknown:
        raise ValidationFailed(_("Trường không sửa được: %(f)s") % {"f": ", ".join(sorted(unknown))})
    if "full_name" in changes and not (changes["full_name"] or "").strip():
        raise ValidationFailed(_("Họ và tên không được để trống."), detail={"full_name": _("Bắt buộc.")})
    changed = {}
    for name, value in changes.items():
        value = (value or "").strip()
        if getattr(user, name) != value:
            changed[name] = value
            setattr(user, name, value)
    if changed:
        user.save(update_fields=list(changed))
        audit_record(action=audit_actions.USER_UPDATED.code, actor=actor, obj=user, data={"changed": sorted(changed)})
    return user


@transaction.atomic
def user_set_active(*, actor: User, user: User, active: bool) -> User:
    """Lock or unlock a person's sign-in. A person cannot lock themselves out.
    Audit: user.deactivated / user.reactivated."""
    user = get_in_scope(User.objects.select_for_update(), actor, "change", pk=user.pk)
    require(actor, "accounts.user.manage")
    if user.pk == actor.pk and not active:
        raise ValidationFailed(_("Bạn không thể tự khóa tài khoản của mình."))
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        action = audit_actions.USER_REACTIVATED if active else audit_actions.USER_DEACTIVATED
        audit_record(action=action.code, actor=actor, obj=user)
    return user


@transaction.atomic
def user_set_password(*, actor: User, user: User, password: str) -> User:
    """Set a new password (administrators for others, anyone for themselves). Audit: user.password_set."""
    if user.pk != actor.pk:
        user = get_in_scope(User.objects.select_for_update(), actor, "change", pk=user.pk)
        require(actor, "accounts.user.manage")
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(action=audit_actions.PASSWORD_SET.code, actor=actor, obj=user)
    return user


@transaction.atomic
def user_reset_two_factor(*, actor: User, user: User) -> User:
    """Remove a person's authenticator so they enrol again at next sign-in (lost phone).
    Audit: user.otp_reset."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_in_scope(User.objects.select_for_update(), actor, "change", pk=user.pk)
    require(actor, "accounts.user.manage")
    # Devices are credentials, not records: removing them is the reset; the audit keeps the history.
    TOTPDevice.objects.filter(user=user).delete()
    audit_record(action=audit_actions.OTP_RESET.code, actor=actor, obj=user)
    return user


# --- roles --------------------------------------------------------------------------------------


def _validate_role_target(*, actor: User, role: str, agency, facility, province) -> None:
    if role not in Role.values:
        raise ValidationFailed(_("Vai trò không hợp lệ."), detail={"role": _("Không hợp lệ.")})
    # Judge the stored records, not the caller's copies: a stale instance must not slip a retired
    # agency or facility through.
    agency = type(agency).objects.filter(pk=agency.pk).first() if agency is not None else None
    facility = type(facility).objects.filter(pk=facility.pk).first() if facility is not None else None
    province = type(province).objects.filter(pk=province.pk).first() if province is not None else None
    kind = scope_kind_for(role)
    errors = {}
    if kind == ScopeKind.AGENCY:
        if agency is None:
            errors["agency"] = _("Văn thư phải thuộc một cơ quan.")
        elif not agency.is_active:
            errors["agency"] = _("Cơ quan “%(name)s” đã ngừng hiệu lực.") % {"name": agency}
        target_province = agency.province_id if agency else None
    elif kind == ScopeKind.FACILITY:
        if facility is None:
            errors["facility"] = _("Nhân viên bưu chính phải thuộc một cơ sở bưu chính.")
        elif not facility.is_active:
            errors["facility"] = _("Cơ sở “%(name)s” đã ngừng hiệu lực.") % {"name": facility}
        target_province = facility.province_id if facility else None
    else:
        if role != Role.ADMIN and province is None:
            errors["province"] = _("Vai trò này phải gắn với một tỉnh.")
        target_province = province.pk if province else None
    if (kind == ScopeKind.AGENCY and (facility or province)) or (kind == ScopeKind.FACILITY and (agency or province)) or (
        kind == ScopeKind.PROVINCE and (agency or facility)
    ):
        errors["role"] = _("Phạm vi không phù hợp với vai trò.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), detail=errors)
    # The administrator must govern the target scope: a provincial admin grants within their province.
    admin_grants = scope_of(actor).grants_for("admin")
    if not any(g.nation or (target_province is not None and g.province_id == target_province) for g in admin_grants):
        raise PermissionDenied(_("Bạn không có quyền phân quyền trong phạm vi này."))


def _grant(*, actor: User, user: User, role: str, agency, facility, province) -> RoleAssignment:
    duplicate = RoleAssignment.objects.current().filter(
        user=user, role=role, agency=agency, facility=facility, province=province
    )
    if duplicate.exists():
        raise ValidationFailed(_("Người dùng đã có vai trò này trong phạm vi này."))
    assignment = RoleAssignment.objects.create(
        user=user, role=role, agency=agency, facility=facility, province=province, created_by=actor
    )
    forget_scope(user)
    audit_record(
        action=audit_actions.ROLE_GRANTED.code,
        actor=actor,
        obj=user,
        data={"assignment": assignment.pk, "role": role, "scope": str(agency or facility or province or "nation")},
    )
    return assignment


@transaction.atomic
def role_grant(*, actor: User, user: User, role: str, agency=None, facility=None, province=None) -> RoleAssignment:
    """Give a person a role in a scope. Permission: accounts.user.manage over that scope.
    Audit: role.granted."""
    user = get_in_scope(User.objects.select_for_update(), actor, "change", pk=user.pk)
    require(actor, "accounts.user.manage")
    _validate_role_target(actor=actor, role=role, agency=agency, facility=facility, province=province)
    return _grant(actor=actor, user=user, role=role, agency=agency, facility=facility, province=province)


@transaction.atomic
def role_end(*, actor: User, assignment: RoleAssignment) -> RoleAssignment:
    """End a role assignment now (kept for history). Audit: role.ended."""
    assignment = get_in_scope(RoleAssignment.objects.select_for_update(), actor, "change", pk=assignment.pk)
    require(actor, "accounts.user.manage")
    if assignment.ended_at is not None:
        raise ValidationFailed(_("Vai trò này đã kết thúc."))
    if assignment.user_id == actor.pk and assignment.role == Role.ADMIN:
        raise ValidationFailed(_("Bạn không thể tự thu hồi quyền quản trị của mình."))
    assignment.ended_at = now()
    assignment.save(update_fields=["ended_at"])
    forget_scope(assignment.user)
    audit_record(
        action=audit_actions.ROLE_ENDED.code,
        actor=actor,
        obj=assignment.user,
        data={"assignment": assignment.pk, "role": assignment.role},
    )
    return assignment


# --- vetting ------------------------------------------------------------------------------------


@transaction.atomic
def vetting_request(*, actor: User, user: User, note: str = "") -> Vetting:
    """Ask the police to vet a person. Permission: accounts.vetting.request (supervisor, admin) over
    the person. Refused while another request for the same person is pending.
    Audit: vetting.requested."""
    require(actor, "accounts.vetting.request")
    user = get_in_scope(User.objects.select_for_update(), actor, "view", pk=user.pk)
    if Vetting.objects.filter(user=user, status=VettingStatus.REQUESTED).exists():
        raise ValidationFailed(_("Người này đang có một đề nghị thẩm tra chưa được kết luận."))
    vetting = Vetting.objects.create(user=user, requested_by=actor, request_note=(note or "").strip())
    audit_record(action=audit_actions.VETTING_REQUESTED.code, actor=actor, obj=vetting, data={"user": user.username})
    return vetting


def _lock_vetting_for_decision(actor: User, vetting: Vetting, target: str) -> Vetting:
    vetting = get_in_scope(Vetting.objects.select_for_update(), actor, "view", pk=vetting.pk)
    require(actor, VETTING.check(vetting.status, target).permission)
    get_in_scope(Vetting.objects.all(), actor, "decide", pk=vetting.pk)
    return vetting


@transaction.atomic
def vetting_approve(
    *, actor: User, vetting: Vetting, valid_until: dt.datetime, max_secrecy: str, reference: str = "", note: str = ""
) -> Vetting:
    """Police conclude the vetting as passed, with a validity and the highest secrecy level the
    person may handle. Audit: vetting.approved."""
    vetting = _lock_vetting_for_decision(actor, vetting, VettingStatus.APPROVED)
    errors = {}
    if max_secrecy not in Secrecy.values:
        errors["max_secrecy"] = _("Chọn độ mật tối đa.")
    if valid_until is None:
        errors["valid_until"] = _("Nhập ngày hết hiệu lực.")
    elif valid_until <= now():
        errors["valid_until"] = _("Ngày hết hiệu lực phải ở tương lai.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), detail=errors)
    vetting.status = VettingStatus.APPROVED
    vetting.decided_by = actor
    vetting.decided_at = now()
    vetting.valid_until = valid_until
    vetting.max_secrecy = max_secrecy
    vetting.decision_reference = (reference or "").strip()
    vetting.decision_note = (note or "").strip()
    vetting.save(
        update_fields=["status", "decided_by", "decided_at", "valid_until", "max_secrecy", "decision_reference", "decision_note"]
    )
    audit_record(
        action=audit_actions.VETTING_APPROVED.code,
        actor=actor,
        obj=vetting,
        data={"user": vetting.user.username, "max_secrecy": max_secrecy, "valid_until": valid_until.isoformat()},
    )
    return vetting


@transaction.atomic
def vetting_reject(*, actor: User, vetting: Vetting, reference: str = "", note: str = "") -> Vetting:
    """Police conclude the vetting as failed. Audit: vetting.rejected."""
    vetting = _lock_vetting_for_decision(actor, vetting, VettingStatus.REJECTED)
    if not (note or "").strip():
        raise ValidationFailed(_("Ghi rõ lý do không đạt."), detail={"note": _("Bắt buộc.")})
    vetting.status = VettingStatus.REJECTED
    vetting.decided_by = actor
    vetting.decided_at = now()
    vetting.decision_reference = (reference or "").strip()
    vetting.decision_note = note.strip()
    vetting.save(update_fields=["status", "decided_by", "decided_at", "decision_reference", "decision_note"])
    audit_record(action=audit_actions.VETTING_REJECTED.code, actor=actor, obj=vetting, data={"user": vetting.user.username})
    return vetting


@transaction.atomic
def vetting_revoke(*, actor: User, vetting: Vetting, reason: str) -> Vetting:
    """Police withdraw an approved vetting at once; handling rights lapse with it.
    Audit: vetting.revoked."""
    vetting = _lock_vetting_for_decision(actor, vetting, VettingStatus.REVOKED)
    if not (reason or "").strip():
        raise ValidationFailed(_("Ghi rõ lý do thu hồi."), detail={"reason": _("Bắt buộc.")})
    vetting.status = VettingStatus.REVOKED
    vetting.revoked_by = actor
    vetting.revoked_at = now()
    vetting.revocation_reason = reason.strip()
    vetting.save(update_fields=["status", "revoked_by", "revoked_at", "revocation_reason"])
    audit_record(action=audit_actions.VETTING_REVOKED.code, actor=actor, obj=vetting, data={"user": vetting.user.username})
    return vetting


# --- training -----------------------------------------------------------------------------------


@transaction.atomic
def training_record(
    *, actor: User, user: User, course: str, completed_on: dt.date, valid_until: dt.date | None = None
) -> Training:
    """Record a completed KT1 training. Permission: accounts.training.record over the person.
    Audit: training.recorded."""
    require(actor, "accounts.training.record")
    user = get_in_scope(User.objects.all(), actor, "view", pk=user.pk)
    errors = {}
    if not (course or "").strip():
        errors["course"] = _("Nhập tên khóa đào tạo.")
    if completed_on is None:
        errors["completed_on"] = _("Nhập ngày hoàn thành.")
    elif completed_on > local_today():
        errors["completed_on"] = _("Ngày hoàn thành không được ở tương lai.")
    if valid_until and completed_on and valid_until <= completed_on:
        errors["valid_until"] = _("Ngày hết hiệu lực phải sau ngày hoàn thành.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), detail=errors)
    training = Training.objects.create(
        user=user, course=course.strip(), completed_on=completed_on, valid_until=valid_until, recorded_by=actor
    )
    audit_record(action=audit_actions.TRAINING_RECORDED.code, actor=actor, obj=training, data={"user": user.username})
    return training


@transaction.atomic
def bootstrap_first_admin(*, username: str, full_name: str, password: str) -> User:
    """Create the first national administrator of an empty installation (operators run
    `kt1 create_first_admin`). Refused once any administrator exists. Audit: user.created,
    role.granted, both with no actor."""
    if RoleAssignment.objects.filter(role=Role.ADMIN).exists():
        raise ValidationFailed(_("Hệ thống đã có quản trị viên; hãy dùng tài khoản đó để tạo người dùng."))
    username = _clean_username(username)
    if not (full_name or "").strip():
        raise ValidationFailed(_("Họ và tên không được để trống."), detail={"full_name": _("Bắt buộc.")})
    user = User(username=username, full_name=full_name.strip())
    _check_password(password, user)
    user.set_password(password)
    user.save()
    audit_record(action=audit_actions.USER_CREATED.code, actor=None, actor_username="system", obj=user,
                 data={"username": username, "bootstrap": True})
    assignment = RoleAssignment.objects.create(user=user, role=Role.ADMIN)
    audit_record(action=audit_actions.ROLE_GRANTED.code, actor=None, actor_username="system", obj=user,
                 data={"assignment": assignment.pk, "role": Role.ADMIN, "scope": "nation"})
    return user


@transaction.atomic
def api_token_create(*, actor: User | None, user: User):
    """Issue (or replace) the API token of a person; the key is shown once by the caller.
    Operators use `kt1 create_api_token USERNAME`. Audit: api_token.created."""
    from rest_framework.authtoken.models import Token

    if not user.is_active:
        raise ValidationFailed(_("Tài khoản đã bị khóa."))
    # A new key replaces the old one: a leaked key is revoked by issuing a new one.
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    audit_record(action=audit_actions.API_TOKEN_CREATED.code, actor=actor, actor_username="" if actor else "system", obj=user)
    return token
