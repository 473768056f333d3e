"""Directory list pages: search, filters, counts, pagination, scope."""

from __future__ import annotations

import datetime as dt

import pytest

from kt1.core.clock import local_today
from kt1.directory import services
from kt1.directory.choices import AgencyLevel, AgencyType, FacilityKind, UnitLevel
from tests import factories as f

pytestmark = pytest.mark.django_db

AGENCIES = "/directory/agencies/"
FACILITIES = "/directory/facilities/"
UNITS = "/directory/units/"


def names(response) -> set[str]:
    return {obj.name for obj in response.context["page"].object_list}


def test_agency_list_shows_count_and_searches_name_and_short_name(world, signed_in):
    a = world["A"]
    f.agency(a.province, name="Văn phòng Tỉnh ủy", short_name="VPTU")
    client = signed_in(a.people["admin"])

    response = client.get(AGENCIES)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3
    assert "3 cơ quan" in response.content.decode()

    assert names(client.get(AGENCIES, {"q": "tỉnh ủy"})) == {"Văn phòng Tỉnh ủy"}
    assert names(client.get(AGENCIES, {"q": "vptu"})) == {"Văn phòng Tỉnh ủy"}
    response = client.get(AGENCIES, {"q": "không có cơ quan này"})
    assert "0 cơ quan" in response.content.decode()
    assert "Không có cơ quan nào khớp với bộ lọc." in response.content.decode()


def test_agency_list_coverage_link_mandatory_not_enrolled(world, signed_in):
    a = world["A"]  # the world's two agencies are mandatory and not enrolled
    f.agency(a.province, name="Đã tham gia", mandatory=True, enrolled_on=local_today() - dt.timedelta(days=30))
    f.agency(a.province, name="Không bắt buộc", mandatory=False)
    client = signed_in(a.people["oversight"])

    response = client.get(AGENCIES + "?mandatory=yes&enrolled=no")
    assert names(response) == {a.agency.name, a.other_agency.name}
    assert names(client.get(AGENCIES, {"mandatory": "yes", "enrolled": "yes"})) == {"Đã tham gia"}
    assert names(client.get(AGENCIES, {"mandatory": "no"})) == {"Không bắt buộc"}
    assert len(names(client.get(AGENCIES, {"mandatory": "", "enrolled": ""}))) == 4
    # The filter form keeps the choice made.
    assert response.context["form"]["mandatory"].value() == "yes"


def test_agency_list_filters_type_level_unit_and_status(world, signed_in):
    a = world["A"]
    party = f.agency(a.commune, name="Đảng ủy xã", agency_type=AgencyType.PARTY, level=AgencyLevel.COMMUNE)
    gone = f.agency(a.province, name="Sở đã sáp nhập")
    services.agency_retire(actor=f.root_admin(), agency=gone)
    client = signed_in(a.people["admin"])

    assert names(client.get(AGENCIES, {"agency_type": AgencyType.PARTY})) == {party.name}
    assert names(client.get(AGENCIES, {"level": AgencyLevel.COMMUNE})) == {party.name, a.other_agency.name}
    assert names(client.get(AGENCIES, {"admin_unit": a.commune.pk})) == {party.name, a.other_agency.name}
    # Retired agencies are hidden by default, listed on request, and marked.
    assert gone.name not in names(client.get(AGENCIES))
    response = client.get(AGENCIES, {"status": "retired"})
    assert names(response) == {gone.name}
    assert 'data-testid="retired"' in response.content.decode()
    assert {gone.name, a.agency.name} <= names(client.get(AGENCIES, {"status": "all"}))


def test_agency_list_ignores_malformed_filters(world, signed_in):
    a = world["A"]
    client = signed_in(a.people["admin"])
    response = client.get(AGENCIES, {"agency_type": "bogus", "admin_unit": "x", "mandatory": "maybe", "status": "??", "page": "z"})
    assert response.status_code == 200
    assert names(response) == {a.agency.name, a.other_agency.name}


