"""Agency pages: create, edit, retire, delivery addresses and contacts."""

from __future__ import annotations

import pytest

from kt1.audit.models import AuditEntry
from kt1.core.clock import local_today
from kt1.core.errors import ValidationFailed
from kt1.directory import services
from kt1.directory.choices import AgencyLevel, AgencyType
from kt1.directory.models import Agency, AgencyAddress, AgencyContact
from tests import factories as f

pytestmark = pytest.mark.django_db

NEW = "/directory/agencies/new/"


def detail(agency) -> str:
    return f"/directory/agencies/{agency.pk}/"


def form_data(unit, **overrides) -> dict:
    data = {
        "name": "Sở Nội vụ", "short_name": "SNV", "agency_type": AgencyType.STATE, "level": AgencyLevel.PROVINCE,
        "admin_unit": unit.pk, "parent": "", "is_mandatory": "on", "enrolled_on": "",
    }
    data.update(overrides)
    return data


def audits(action: str, obj=None) -> int:
    qs = AuditEntry.objects.filter(action=action)
    if obj is not None:
        qs = qs.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return qs.count()


# --- create -----------------------------------------------------------------------------------


def test_admin_creates_agency(world, signed_in):
    a = world["A"]
    admin = a.people["admin"]
    client = signed_in(admin)
    assert client.get(NEW).status_code == 200

    response = client.post(NEW, form_data(a.commune, parent=a.agency.pk, enrolled_on="2025-03-01"))
    agency = Agency.objects.get(short_name="SNV")
    assert response.status_code == 302 and response["Location"] == detail(agency)
    assert agency.province == a.province and agency.admin_unit == a.commune and agency.parent == a.agency
    assert agency.is_mandatory and agency.enrolled_on.isoformat() == "2025-03-01"
    entry = AuditEntry.objects.get(action="agency.created", object_id=str(agency.pk))
    assert entry.actor == admin
    page = client.get(response["Location"]).content.decode()
    assert "Đã tạo cơ quan “Sở Nội vụ”." in page


def test_duplicate_short_name_is_refused_in_vietnamese_and_nothing_saved(world, signed_in):
    a = world["A"]
    client = signed_in(a.people["admin"])
    before, audited = Agency.objects.count(), audits("agency.created")

    response = client.post(NEW, form_data(a.province, short_name=a.agency.short_name.lower()))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Tên viết tắt “{a.agency.short_name.lower()}” đã được dùng cho cơ quan khác trong tỉnh." in page
    assert response.context["form"].errors["short_name"] == ["Đã tồn tại."]
    assert 'role="alert"' in page
    assert Agency.objects.count() == before and audits("agency.created") == audited


def test_same_short_name_allowed_in_another_province(world, signed_in):
    a, b = world["A"], world["B"]
    response = signed_in(a.people["admin"]).post(NEW, form_data(a.province, short_name=b.agency.short_name))
    assert response.status_code == 302


def test_retired_admin_unit_is_not_offered_and_refused_by_name(world, signed_in):
    a = world["A"]
    services.admin_unit_retire(actor=f.root_admin(), unit=a.commune)
    client = signed_in(a.people["admin"])
    before = Agency.objects.count()

    form = client.get(NEW).context["form"]
    assert a.commune not in form.fields["admin_unit"].queryset

    response = client.post(NEW, form_data(a.commune))
    assert response.status_code == 200
    message = f"Đơn vị hành chính “{a.commune.name}” đã ngừng hiệu lực, không chọn được."
    assert response.context["form"].errors["admin_unit"] == [message]
    assert message in response.content.decode()
    assert Agency.objects.count() == before


def test_unknown_or_out_of_scope_unit_gets_django_vietnamese_message_without_naming_it(world, signed_in):
    a, b = world["A"], world["B"]
    client = signed_in(a.people["admin"])
    before = Agency.objects.count()
    for unit_id in (b.commune.pk, 999999, "abc"):
        response = client.post(NEW, form_data(a.province, admin_unit=unit_id))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Hãy chọn một lựa chọn hợp lệ." in page
        assert b.commune.name not in page  # another province's unit is not confirmed to exist
    assert Agency.objects.count() == before


def test_required_fields_answer_in_vietnamese(world, signed_in):
    response = signed_in(world["A"].people["admin"]).post(NEW, {})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["Trường này là bắt buộc."]


def test_service_refuses_a_retired_reference_by_name(world):
    a = world["A"]
    services.agency_retire(actor=f.root_admin(), agency=a.other_agency)
    with pytest.raises(ValidationFailed) as exc:
        services.agency_create(actor=a.people["admin"], name="X", short_name="X", agency_type=AgencyType.STATE,
                               level=AgencyLevel.PROVINCE, admin_unit=a.province, parent=a.other_agency)
    assert a.other_agency.name in str(exc.value.message)
    assert "đã ngừng hiệu lực" in str(exc.value.message)


# --- edit -------------------------------------------------------------------------------------


