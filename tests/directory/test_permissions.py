"""Who may open and change which directory pages: 404 outside the view scope, 403 for an object
the person can see but may not change."""

from __future__ import annotations

import pytest

from kt1.accounts import services as people
from kt1.accounts.choices import Role
from kt1.audit.models import AuditEntry
from kt1.directory.models import Agency
from tests import factories as f

pytestmark = pytest.mark.django_db


def agency_url(agency, suffix: str = "") -> str:
    return f"/directory/agencies/{agency.pk}/{suffix}"


def test_provincial_admin_gets_404_on_another_province(world, signed_in):
    a, b = world["A"], world["B"]
    client = signed_in(a.people["admin"])
    before = AuditEntry.objects.count()
    assert client.get(agency_url(b.agency)).status_code == 404
    assert client.get(agency_url(b.agency, "edit/")).status_code == 404
    assert client.post(agency_url(b.agency, "edit/"), {"name": "X"}).status_code == 404
    assert client.post(agency_url(b.agency, "retire/")).status_code == 404
    assert client.get(f"/directory/facilities/{b.post_office.pk}/edit/").status_code == 404
    assert client.post(f"/directory/units/{b.commune.pk}/retire/").status_code == 404
    assert AuditEntry.objects.count() == before
    b.agency.refresh_from_db()
    assert b.agency.is_active


def test_404_page_does_not_name_the_hidden_agency(world, signed_in):
    a, b = world["A"], world["B"]
    response = signed_in(a.people["agency_clerk"]).get(agency_url(b.agency))
    assert response.status_code == 404
    assert b.agency.name not in response.content.decode()


def test_supervisor_sees_agency_but_gets_403_on_changes(world, signed_in):
    a = world["A"]
    client = signed_in(a.people["supervisor"])
    page = client.get(agency_url(a.agency))
    assert page.status_code == 200
    assert agency_url(a.agency, "edit/") not in page.content.decode()
    assert "data-confirm" not in page.content.decode()

    before = AuditEntry.objects.count()
    response = client.get(agency_url(a.agency, "edit/"))
    assert response.status_code == 403
    assert "Không có quyền" in response.content.decode()
    assert client.post(agency_url(a.agency, "retire/")).status_code == 403
    assert client.get("/directory/agencies/new/").status_code == 403
    assert client.post("/directory/agencies/new/", {"name": "X"}).status_code == 403
    assert client.get(agency_url(a.agency, "addresses/new/")).status_code == 403
    assert client.get(f"/directory/facilities/{a.post_office.pk}/edit/").status_code == 403
    assert client.get(f"/directory/units/{a.commune.pk}/edit/").status_code == 403
    assert AuditEntry.objects.count() == before
    a.agency.refresh_from_db()
    assert a.agency.is_active


def test_manager_who_only_sees_another_province_gets_403_there(world, signed_in):
    """Administrator of A who also holds a reading role in B: B's agency is visible, not changeable."""
    a, b = world["A"], world["B"]
    admin = a.people["admin"]
    people.role_grant(actor=f.root_admin(), user=admin, role=Role.OVERSIGHT, province=b.province)
    client = signed_in(admin)
    page = client.get(agency_url(b.agency))
    assert page.status_code == 200
    assert agency_url(b.agency, "edit/") not in page.content.decode()
    assert client.get(agency_url(b.agency, "edit/")).status_code == 403
    assert client.post(agency_url(b.agency, "retire/")).status_code == 403
    # Province B's units are not offered to create an agency there either.
    form = client.get("/directory/agencies/new/").context["form"]
    assert b.commune not in form.fields["admin_unit"].queryset
    assert client.get(agency_url(a.agency, "edit/")).status_code == 200


def test_clerk_reads_own_province_only(world, signed_in):
    a, b = world["A"], world["B"]
    client = signed_in(a.people["agency_clerk"])
    assert client.get(agency_url(a.other_agency)).status_code == 200
    assert client.get(agency_url(b.agency)).status_code == 404
    assert client.get(f"/directory/facilities/{b.post_office.pk}/").status_code == 404
    assert client.get(f"/directory/units/{b.commune.pk}/").status_code == 404


def test_national_admin_changes_any_province(world, signed_in):
    b = world["B"]
    client = signed_in(f.root_admin())
    assert client.get(agency_url(b.agency, "edit/")).status_code == 200
    assert client.post(agency_url(b.agency, "retire/")).status_code == 302
    assert not Agency.objects.get(pk=b.agency.pk).is_active


def test_retire_needs_post(world, signed_in):
    client = signed_in(world["A"].people["admin"])
    assert client.get(agency_url(world["A"].agency, "retire/")).status_code == 405
