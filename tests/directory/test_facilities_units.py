"""Facility and administrative-unit pages: create, edit, retire, refusals."""

from __future__ import annotations

import pytest

from kt1.audit.models import AuditEntry
from kt1.core.clock import local_today
from kt1.core.errors import ValidationFailed
from kt1.directory import services
from kt1.directory.choices import FacilityKind, UnitLevel
from kt1.directory.models import AdministrativeUnit, Facility
from tests import factories as f

pytestmark = pytest.mark.django_db

NEW_FACILITY = "/directory/facilities/new/"
NEW_UNIT = "/directory/units/new/"


def facility_data(world_side, **overrides) -> dict:
    data = {
        "postcode": "31999", "name": "Bưu cục Trung tâm", "kind": FacilityKind.POST_OFFICE,
        "parent": world_side.provincial_post.pk, "admin_unit": world_side.commune.pk, "address": "1 Trần Phú",
        "phone": "0203 3822 222",
    }
    data.update(overrides)
    return data


def entries(action: str, obj) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)))


# --- facilities -------------------------------------------------------------------------------


def test_admin_creates_edits_and_retires_a_facility(world, signed_in):
    a = world["A"]
    admin = a.people["admin"]
    client = signed_in(admin)
    assert client.get(NEW_FACILITY).status_code == 200

    response = client.post(NEW_FACILITY, facility_data(a))
    facility = Facility.objects.get(postcode="31999")
    assert response.status_code == 302 and response["Location"] == f"/directory/facilities/{facility.pk}/"
    assert facility.province == a.province and facility.parent == a.provincial_post
    assert [e.actor for e in entries("facility.created", facility)] == [admin]

    edit = f"/directory/facilities/{facility.pk}/edit/"
    assert 'value="31999"' in client.get(edit).content.decode()
    response = client.post(edit, facility_data(a, phone="0203 1111 111"))
    assert response.status_code == 302
    facility.refresh_from_db()
    assert facility.phone == "0203 1111 111"
    assert [e.data["changed"] for e in entries("facility.updated", facility)] == [["phone"]]

    response = client.post(f"/directory/facilities/{facility.pk}/retire/")
    assert response.status_code == 302
    facility.refresh_from_db()
    assert facility.valid_until == local_today()
    assert len(entries("facility.retired", facility)) == 1
    page = client.get(f"/directory/facilities/{facility.pk}/").content.decode()
    assert 'data-testid="retired"' in page and "/retire/" not in page


def test_duplicate_postcode_is_refused_in_vietnamese_and_nothing_saved(world, signed_in):
    a, b = world["A"], world["B"]
    client = signed_in(a.people["admin"])
    before, audited = Facility.objects.count(), AuditEntry.objects.filter(action="facility.created").count()

    # Postcodes are unique across the nation, even against another province's facility.
    response = client.post(NEW_FACILITY, facility_data(a, postcode=b.post_office.postcode))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Mã bưu chính “{b.post_office.postcode}” đã được dùng." in page
    assert response.context["form"].errors["postcode"] == ["Đã tồn tại."]
    assert Facility.objects.count() == before
    assert AuditEntry.objects.filter(action="facility.created").count() == audited


def test_duplicate_postcode_on_edit_is_refused(world, signed_in):
    a = world["A"]
    client = signed_in(a.people["admin"])
    office = a.post_office
    response = client.post(f"/directory/facilities/{office.pk}/edit/", facility_data(
        a, postcode=a.processing.postcode, name=office.name, kind=office.kind, admin_unit=office.admin_unit_id))
    assert response.status_code == 200
    assert "đã được dùng" in response.content.decode()
    office.refresh_from_db()
    assert office.postcode != a.processing.postcode
    assert entries("facility.updated", office) == []


def test_malformed_postcode_is_refused(world, signed_in):
    response = signed_in(world["A"].people["admin"]).post(NEW_FACILITY, facility_data(world["A"], postcode="12a45"))
    assert response.status_code == 200
    assert "Mã bưu chính gồm đúng 5 chữ số." in response.content.decode()
    assert not Facility.objects.filter(postcode="12a45").exists()


def test_retired_parent_facility_is_not_offered_and_refused_by_name(world, signed_in):
    a = world["A"]
    services.facility_retire(actor=f.root_admin(), facility=a.processing)
    client = signed_in(a.people["admin"])
    assert a.processing not in client.get(NEW_FACILITY).context["form"].fields["parent"].queryset

    response = client.post(NEW_FACILITY, facility_data(a, parent=a.processing.pk))
    assert response.status_code == 200
    assert f"Trực thuộc “{a.processing}” đã ngừng hiệu lực, không chọn được." in response.content.decode()
    assert not Facility.objects.filter(postcode="31999").exists()


