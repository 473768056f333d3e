"""Every change to the directory: administrative units, agencies (with addresses and contacts)
and postal facilities. Administrators only, within their province; records are retired, never
deleted. Each service validates, locks, saves changed fields and audits in one transaction."""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.utils.translation import gettext as _

from kt1.audit import actions as A
from kt1.audit.services import audit_record
from kt1.core.errors import PermissionDenied, ValidationFailed
from kt1.core.permissions import get_in_scope, require, restrict, scope_of
from kt1.core.records import apply_changes, full_clean_or_fail, require_active_reference, retire_record

from .choices import COMMUNE_LEVELS, FacilityKind, UnitLevel
from .models import AdministrativeUnit, Agency, AgencyAddress, AgencyContact, Facility

POSTCODE_RE = re.compile(r"^\d{5}$")


def _require_manage_in_province(actor, province: AdministrativeUnit | None) -> None:
    require(actor, "directory.manage")
    if province is not None and not restrict(AdministrativeUnit.objects.filter(pk=province.pk), actor, "change").exists():
        raise PermissionDenied(_("Bạn chỉ quản lý danh mục trong tỉnh của mình."))


def _province_of(unit: AdministrativeUnit) -> AdministrativeUnit:
    return unit if unit.level == UnitLevel.PROVINCE else unit.parent


def _retire(*, actor, model, obj, on, action):
    obj = get_in_scope(model.objects.select_for_update(), actor, "change", pk=obj.pk)
    require(actor, "directory.manage")
    if not retire_record(obj, on=on):
        raise ValidationFailed(_("“%(name)s” đã ngừng hiệu lực từ trước.") % {"name": obj})
    audit_record(action=action.code, actor=actor, obj=obj, data={"valid_until": obj.valid_until.isoformat()})
    return obj


def _update(*, actor, model, obj, changes, editable, action, validate):
    obj = get_in_scope(model.objects.select_for_update(), actor, "change", pk=obj.pk)
    require(actor, "directory.manage")
    changed = apply_changes(obj, changes, editable)
    if changed:
        validate(obj)
        obj.save(update_fields=changed)
        audit_record(action=action.code, actor=actor, obj=obj, data={"changed": sorted(changed)})
    return obj


# --- administrative units -----------------------------------------------------------------------


def _validate_unit(unit: AdministrativeUnit) -> None:
    full_clean_or_fail(unit, exclude=["parent"])
    if unit.level == UnitLevel.PROVINCE and unit.parent_id:
        raise ValidationFailed(_("Tỉnh không trực thuộc đơn vị nào."), detail={"parent": _("Để trống.")})
    if unit.level in COMMUNE_LEVELS and (unit.parent is None or unit.parent.level != UnitLevel.PROVINCE):
        raise ValidationFailed(_("Xã, phường, đặc khu phải trực thuộc một tỉnh."), detail={"parent": _("Chọn tỉnh.")})
    if AdministrativeUnit.objects.filter(code=unit.code).exclude(pk=unit.pk).exists():
        raise ValidationFailed(_("Mã đơn vị hành chính “%(c)s” đã tồn tại.") % {"c": unit.code}, detail={"code": _("Đã tồn tại.")})


@transaction.atomic
def admin_unit_create(
    *, actor, code: str, name: str, level: str, parent: AdministrativeUnit | None = None, valid_from: dt.date | None = None
) -> AdministrativeUnit:
    """Create a province (national administrators) or a commune-level unit of a province.
    Audit: admin_unit.created."""
    if level == UnitLevel.PROVINCE:
        require(actor, "directory.manage")
        if not any(g.nation for g in scope_of(actor).grants_for("admin")):
            raise PermissionDenied(_("Chỉ quản trị cấp quốc gia được tạo tỉnh."))
    else:
        if parent is not None:
            require_active_reference(parent, "parent", _("Tỉnh"))
        _require_manage_in_province(actor, parent)
    unit = AdministrativeUnit(code=(code or "").strip(), name=(name or "").strip(), level=level, parent=parent)
    if valid_from:
        unit.valid_from = valid_from
    _validate_unit(unit)
    unit.save()
    audit_record(action=A.UNIT_CREATED.code, actor=actor, obj=unit, data={"code": unit.code})
    return unit


@transaction.atomic
def admin_unit_update(*, actor, unit: AdministrativeUnit, **changes) -> AdministrativeUnit:
    """Rename or re-code a unit. Audit: admin_unit.updated."""
    return _update(actor=actor, model=AdministrativeUnit, obj=unit, changes=changes, editable=("code", "name"),
                   action=A.UNIT_UPDATED, validate=_validate_unit)


@transaction.atomic
def admin_unit_retire(*, actor, unit: AdministrativeUnit, on: dt.date | None = None) -> AdministrativeUnit:
    """Retire a unit (merged or dissolved). Audit: admin_unit.retired."""
    return _retire(actor=actor, model=AdministrativeUnit, obj=unit, on=on, action=A.UNIT_RETIRED)