def test_edit_prefills_and_saves_only_changed_fields(world, signed_in):
    a = world["A"]
    client = signed_in(a.people["admin"])
    url = detail(a.agency) + "edit/"

    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'value="{a.agency.name}"' in page and f'value="{a.agency.short_name}"' in page

    data = form_data(a.agency.admin_unit, name="Tên mới", short_name=a.agency.short_name,
                     agency_type=a.agency.agency_type, level=a.agency.level)
    response = client.post(url, data)
    assert response.status_code == 302
    a.agency.refresh_from_db()
    assert a.agency.name == "Tên mới"
    entry = AuditEntry.objects.filter(action="agency.updated", object_id=str(a.agency.pk)).get()
    assert entry.data["changed"] == ["name"]

    # Posting the same values again changes nothing and writes no audit entry.
    response = client.post(url, data, follow=True)
    assert "Không có thay đổi nào." in response.content.decode()
    assert audits("agency.updated", a.agency) == 1


def test_edit_to_duplicate_short_name_is_refused(world, signed_in):
    a = world["A"]
    client = signed_in(a.people["admin"])
    data = form_data(a.agency.admin_unit, name=a.agency.name, short_name=a.other_agency.short_name)
    response = client.post(detail(a.agency) + "edit/", data)
    assert response.status_code == 200
    assert "đã được dùng cho cơ quan khác trong tỉnh" in response.content.decode()
    a.agency.refresh_from_db()
    assert a.agency.short_name != a.other_agency.short_name
    assert audits("agency.updated", a.agency) == 0


def test_agency_cannot_be_its_own_parent_or_below_itself(world, signed_in):
    a = world["A"]
    services.agency_update(actor=f.root_admin(), agency=a.other_agency, parent=a.agency)
    form = signed_in(a.people["admin"]).get(detail(a.agency) + "edit/").context["form"]
    offered = set(form.fields["parent"].queryset.values_list("pk", flat=True))
    assert a.agency.pk not in offered and a.other_agency.pk not in offered
    # The service refuses it too, however it is called, even two levels down; nothing changes.
    third = f.agency(a.commune, level="commune")
    services.agency_update(actor=f.root_admin(), agency=third, parent=a.other_agency)
    for below in (a.other_agency, third):
        with pytest.raises(ValidationFailed) as refused:
            services.agency_update(actor=f.root_admin(), agency=a.agency, parent=below)
        assert "trực thuộc nó" in refused.value.message and "parent" in refused.value.detail
    a.agency.refresh_from_db()
    assert a.agency.parent_id is None


# --- retire -----------------------------------------------------------------------------------


def test_retire_keeps_history_and_blocks_new_work(world, signed_in):
    a = world["A"]
    admin = a.people["admin"]
    client = signed_in(admin)
    page = client.get(detail(a.agency)).content.decode()
    assert f'action="{detail(a.agency)}retire/"' in page and "data-confirm=" in page

    assert client.get(detail(a.agency) + "retire/").status_code == 405
    response = client.post(detail(a.agency) + "retire/")
    assert response.status_code == 302
    a.agency.refresh_from_db()
    assert a.agency.valid_until == local_today()
    assert AuditEntry.objects.get(action="agency.retired", object_id=str(a.agency.pk)).actor == admin

    # Still reachable, marked retired, and its addresses remain on record.
    page = client.get(detail(a.agency)).content.decode()
    assert 'data-testid="retired"' in page
    assert AgencyAddress.objects.get(agency=a.agency).street in page
    assert f'action="{detail(a.agency)}retire/"' not in page
    # No longer offered as a parent for new agencies.
    assert a.agency not in client.get(NEW).context["form"].fields["parent"].queryset

    # Retiring again says so instead of failing silently.
    response = client.post(detail(a.agency) + "retire/", follow=True)
    assert "đã ngừng hiệu lực từ trước" in response.content.decode()
    assert audits("agency.retired", a.agency) == 1


# --- addresses and contacts -------------------------------------------------------------------


def test_address_add_and_retire(world, signed_in):
    a = world["A"]
    client = signed_in(a.people["admin"])
    url = detail(a.agency) + "addresses/new/"
    assert client.get(url).status_code == 200

    response = client.post(url, {"label": "Kho lưu trữ", "street": "12 Lê Lợi", "admin_unit": a.commune.pk, "is_default": "on"})
    assert response.status_code == 302
    address = AgencyAddress.objects.get(agency=a.agency, street="12 Lê Lợi")
    assert address.is_default
    assert AgencyAddress.objects.active().filter(agency=a.agency, is_default=True).count() == 1
    assert audits("agency_address.added", a.agency) == 2  # the factory's address, then this one
    assert "12 Lê Lợi" in client.get(detail(a.agency)).content.decode()

    response = client.post(detail(a.agency) + f"addresses/{address.pk}/retire/")
    assert response.status_code == 302
    address.refresh_from_db()
    assert not address.is_active
    assert audits("agency_address.retired", address) == 1
    assert "12 Lê Lợi" in client.get(detail(a.agency)).content.decode()  # history stays visible


