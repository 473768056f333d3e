"""Sign-in security: password, TOTP enrolment and verification, lockout, session limits, headers."""

from __future__ import annotations

import base64
import time

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from kt1.accounts.choices import Role
from kt1.accounts.demo import totp_token
from kt1.audit.models import AuditEntry
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    prov = f.province()
    return f.person(Role.AGENCY_CLERK, agency=f.agency(prov), username="clerk.one")


def sign_in(client: Client, username: str, password: str = f.PASSWORD, ip: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_first_sign_in_enrols_an_authenticator_then_reaches_home(clerk):
    client = Client()
    response = sign_in(client, "clerk.one")
    assert response.status_code == 302 and response.url == "/accounts/two-factor/enrol/"
    # Before the second factor every page sends the person back to the enrolment.
    assert client.get("/").url == "/accounts/two-factor/enrol/"
    page = client.get("/accounts/two-factor/enrol/")
    secret = page.context["secret"]
    assert page.status_code == 200 and "data:image/svg+xml;base64," in page.context["qr"]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    wrong = client.post("/accounts/two-factor/enrol/", {"token": "000000" if totp_token(key) != "000000" else "111111"})
    assert wrong.status_code == 200 and "không đúng" in wrong.content.decode()
    time.sleep(1.1)  # django-otp throttles a device for 1 s after one wrong code
    response = client.post("/accounts/two-factor/enrol/", {"token": totp_token(key)})
    assert response.status_code == 302 and response.url == "/"
    assert TOTPDevice.objects.get(user=clerk).confirmed
    home = client.get("/")
    assert home.status_code == 200 and clerk.full_name in home.content.decode()
    actions = list(AuditEntry.objects.filter(actor=clerk).values_list("action", flat=True))
    assert actions == ["user.signed_in", "user.otp_failed", "user.otp_enrolled"]


def test_enrolled_user_must_type_a_current_code(clerk):
    device = TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)
    client = Client()
    assert sign_in(client, "clerk.one").url == "/accounts/two-factor/"
    bad = client.post("/accounts/two-factor/", {"token": "12345"})
    assert bad.status_code == 200 and "6 chữ số" in bad.content.decode()
    good = client.post("/accounts/two-factor/", {"token": totp_token(device.bin_key)})
    assert good.status_code == 302 and good.url == "/"
    assert client.get("/").status_code == 200
    assert AuditEntry.objects.filter(actor=clerk, action="user.signed_in", data__factor="totp").count() == 1


def test_wrong_password_is_refused_in_vietnamese_and_audited(clerk):
    response = sign_in(Client(), "clerk.one", "wrong-password")
    assert response.status_code == 200
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.content.decode()
    entry = AuditEntry.objects.get(action="user.sign_in_failed")
    assert entry.actor_username == "clerk.one" and entry.ip == "10.0.0.1"


def test_lockout_after_repeated_failures_per_username_and_ip(clerk):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "clerk.one", "wrong-password")
    locked = sign_in(client, "clerk.one", f.PASSWORD)
    assert locked.status_code == 429
    assert "tạm khóa" in locked.content.decode()
    assert AuditEntry.objects.filter(action="user.locked_out", actor_username="clerk.one").exists()
    # Another machine is not locked out: the lock is per username + IP.
    other = sign_in(Client(), "clerk.one", f.PASSWORD, ip="10.0.0.2")
    assert other.status_code == 302


def test_session_ends_twelve_hours_after_sign_in_even_when_busy(clerk):
    client = verified_client(clerk)
    assert client.get("/").status_code == 200
    session = client.session
    session["kt1_signed_in_at"] = time.time() - settings.KT1_SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert AuditEntry.objects.filter(action="user.session_expired", actor=clerk).exists()
    assert client.get("/").url.startswith("/accounts/login/")


def test_idle_timeout_is_fifteen_minutes_renewed_on_each_request():
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.KT1_SESSION_ABSOLUTE_SECONDS == 12 * 3600


def test_sign_out_is_audited_and_needs_post(clerk):
    client = verified_client(clerk)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="user.signed_out", actor=clerk).exists()
    assert client.get("/").status_code == 302


def test_security_headers_and_csrf(clerk):
    response = Client().get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/accounts/login/", {"username": "clerk.one", "password": f.PASSWORD}).status_code == 403


def test_open_redirect_is_ignored(clerk):
    device = TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)
    client = Client()
    client.post("/accounts/login/?next=https://evil.example/", {"username": "clerk.one", "password": f.PASSWORD,
                                                                 "next": "https://evil.example/"})
    response = client.post("/accounts/two-factor/", {"token": totp_token(device.bin_key)})
    assert response.url == "/"


def test_inactive_user_cannot_sign_in(clerk, root_admin):
    from kt1.accounts.services import user_set_active

    user_set_active(actor=root_admin, user=clerk, active=False)
    assert sign_in(Client(), "clerk.one").status_code == 200


def test_english_switch_translates_the_shell(clerk):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and 'lang="en"' in page.content.decode()