def _refuse_parent_loop(record, message: str) -> None:
    """A new parent must not sit below the record itself: the tree (a facility's subtree is a
    postal scope) would become a loop. The forms offer no such parent; this holds for every writer."""
    if record.pk is None:
        return  # a new record has nothing below it yet
    parents = type(record)._default_manager.values_list("parent_id", flat=True)
    seen = set()
    node = record.parent_id
    while node is not None and node not in seen:  # up the stored tree, one level at a time
        if node == record.pk:
            raise ValidationFailed(message, detail={"parent": _("Không hợp lệ.")})
        seen.add(node)
        node = parents.get(pk=node)


# --- agencies -----------------------------------------------------------------------------------

AGENCY_FIELDS = ("name", "short_name", "agency_type", "level", "admin_unit", "parent", "is_mandatory", "enrolled_on")


def _validate_agency(agency: Agency) -> None:
    require_active_reference(agency.admin_unit, "admin_unit", _("Đơn vị hành chính"))
    agency.province = _province_of(agency.admin_unit)
    if agency.parent_id:
        require_active_reference(agency.parent, "parent", _("Cơ quan cấp trên"))
        if agency.parent_id == agency.pk:
            raise ValidationFailed(_("Cơ quan không thể trực thuộc chính nó."), detail={"parent": _("Không hợp lệ.")})
        _refuse_parent_loop(agency, _("Cơ quan cấp trên không được là một cơ quan trực thuộc nó."))
    full_clean_or_fail(agency, exclude=["admin_unit", "province", "parent"])
    duplicate = Agency.objects.filter(short_name__iexact=agency.short_name, province=agency.province).exclude(pk=agency.pk)
    if duplicate.exists():
        raise ValidationFailed(
            _("Tên viết tắt “%(s)s” đã được dùng cho cơ quan khác trong tỉnh.") % {"s": agency.short_name},
            detail={"short_name": _("Đã tồn tại.")},
        )


@transaction.atomic
def agency_create(*, actor, **fields) -> Agency:
    """Register a served agency. Permission: directory.manage in the agency's province.
    Audit: agency.created."""
    unknown = set(fields) - set(AGENCY_FIELDS) - {"valid_from"}
    if unknown:
        raise ValidationFailed(_("Trường không hợp lệ: %(f)s") % {"f": ", ".join(sorted(unknown))})
    agency = Agency(**{k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()})
    require(actor, "directory.manage")
    _validate_agency(agency)
    _require_manage_in_province(actor, agency.province)
    agency.save()
    audit_record(action=A.AGENCY_CREATED.code, actor=actor, obj=agency, data={"short_name": agency.short_name})
    return agency


@transaction.atomic
def agency_update(*, actor, agency: Agency, **changes) -> Agency:
    """Change an agency's particulars. Moving it to another province is refused (retire it and
    register it there). Audit: agency.updated."""

    def validate(obj):
        old_province = obj.province_id
        _validate_agency(obj)
        if obj.province_id != old_province:
            raise ValidationFailed(_("Không chuyển cơ quan sang tỉnh khác; hãy ngừng hiệu lực và tạo mới."))

    return _update(actor=actor, model=Agency, obj=agency, changes=changes, editable=AGENCY_FIELDS,
                   action=A.AGENCY_UPDATED, validate=validate)


@transaction.atomic
def agency_retire(*, actor, agency: Agency, on: dt.date | None = None) -> Agency:
    """Retire an agency: it can no longer send or receive new items; its history stays.
    Audit: agency.retired."""
    return _retire(actor=actor, model=Agency, obj=agency, on=on, action=A.AGENCY_RETIRED)


@transaction.atomic
def agency_address_add(
    *, actor, agency: Agency, street: str, admin_unit: AdministrativeUnit, label: str = "Trụ sở", is_default: bool = False
) -> AgencyAddress:
    """Add a delivery address; the first one becomes the default. Audit: agency_address.added."""
    agency = get_in_scope(Agency.objects.select_for_update(), actor, "change", pk=agency.pk)
    require(actor, "directory.manage")
    require_active_reference(agency, "agency", _("Cơ quan"))
    require_active_reference(admin_unit, "admin_unit", _("Xã / phường"))
    if _province_of(admin_unit).pk != agency.province_id:
        raise ValidationFailed(_("Địa chỉ phát phải nằm trong tỉnh của cơ quan."), detail={"admin_unit": _("Không hợp lệ.")})
    address = AgencyAddress(agency=agency, street=(street or "").strip(), admin_unit=admin_unit, label=(label or "").strip() or "Trụ sở")
    full_clean_or_fail(address, exclude=["agency", "admin_unit"])
    current = AgencyAddress.objects.active().filter(agency=agency)
    if is_default or not current.exists():
        for old in current.filter(is_default=True):
            old.is_default = False
            old.save(update_fields=["is_default"])
        address.is_default = True
    address.save()
    audit_record(action=A.ADDRESS_ADDED.code, actor=actor, obj=agency, data={"address": address.pk, "street": address.street})
    return address


