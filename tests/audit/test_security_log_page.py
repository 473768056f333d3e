"""The security log page: who reads which entries, filters, and the chain verification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from kt1.audit.models import AuditEntry
from kt1.core.clock import local_today
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db

URL = reverse("audit:entry_list")


def _sign_in(user, password=f.PASSWORD):
    """A real first-factor sign-in through the login page (audited by the sign-in service)."""
    Client().post(reverse("accounts:login"), {"username": user.username, "password": password})


def _rows(page: str, username: str) -> bool:
    return f'<span class="muted">{username}</span>' in page


def test_sign_ins_are_shown_within_scope_only(world):
    a, b = world["A"], world["B"]
    postman = a.people["postman"]
    _sign_in(postman)
    entry = AuditEntry.objects.filter(action="user.signed_in", actor=postman).get()

    for viewer in (a.people["police"], a.people["supervisor"], a.people["admin"], f.root_admin()):
        response = verified_client(viewer).get(URL, {"action": "user.signed_in"})
        assert response.status_code == 200
        page = response.content.decode()
        assert _rows(page, postman.username), viewer
        assert "Đăng nhập thành công" in page  # the registered message beside the code
    # Province B's police and supervisor read nothing about province A's people.
    for viewer in (b.people["police"], b.people["supervisor"]):
        page = verified_client(viewer).get(URL, {"action": "user.signed_in"}).content.decode()
        assert not _rows(page, postman.username)
    # People without audit.view: the page does not exist for them.
    for role in ("agency_clerk", "postman", "oversight", "finance"):
        assert verified_client(a.people[role]).get(URL).status_code == 404
        assert verified_client(a.people[role]).post(reverse("audit:verify")).status_code == 404
    assert Client().get(URL).status_code == 302  # anonymous: to the sign-in page
    assert entry.ip == "127.0.0.1" and entry.channel == "web"


def test_failed_sign_ins_and_role_changes_belong_to_the_person(world):
    a, b = world["A"], world["B"]
    postman = a.people["postman"]
    _sign_in(postman, password="sai-mat-khau")
    failure = AuditEntry.objects.filter(action="user.sign_in_failed", actor_username=postman.username).get()
    assert failure.actor_id is None
    f.people.role_grant(actor=f.root_admin(), user=postman, role="operator", facility=a.processing)
    for viewer, sees in [(a.people["police"], True), (a.people["supervisor"], True), (b.people["police"], False)]:
        page = verified_client(viewer).get(URL, {"q": postman.username}).content.decode()
        assert ('<code class="muted">user.sign_in_failed</code>' in page) is sees, viewer
    about_postman = f"accounts.user #{postman.pk}<"
    page = verified_client(a.people["police"]).get(URL, {"action": "role.granted", "q": "root.admin"}).content.decode()
    assert about_postman in page  # granted by the national administrator, about a person in scope
    page = verified_client(b.people["police"]).get(URL, {"action": "role.granted", "q": "root.admin"}).content.decode()
    assert about_postman not in page


def test_filters(world):
    a = world["A"]
    postman, operator = a.people["postman"], a.people["operator"]
    _sign_in(postman)
    _sign_in(operator)
    client = verified_client(a.people["police"])

    page = client.get(URL, {"q": postman.username}).content.decode()
    assert _rows(page, postman.username) and not _rows(page, operator.username)

    # Object search: the entries about one vetting.
    vetting = f.people.vetting_request(actor=a.people["supervisor"], user=operator, note="")
    page = client.get(URL, {"q": str(vetting)}).content.decode()
    assert "vetting.requested" in page

    # Security-only hides training records (not a security action).
    f.people.training_record(actor=a.people["supervisor"], user=postman, course="KT1", completed_on=local_today())
    supervisor = a.people["supervisor"].username
    page = client.get(URL, {"q": supervisor, "action": "training.recorded"}).content.decode()
    assert "Ghi nhận đào tạo" in page and '<code class="muted">training.recorded</code>' in page
    assert '<code class="muted">vetting.requested</code>' not in page
    page = client.get(URL, {"security": "on", "q": supervisor}).content.decode()
    assert '<code class="muted">training.recorded</code>' not in page
    assert '<code class="muted">vetting.requested</code>' in page

    today = local_today()
    page = client.get(URL, {"q": postman.username, "date_from": today.isoformat(), "date_to": today.isoformat()}).content.decode()
    assert _rows(page, postman.username)
    yesterday = today - dt.timedelta(days=1)
    page = client.get(URL, {"q": postman.username, "date_to": yesterday.isoformat()}).content.decode()
    assert not _rows(page, postman.username) and "0 bản ghi" in page

    # An unknown action code or a bad date is a form error, not a crash; the valid filters still apply.
    response = client.get(URL, {"action": "no.such", "date_from": "hôm qua", "q": postman.username})
    page = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in page
    assert _rows(page, postman.username) and not _rows(page, operator.username)


def test_verify_chain(world):
    a = world["A"]
    client = verified_client(a.people["supervisor"])
    response = client.post(reverse("audit:verify"))
    assert response.status_code == 200
    assert "Chuỗi nhật ký nguyên vẹn" in response.content.decode()
    assert client.get(reverse("audit:verify")).status_code == 405

    # Tamper with one entry behind the application's back (no service can do this).
    victim = AuditEntry.objects.order_by("seq")[3]
    AuditEntry.objects.filter(pk=victim.pk).update(actor_username="someone-else")
    response = client.post(reverse("audit:verify"))
    body = response.content.decode()
    assert response.status_code == 200 and "bị sai lệch từ bản ghi số" in body and str(victim.seq) in body