def test_facility_under_no_parent_must_be_a_provincial_post(world, signed_in):
    response = signed_in(world["A"].people["admin"]).post(NEW_FACILITY, facility_data(world["A"], parent=""))
    assert response.status_code == 200
    assert "Chọn cơ sở cấp trên." in response.content.decode()


def test_a_facility_cannot_move_below_its_own_subtree(world):
    a = world["A"]
    counter = f.facility(a.commune, parent=a.post_office)  # provincial post > office > counter
    sub = f.facility(a.province, parent=a.processing)  # provincial post > processing > sub > subsub
    subsub = f.facility(a.province, parent=sub)
    for below in (sub, subsub):
        with pytest.raises(ValidationFailed) as refused:
            services.facility_update(actor=f.root_admin(), facility=a.processing, parent=below)
        assert "parent" in refused.value.detail
    with pytest.raises(ValidationFailed) as refused:
        services.facility_update(actor=f.root_admin(), facility=a.post_office, parent=counter)
    assert "trực thuộc nó" in refused.value.message
    a.post_office.refresh_from_db()
    assert a.post_office.parent == a.provincial_post


# --- administrative units ---------------------------------------------------------------------


def test_provincial_admin_creates_edits_and_retires_a_commune(world, signed_in):
    a = world["A"]
    admin = a.people["admin"]
    client = signed_in(admin)
    form = client.get(NEW_UNIT).context["form"]
    assert UnitLevel.PROVINCE not in dict(form.fields["level"].choices)
    assert list(form.fields["parent"].queryset) == [a.province]

    response = client.post(NEW_UNIT, {"code": "26734", "name": "Phường Hà Giang 1", "level": UnitLevel.WARD,
                                      "parent": a.province.pk})
    unit = AdministrativeUnit.objects.get(code="26734")
    assert response.status_code == 302 and response["Location"] == f"/directory/units/{unit.pk}/"
    assert unit.parent == a.province
    assert [e.actor for e in entries("admin_unit.created", unit)] == [admin]

    edit = f"/directory/units/{unit.pk}/edit/"
    assert 'value="Phường Hà Giang 1"' in client.get(edit).content.decode()
    assert client.post(edit, {"code": "26734", "name": "Phường Hà Giang Một"}).status_code == 302
    unit.refresh_from_db()
    assert unit.name == "Phường Hà Giang Một"
    assert [e.data["changed"] for e in entries("admin_unit.updated", unit)] == [["name"]]

    assert client.post(f"/directory/units/{unit.pk}/retire/").status_code == 302
    unit.refresh_from_db()
    assert not unit.is_active
    assert len(entries("admin_unit.retired", unit)) == 1
    assert 'data-testid="retired"' in client.get(f"/directory/units/{unit.pk}/").content.decode()


def test_provincial_admin_cannot_create_a_province(world, signed_in):
    before = AdministrativeUnit.objects.count()
    response = signed_in(world["A"].people["admin"]).post(
        NEW_UNIT, {"code": "99", "name": "Tỉnh mới", "level": UnitLevel.PROVINCE})
    assert response.status_code == 200
    assert "Hãy chọn một lựa chọn hợp lệ." in response.content.decode()
    assert AdministrativeUnit.objects.count() == before


def test_national_admin_creates_a_province(db, signed_in):
    client = signed_in(f.root_admin())
    response = client.post(NEW_UNIT, {"code": "91", "name": "Tỉnh Mới", "level": UnitLevel.PROVINCE, "parent": ""})
    assert response.status_code == 302
    assert AdministrativeUnit.objects.get(code="91").level == UnitLevel.PROVINCE


def test_duplicate_unit_code_is_refused(world, signed_in):
    a = world["A"]
    response = signed_in(a.people["admin"]).post(
        NEW_UNIT, {"code": a.commune.code, "name": "Trùng mã", "level": UnitLevel.COMMUNE, "parent": a.province.pk})
    assert response.status_code == 200
    assert f"Mã đơn vị hành chính “{a.commune.code}” đã tồn tại." in response.content.decode()
    assert not AdministrativeUnit.objects.filter(name="Trùng mã").exists()


def test_commune_needs_a_province(world, signed_in):
    response = signed_in(world["A"].people["admin"]).post(
        NEW_UNIT, {"code": "X9", "name": "Xã lạc", "level": UnitLevel.COMMUNE, "parent": ""})
    assert response.status_code == 200
    assert "Xã, phường, đặc khu phải trực thuộc một tỉnh." in response.content.decode()
    assert not AdministrativeUnit.objects.filter(code="X9").exists()


def test_unit_detail_links_to_its_agencies_and_communes(world, signed_in):
    a = world["A"]
    page = signed_in(a.people["police"]).get(f"/directory/units/{a.province.pk}/").content.decode()
    assert f"/directory/agencies/?admin_unit={a.province.pk}" in page
    assert f"/directory/units/?province={a.province.pk}" in page
    assert f"/directory/units/{a.province.pk}/edit/" not in page
