"""Demo-only two-factor: demo accounts get an authenticator whose key is derived from the
username, so anyone trying the demo can produce codes (`kt1 demo_totp USERNAME`) or add the key
to an authenticator app. Refused outside demo mode, and only for `demo.*` accounts."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

DEMO_PREFIX = "demo."
DEMO_PASSWORD = "kt1-demo-2026"


def demo_totp_key_hex(username: str) -> str:
    return hashlib.sha256(f"kt1-demo-totp:{username}".encode()).hexdigest()[:40]  # 20 bytes, as TOTPDevice expects


def ensure_demo_device(user) -> TOTPDevice:
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="KT1 demo", defaults={"key": demo_totp_key_hex(user.username), "confirmed": True}
    )
    return device


def demo_token(username: str, at: float | None = None) -> str:
    if not getattr(settings, "KT1_DEMO", False) or not username.startswith(DEMO_PREFIX):
        raise PermissionError("demo two-factor codes exist only for demo.* accounts in demo mode")
    return totp_token(bytes.fromhex(demo_totp_key_hex(username)), at)


def totp_token(key: bytes, at: float | None = None) -> str:
    """The RFC 6238 code (30 s step, 6 digits) for a key at an instant (now by default)."""
    t = TOTP(key, step=30, t0=0, digits=6)
    t.time = time.time() if at is None else at
    return f"{t.token():06d}"