def test_address_in_another_province_unit_is_refused(world, signed_in):
    a, b = world["A"], world["B"]
    before = AgencyAddress.objects.count()
    response = signed_in(f.root_admin()).post(
        detail(a.agency) + "addresses/new/", {"label": "X", "street": "1 Đường", "admin_unit": b.commune.pk}
    )
    assert response.status_code == 200
    assert "Hãy chọn một lựa chọn hợp lệ." in response.content.decode()
    assert AgencyAddress.objects.count() == before


def test_address_retire_through_another_agency_url_is_404(world, signed_in):
    a = world["A"]
    address = AgencyAddress.objects.get(agency=a.agency)
    response = signed_in(a.people["admin"]).post(detail(a.other_agency) + f"addresses/{address.pk}/retire/")
    assert response.status_code == 404
    address.refresh_from_db()
    assert address.is_active


def test_contact_add_validate_and_retire(world, signed_in):
    a = world["A"]
    client = signed_in(a.people["admin"])
    url = detail(a.agency) + "contacts/new/"

    response = client.post(url, {"full_name": "Nguyễn Văn A", "email": "not-an-email"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Nhập một địa chỉ email hợp lệ."]
    assert not AgencyContact.objects.filter(agency=a.agency).exists()

    response = client.post(url, {"full_name": "Nguyễn Văn A", "position": "Văn thư", "phone": "0901234567",
                                 "email": "a@example.vn"})
    assert response.status_code == 302
    contact = AgencyContact.objects.get(agency=a.agency)
    assert audits("agency_contact.added", a.agency) == 1
    assert "0901234567" in client.get(detail(a.agency)).content.decode()

    assert client.post(detail(a.agency) + f"contacts/{contact.pk}/retire/").status_code == 302
    contact.refresh_from_db()
    assert not contact.is_active
    assert audits("agency_contact.retired", contact) == 1


def test_contacts_are_hidden_from_clerks_of_other_agencies(world, signed_in):
    a = world["A"]
    services.agency_contact_add(actor=f.root_admin(), agency=a.other_agency, full_name="Trần Thị B", phone="0912000111")
    own = f.person("agency_clerk", agency=a.other_agency)
    assert "0912000111" in signed_in(own).get(detail(a.other_agency)).content.decode()
    assert "0912000111" not in signed_in(a.people["agency_clerk"]).get(detail(a.other_agency)).content.decode()


def test_no_address_or_contact_added_to_a_retired_agency(world, signed_in):
    a = world["A"]
    services.agency_retire(actor=f.root_admin(), agency=a.agency)
    client = signed_in(a.people["admin"])
    page = client.get(detail(a.agency)).content.decode()
    assert "addresses/new/" not in page and "contacts/new/" not in page
    response = client.post(detail(a.agency) + "contacts/new/", {"full_name": "Lê C"})
    assert response.status_code == 200
    assert f"Cơ quan “{a.agency.name}” đã ngừng hiệu lực, không chọn được." in response.content.decode()
    assert not AgencyContact.objects.filter(agency=a.agency).exists()


def test_service_refuses_an_unsaved_reference_by_name(world):
    from kt1.directory.models import AdministrativeUnit

    ghost = AdministrativeUnit(code="X1", name="Xã không có thật", level="commune")
    with pytest.raises(ValidationFailed) as exc:
        services.agency_create(actor=world["A"].people["admin"], name="X", short_name="X", agency_type=AgencyType.STATE,
                               level=AgencyLevel.PROVINCE, admin_unit=ghost)
    assert "Xã không có thật" in str(exc.value.message)


def test_messages_follow_the_chosen_language(world, signed_in):
    client = signed_in(world["A"].people["admin"])
    client.cookies["django_language"] = "en"
    response = client.post(NEW, {})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["This field is required."]


def test_edit_keeps_a_since_retired_parent_visible_and_asks_to_replace_it(world, signed_in):
    a = world["A"]
    services.agency_update(actor=f.root_admin(), agency=a.other_agency, parent=a.agency)
    services.agency_retire(actor=f.root_admin(), agency=a.agency)
    client = signed_in(a.people["admin"])
    url = detail(a.other_agency) + "edit/"

    page = client.get(url).content.decode()
    assert f'<option value="{a.agency.pk}" selected>{a.agency.name} ({a.agency.short_name}) — đã ngừng hiệu lực</option>' in page

    data = form_data(a.other_agency.admin_unit, name="Tên mới", short_name=a.other_agency.short_name,
                     level=a.other_agency.level, parent=a.agency.pk)
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors["parent"] == [
        f"Cơ quan cấp trên “{a.agency.name}” đã ngừng hiệu lực, không chọn được."]
    a.other_agency.refresh_from_db()
    assert a.other_agency.name != "Tên mới" and a.other_agency.parent_id == a.agency.pk

    assert client.post(url, {**data, "parent": ""}).status_code == 302
    a.other_agency.refresh_from_db()
    assert a.other_agency.name == "Tên mới" and a.other_agency.parent is None
    assert AuditEntry.objects.filter(action="agency.updated", object_id=str(a.other_agency.pk)).last().data["changed"] == [
        "name", "parent"]
