"""Sign-in steps as services: each outcome is audited in the same place it is decided."""

from __future__ import annotations

import base64

import segno
from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kt1.audit import actions as A
from kt1.audit.services import audit_record
from kt1.core.clock import now

from .middleware import SIGNED_IN_AT


def sign_in_password(request, *, username: str, password: str):
    """First factor. Returns the user, or None; sets request.axes_locked_out when locked.
    Audit: user.signed_in | user.sign_in_failed | user.locked_out."""
    username = (username or "").strip().lower()
    user = authenticate(request, username=username, password=password)
    if user is None:
        locked = getattr(request, "axes_locked_out", False)
        action = A.LOCKED_OUT if locked else A.SIGN_IN_FAILED
        with transaction.atomic():
            audit_record(action=action.code, actor=None, actor_username=username[:150])
        return None
    login(request, user)
    request.session[SIGNED_IN_AT] = now().timestamp()
    with transaction.atomic():
        audit_record(action=A.SIGNED_IN.code, actor=user, data={"factor": "password"})
    return user


def sign_out(request) -> None:
    user = request.user
    if user.is_authenticated:
        with transaction.atomic():
            audit_record(action=A.SIGNED_OUT.code, actor=user)
    logout(request)


def has_confirmed_device(user) -> bool:
    return any(True for _device in devices_for_user(user, confirmed=True))


def pending_enrolment_device(user) -> TOTPDevice:
    """The unconfirmed authenticator shown while enrolling (created once, reused on reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="KT1", confirmed=False)
    return device


def provisioning_qr_data_uri(device: TOTPDevice) -> str:
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def throttled_seconds(device: TOTPDevice) -> int:
    """Seconds until django-otp accepts another code after wrong ones (0 when allowed)."""
    allowed, info = device.verify_is_allowed()
    if allowed or not info or not info.get("locked_until"):
        return 0
    return max(1, int((info["locked_until"] - now()).total_seconds()) + 1)


def wait_seconds(user) -> int:
    devices = list(devices_for_user(user, confirmed=None))
    return max((throttled_seconds(d) for d in devices), default=0)


@transaction.atomic
def two_factor_enrol(request, *, token: str) -> bool:
    """Confirm the pending authenticator with its first code. Audit: user.otp_enrolled / user.otp_failed."""
    user = request.user
    device = pending_enrolment_device(user)
    if device.verify_token((token or "").strip()):
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        audit_record(action=A.OTP_ENROLLED.code, actor=user)
        return True
    audit_record(action=A.OTP_FAILED.code, actor=user, data={"step": "enrol"})
    return False


@transaction.atomic
def two_factor_verify(request, *, token: str) -> bool:
    """Second factor at sign-in. Audit: user.signed_in (factor totp) / user.otp_failed."""
    user = request.user
    token = (token or "").strip()
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            otp_login(request, device)
            audit_record(action=A.SIGNED_IN.code, actor=user, data={"factor": "totp"})
            return True
    audit_record(action=A.OTP_FAILED.code, actor=user, data={"step": "verify"})
    return False