@transaction.atomic
def agency_address_retire(*, actor, address: AgencyAddress) -> AgencyAddress:
    """Stop using a delivery address. Audit: agency_address.retired."""
    return _retire(actor=actor, model=AgencyAddress, obj=address, on=None, action=A.ADDRESS_RETIRED)


@transaction.atomic
def agency_contact_add(*, actor, agency: Agency, full_name: str, position: str = "", phone: str = "", email: str = "") -> AgencyContact:
    """Add a contact person. Audit: agency_contact.added."""
    agency = get_in_scope(Agency.objects.select_for_update(), actor, "change", pk=agency.pk)
    require(actor, "directory.manage")
    require_active_reference(agency, "agency", _("Cơ quan"))
    contact = AgencyContact(agency=agency, full_name=(full_name or "").strip(), position=(position or "").strip(),
                            phone=(phone or "").strip(), email=(email or "").strip())
    full_clean_or_fail(contact, exclude=["agency"])
    contact.save()
    audit_record(action=A.CONTACT_ADDED.code, actor=actor, obj=agency, data={"contact": contact.pk})
    return contact


@transaction.atomic
def agency_contact_retire(*, actor, contact: AgencyContact) -> AgencyContact:
    """Audit: agency_contact.retired."""
    return _retire(actor=actor, model=AgencyContact, obj=contact, on=None, action=A.CONTACT_RETIRED)


# --- facilities ---------------------------------------------------------------------------------

FACILITY_FIELDS = ("postcode", "name", "kind", "parent", "admin_unit", "address", "phone")


def _validate_facility(facility: Facility) -> None:
    require_active_reference(facility.admin_unit, "admin_unit", _("Đơn vị hành chính"))
    facility.province = _province_of(facility.admin_unit)
    facility.postcode = (facility.postcode or "").strip()
    if not POSTCODE_RE.match(facility.postcode):
        raise ValidationFailed(_("Mã bưu chính gồm đúng 5 chữ số."), detail={"postcode": _("Không hợp lệ.")})
    if Facility.objects.filter(postcode=facility.postcode).exclude(pk=facility.pk).exists():
        raise ValidationFailed(
            _("Mã bưu chính “%(p)s” đã được dùng.") % {"p": facility.postcode}, detail={"postcode": _("Đã tồn tại.")}
        )
    if facility.kind == FacilityKind.PROVINCIAL_POST:
        if facility.parent_id:
            raise ValidationFailed(_("Bưu điện tỉnh không trực thuộc cơ sở nào."), detail={"parent": _("Để trống.")})
    else:
        if facility.parent is None:
            raise ValidationFailed(_("Chọn cơ sở cấp trên."), detail={"parent": _("Bắt buộc.")})
        require_active_reference(facility.parent, "parent", _("Cơ sở cấp trên"))
        if facility.parent.province_id != facility.province_id:
            raise ValidationFailed(_("Cơ sở cấp trên phải cùng tỉnh."), detail={"parent": _("Không hợp lệ.")})
        if facility.parent_id == facility.pk:
            raise ValidationFailed(_("Cơ sở không thể trực thuộc chính nó."), detail={"parent": _("Không hợp lệ.")})
        _refuse_parent_loop(facility, _("Cơ sở cấp trên không được là một cơ sở trực thuộc nó."))
    full_clean_or_fail(facility, exclude=["admin_unit", "province", "parent"])


@transaction.atomic
def facility_create(*, actor, **fields) -> Facility:
    """Register a postal facility. Audit: facility.created."""
    unknown = set(fields) - set(FACILITY_FIELDS) - {"valid_from"}
    if unknown:
        raise ValidationFailed(_("Trường không hợp lệ: %(f)s") % {"f": ", ".join(sorted(unknown))})
    require(actor, "directory.manage")
    facility = Facility(**{k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()})
    _validate_facility(facility)
    _require_manage_in_province(actor, facility.province)
    facility.save()
    audit_record(action=A.FACILITY_CREATED.code, actor=actor, obj=facility, data={"postcode": facility.postcode})
    return facility


@transaction.atomic
def facility_update(*, actor, facility: Facility, **changes) -> Facility:
    """Audit: facility.updated."""

    def validate(obj):
        old_province = obj.province_id
        _validate_facility(obj)
        if obj.province_id != old_province:
            raise ValidationFailed(_("Không chuyển cơ sở sang tỉnh khác."))

    return _update(actor=actor, model=Facility, obj=facility, changes=changes, editable=FACILITY_FIELDS,
                   action=A.FACILITY_UPDATED, validate=validate)


@transaction.atomic
def facility_retire(*, actor, facility: Facility, on: dt.date | None = None) -> Facility:
    """Audit: facility.retired."""
    return _retire(actor=actor, model=Facility, obj=facility, on=on, action=A.FACILITY_RETIRED)