def test_agency_list_paginates_25_and_keeps_filters(world, signed_in):
    a = world["A"]
    for i in range(26):
        f.agency(a.province, name=f"Ban số {i:02d}", with_address=False)
    client = signed_in(a.people["admin"])

    page1 = client.get(AGENCIES, {"q": "Ban số"})
    assert len(page1.context["page"].object_list) == 25
    assert "26 cơ quan" in page1.content.decode()
    assert "?q=Ban+s%E1%BB%91&amp;page=2" in page1.content.decode()
    page2 = client.get(AGENCIES, {"q": "Ban số", "page": 2})
    assert names(page2) == {"Ban số 25"}
    assert not names(page1) & names(page2)
    assert 'rel="prev"' in page2.content.decode()


def test_clerk_sees_only_agencies_of_own_province(world, signed_in):
    a, b = world["A"], world["B"]
    response = signed_in(a.people["agency_clerk"]).get(AGENCIES, {"status": "all"})
    assert names(response) == {a.agency.name, a.other_agency.name}
    assert b.agency.name not in response.content.decode()
    # No create button for someone who cannot manage the directory.
    assert "/directory/agencies/new/" not in response.content.decode()


def test_national_admin_sees_every_province(world, signed_in):
    a, b = world["A"], world["B"]
    response = signed_in(f.root_admin()).get(AGENCIES)
    assert {a.agency.name, b.agency.name} <= names(response)
    assert "/directory/agencies/new/" in response.content.decode()


def test_facility_list_search_kind_status(world, signed_in):
    a, b = world["A"], world["B"]
    client = signed_in(a.people["counter_clerk"])

    response = client.get(FACILITIES)
    assert names(response) == {a.provincial_post.name, a.processing.name, a.post_office.name}
    assert "3 cơ sở bưu chính" in response.content.decode()
    assert names(client.get(FACILITIES, {"q": a.post_office.postcode})) == {a.post_office.name}
    assert names(client.get(FACILITIES, {"kind": FacilityKind.PROCESSING})) == {a.processing.name}
    assert names(client.get(FACILITIES, {"parent": a.provincial_post.pk})) == {a.processing.name, a.post_office.name}
    assert b.post_office.name not in client.get(FACILITIES, {"status": "all"}).content.decode()

    services.facility_retire(actor=f.root_admin(), facility=a.processing)
    assert a.processing.name not in names(client.get(FACILITIES))
    assert names(client.get(FACILITIES, {"status": "retired"})) == {a.processing.name}


def test_unit_list_search_level_status_province(world, signed_in):
    a, b = world["A"], world["B"]
    ward = f.commune(a.province, name="Phường Minh Xuân", level=UnitLevel.WARD)
    client = signed_in(a.people["admin"])

    assert names(client.get(UNITS)) == {a.province.name, a.commune.name, ward.name}
    assert names(client.get(UNITS, {"q": "minh xuân"})) == {ward.name}
    assert names(client.get(UNITS, {"q": ward.code})) == {ward.name}
    assert names(client.get(UNITS, {"level": UnitLevel.WARD})) == {ward.name}
    assert b.province.name not in client.get(UNITS, {"status": "all"}).content.decode()

    services.admin_unit_retire(actor=f.root_admin(), unit=ward)
    assert ward.name not in names(client.get(UNITS))
    assert names(client.get(UNITS, {"status": "retired"})) == {ward.name}

    national = signed_in(f.root_admin())
    response = national.get(UNITS, {"province": b.province.pk})
    assert names(response) == {b.province.name, b.commune.name}
    assert f"Đơn vị hành chính: {b.province.name}" in response.content.decode()


@pytest.mark.parametrize("role", ["admin", "agency_clerk", "counter_clerk", "postman", "operator", "driver", "escort",
                                  "supervisor", "oversight", "police", "finance"])
def test_every_role_opens_the_lists(world, signed_in, role):
    client = signed_in(world["A"].people[role])
    for url in (AGENCIES, FACILITIES, UNITS):
        assert client.get(url).status_code == 200


def test_lists_need_sign_in(client, db):
    response = client.get(AGENCIES)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
