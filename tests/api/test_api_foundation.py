"""API v1 foundation: token auth, schema, /me, scoped directory reads, error shape."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from kt1.accounts.models import User
from kt1.audit.models import AuditEntry
from tests.helpers import api_client

pytestmark = pytest.mark.django_db


def test_schema_is_served_and_lists_the_directory_endpoints(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    body = response.content.decode()
    for path in ("/api/v1/agencies/", "/api/v1/facilities/", "/api/v1/me/"):
        assert path in body


def test_requests_without_a_token_are_refused():
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "detail"}
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert bad.get("/api/v1/me/").status_code == 401


def test_create_api_token_command_prints_a_working_key(world, capsys):
    clerk = world["A"].people["agency_clerk"]
    call_command("create_api_token", clerk.username)
    key = capsys.readouterr().out.strip()
    assert len(key) == 40
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == clerk.username
    assert AuditEntry.objects.filter(action="api_token.created", object_id=str(clerk.pk)).exists()


def test_me_tells_a_clerk_their_agency(world):
    a = world["A"]
    me = api_client(a.people["agency_clerk"]).get("/api/v1/me/").json()
    assert me["agency"] == a.agency.pk
    assert me["roles"][0]["role"] == "agency_clerk" and me["roles"][0]["scope"] == "agency"
    postman = api_client(a.people["postman"]).get("/api/v1/me/").json()
    assert postman["agency"] is None and postman["roles"][0]["facility"] == a.post_office.pk


def test_directory_reads_are_scoped_like_the_pages(world):
    a, b = world["A"], world["B"]
    client = api_client(a.people["agency_clerk"])
    ids = {row["id"] for row in client.get("/api/v1/agencies/?page_size=500").json()["results"]}
    assert a.agency.pk in ids and b.agency.pk not in ids
    assert client.get(f"/api/v1/agencies/{a.agency.pk}/").status_code == 200
    out = client.get(f"/api/v1/agencies/{b.agency.pk}/")
    missing = client.get("/api/v1/agencies/999999/")
    assert out.status_code == missing.status_code == 404
    assert out.json() == missing.json()
    facilities = {row["id"] for row in client.get("/api/v1/facilities/").json()["results"]}
    assert a.post_office.pk in facilities and b.post_office.pk not in facilities
    assert client.get(f"/api/v1/facilities/{b.post_office.pk}/").status_code == 404


def test_filters_and_bad_parameters(world):
    client = api_client(world["A"].people["oversight"])
    rows = client.get("/api/v1/agencies/?mandatory=true&q=thử").json()["results"]
    assert rows and all(r["is_mandatory"] for r in rows)
    bad = client.get("/api/v1/agencies/?mandatory=perhaps")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid" and "mandatory" in bad.json()["detail"]


def test_a_deactivated_user_token_stops_working(world, root_admin):
    from kt1.accounts.services import user_set_active

    clerk = world["A"].people["agency_clerk"]
    client = api_client(clerk)
    assert client.get("/api/v1/me/").status_code == 200
    user_set_active(actor=root_admin, user=User.objects.get(pk=clerk.pk), active=False)
    assert client.get("/api/v1/me/").status_code == 401
