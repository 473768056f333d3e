"""Builders for test data. They go through the services (so every row is audited and valid),
never raw ORM writes, except where a test needs a state no service can produce (noted there).

Use `world()` for a ready-made two-province world with one person per role in province A and a
few in province B, for permission tests."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import factory

from kt1.accounts import services as people
from kt1.accounts.choices import Role
from kt1.accounts.models import User
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today, now
from kt1.directory import services as directory
from kt1.directory.choices import AgencyLevel, AgencyType, FacilityKind, UnitLevel

PASSWORD = "correct-horse-battery-9"
_seq = itertools.count(1)


def n() -> int:
    return next(_seq)


def root_admin() -> User:
    """The national administrator every builder acts as (created once per test database)."""
    existing = User.objects.filter(username="root.admin").first()
    if existing:
        return existing
    return people.bootstrap_first_admin(username="root.admin", full_name="Quản trị quốc gia", password=PASSWORD)


def province(name: str | None = None, code: str | None = None):
    i = n()
    return directory.admin_unit_create(
        actor=root_admin(), code=code or f"P{i:03d}", name=name or f"Tỉnh thử {i}", level=UnitLevel.PROVINCE
    )


def commune(prov, name: str | None = None, level: str = UnitLevel.COMMUNE):
    i = n()
    return directory.admin_unit_create(actor=root_admin(), code=f"C{i:05d}", name=name or f"Xã thử {i}", level=level, parent=prov)


def agency(unit, *, name: str | None = None, short_name: str | None = None, mandatory: bool = True,
           enrolled_on: dt.date | None = None, agency_type: str = AgencyType.STATE, level: str = AgencyLevel.PROVINCE,
           with_address: bool = True):
    i = n()
    a = directory.agency_create(
        actor=root_admin(), name=name or f"Cơ quan thử {i}", short_name=short_name or f"CQ{i}", agency_type=agency_type,
        level=level, admin_unit=unit, is_mandatory=mandatory, enrolled_on=enrolled_on,
    )
    if with_address:
        directory.agency_address_add(actor=root_admin(), agency=a, street=f"{i} Đường Thử", admin_unit=unit)
    return a


def facility(unit, *, kind: str = FacilityKind.POST_OFFICE, parent=None, postcode: str | None = None, name: str | None = None):
    i = n()
    return directory.facility_create(
        # Postcodes have 5 digits: they wrap (a worker runs thousands of tests; each starts empty).
        actor=root_admin(), postcode=postcode or f"{90000 + i % 10000:05d}", name=name or f"Bưu cục thử {i}", kind=kind,
        parent=parent, admin_unit=unit,
    )


def person(role: str, *, agency=None, facility=None, province=None, username: str | None = None,
           full_name: str | None = None) -> User:
    i = n()
    return people.user_create(
        actor=root_admin(), username=username or f"{role}.{i}", full_name=full_name or f"Người thử {i}",
        password=PASSWORD, role=role, agency=agency, facility=facility, province=province,
    )


def cleared(user: User, level: str = Secrecy.A, *, days: int = 365, police: User | None = None) -> User:
    """Give a person an approved vetting and a valid training (what handling KT1 items needs)."""
    province_of_user = _province_of(user)
    police = police or person(Role.POLICE, province=province_of_user)
    vetting = people.vetting_request(actor=root_admin(), user=user, note="test")
    people.vetting_approve(actor=police, vetting=vetting, valid_until=now() + dt.timedelta(days=days), max_secrecy=level)
    people.training_record(actor=root_admin(), user=user, course="Nghiệp vụ KT1", completed_on=local_today())
    return user


def _province_of(user: User):
    from kt1.accounts.models import RoleAssignment

    a = RoleAssignment.objects.current().filter(user=user).select_related("agency__province", "facility__province").first()
    if a.agency_id:
        return a.agency.province
    if a.facility_id:
        return a.facility.province
    return a.province


class ProvinceWorldFactory(factory.Factory):
    """factory_boy front for `ProvinceWorld`, so tests can override names: ProvinceWorldFactory(name="Tỉnh B")."""

    class Meta:
        model = lambda **kw: build_province_world(**kw)  # noqa: E731

    name = factory.Sequence(lambda i: f"Tỉnh thế giới {i}")


@dataclass
class ProvinceWorld:
    province: object
    commune: object
    agency: object
    other_agency: object
    provincial_post: object
    processing: object
    post_office: object
    people: dict[str, User] = field(default_factory=dict)


def build_province_world(name: str) -> ProvinceWorld:
    prov = province(name=name)
    com = commune(prov)
    ag = agency(prov, level=AgencyLevel.PROVINCE)
    other = agency(com, level=AgencyLevel.COMMUNE)
    post = facility(prov, kind=FacilityKind.PROVINCIAL_POST)
    proc = facility(prov, kind=FacilityKind.PROCESSING, parent=post)
    office = facility(com, kind=FacilityKind.POST_OFFICE, parent=post)
    w = ProvinceWorld(prov, com, ag, other, post, proc, office)
    item_rules()
    for f in (post, proc, office):
        serials(f)
    w.people = {
        "admin": person(Role.ADMIN, province=prov),
        "agency_clerk": person(Role.AGENCY_CLERK, agency=ag),
        "counter_clerk": person(Role.COUNTER_CLERK, facility=office),
        "postman": person(Role.POSTMAN, facility=office),
        "operator": person(Role.OPERATOR, facility=proc),
        "driver": person(Role.DRIVER, facility=proc),
        "escort": person(Role.ESCORT, facility=proc),
        "supervisor": person(Role.SUPERVISOR, facility=post),
        "oversight": person(Role.OVERSIGHT, province=prov),
        "police": person(Role.POLICE, province=prov),
        "finance": person(Role.FINANCE, province=prov),
    }
    return w


_serial_block = itertools.count(1)


def serials(facility, size: int = 100_000):
    """A block of S10 serials for an issuing facility."""
    from kt1.items.services import serial_range_create

    # Blocks wrap around: one worker process builds thousands of worlds over a run, but each test's
    # database starts empty, so only the ranges of one test must not overlap.
    start = (next(_serial_block) % (100_000_000 // size)) * size
    return serial_range_create(actor=root_admin(), facility=facility, first_serial=start, last_serial=start + size - 1)


def item_rules():
    """Weight limits and delivery-failure reasons (global reference data), once per database."""
    from kt1.items.models import DeliveryFailureReason, KindRule
    from kt1.items.services import failure_reason_create, kind_rule_set

    if not KindRule.objects.exists():
        for kind, limit in (("letter", 2000), ("packet", 5000), ("parcel", 30000)):
            kind_rule_set(actor=root_admin(), kind=kind, max_weight_g=limit, legal_basis="Giá trị thử nghiệm",
                          valid_from=local_today() - dt.timedelta(days=400))
    if not DeliveryFailureReason.objects.exists():
        failure_reason_create(actor=root_admin(), code="ABSENT", label="Cơ quan nhận không có người nhận",
                              valid_from=local_today() - dt.timedelta(days=400))
        failure_reason_create(actor=root_admin(), code="MOVED", label="Cơ quan đã chuyển địa điểm",
                              default_next_action="return", valid_from=local_today() - dt.timedelta(days=400))


def item(sender_clerk: User, recipient_agency, *, secrecy: str = Secrecy.NONE, urgency: str = "none", weight_g: int = 120,
         kind: str = "letter", private: dict | None = None, deliver_by=None, named_recipient: str = ""):
    """An item registered by an agency clerk for their own agency."""
    from kt1.core.permissions import scope_of
    from kt1.directory.models import Agency
    from kt1.items.services import ItemInput, item_register

    sender = Agency.objects.get(pk=next(iter(scope_of(sender_clerk).agency_ids)))
    return item_register(actor=sender_clerk, data=ItemInput(
        sender_agency=sender, recipient_agency=recipient_agency, kind=kind, weight_g=weight_g, secrecy=secrecy,
        urgency=urgency, deliver_by=deliver_by, named_recipient=named_recipient, private=private or {}))
