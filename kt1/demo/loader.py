"""Load the demo province (kt1/demo/data.py) through the services, acting as demo.admin.

Every row is created by the same services the pages use, so each one is validated and audited
and the audit chain verifies afterwards. The load runs in one transaction: it happens completely
or not at all. It is idempotent (a second run finds the province and changes nothing) and
deterministic (names, codes and counts never vary; the contacts' names come from a seeded
generator; only dates are relative to today, so vettings stay valid whenever the demo is loaded).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from kt1.accounts import services as people
from kt1.accounts.choices import POSTAL_ROLES, Role, VettingStatus
from kt1.accounts.demo import DEMO_PASSWORD, DEMO_PREFIX, ensure_demo_device
from kt1.accounts.models import RoleAssignment, Training, User, Vetting
from kt1.audit.models import AuditEntry
from kt1.core.clock import local_today, now
from kt1.directory import services as directory
from kt1.directory.choices import AgencyLevel, FacilityKind, UnitLevel
from kt1.directory.models import AdministrativeUnit, Agency, Facility

from . import data as D
from .items import load_with_history


class DemoRefused(Exception):
    """Loading the demo here would be unsafe or would mix it into a real installation."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str
    scope: str


@dataclass(frozen=True)
class DemoOutcome:
    loaded: bool  # False: the demo was already there and nothing changed
    counts: dict[str, int]
    accounts: tuple[DemoAccount, ...]


def demo_present() -> bool:
    return (
        AdministrativeUnit.objects.filter(code=D.PROVINCE_CODE).exists()
        and User.objects.filter(username=D.DEMO_ADMIN_USERNAME).exists()
    )


def load_demo() -> DemoOutcome:
    """Load the demo unless it is there already. Raises DemoRefused outside demo mode (demo.*
    accounts have a published password and a derivable authenticator key) and on a database that
    already belongs to another administrator."""
    if demo_present():
        return DemoOutcome(False, demo_counts(), demo_accounts())
    if not getattr(settings, "KT1_DEMO", False):
        raise DemoRefused(
            "Chỉ nạp dữ liệu trình diễn ở chế độ trình diễn (KT1_DEMO=true, cấu hình config.settings.dev): "
            "các tài khoản demo.* có mật khẩu công khai."
        )
    others = (
        RoleAssignment.objects.filter(role=Role.ADMIN)
        .exclude(user__username=D.DEMO_ADMIN_USERNAME)
        .values_list("user__username", flat=True)
        .order_by("user__username")
    )
    if others.exists():
        names = ", ".join(others[:5])
        raise DemoRefused(
            f"Cơ sở dữ liệu đã có quản trị viên khác ({names}): không nạp dữ liệu trình diễn vào một hệ thống đang dùng."
        )
    taken = AdministrativeUnit.objects.filter(code__in=[D.PROVINCE_CODE, D.OTHER_PROVINCE_CODE])
    if taken.exists():
        codes = ", ".join(taken.values_list("code", flat=True).order_by("code"))
        raise DemoRefused(f"Mã tỉnh {codes} đã có trong danh mục: không nạp dữ liệu trình diễn.")
    with transaction.atomic():
        # The province exists from the start of the item history (kt1/demo/items.py), which then
        # plays about two months of items up to today; the loader is built first so that its
        # validity dates stay relative to the real today.
        load_with_history(_Loader())
    return DemoOutcome(True, demo_counts(), demo_accounts())


class _Loader:
    def __init__(self) -> None:
        # A fixed seed: the same contacts on every run.
        self.rng = random.Random(2026)  # noqa: S311 - demo names, not secrets
        self.moment = now()
        self.today = local_today()
        self.units: dict[str, AdministrativeUnit] = {}
        self.agencies: dict[str, Agency] = {}
        self.facilities: dict[str, Facility] = {}
        self.users: dict[str, User] = {}
        self.decisions = 0

    def run(self) -> None:
        self.admin = self._admin()
        self._units()
        self._agencies()
        self._facilities()
        self._people()
        self._vettings()
        self._trainings()
        for username, user in self.users.items():
            if username.startswith(DEMO_PREFIX):
                ensure_demo_device(user)

    # --- directory ------------------------------------------------------------------------------

    def _admin(self) -> User:
        admin = User.objects.filter(username=D.DEMO_ADMIN_USERNAME).first()
        if admin is None:
            admin = people.bootstrap_first_admin(
                username=D.DEMO_ADMIN_USERNAME, full_name=D.DEMO_ADMIN_NAME, password=DEMO_PASSWORD
            )
            admin = people.user_update(actor=admin, user=admin, position="Quản trị hệ thống", phone="0207 3822 000")
        self.users[admin.username] = admin
        return admin

    def _units(self) -> None:
        for code, name, communes in (
            (D.PROVINCE_CODE, D.PROVINCE_NAME, D.COMMUNES),
            (D.OTHER_PROVINCE_CODE, D.OTHER_PROVINCE_NAME, D.OTHER_COMMUNES),
        ):
            province = directory.admin_unit_create(
                actor=self.admin, code=code, name=name, level=UnitLevel.PROVINCE, valid_from=D.REFORM_DAY
            )
            self.units[code] = province
            for unit in communes:
                self.units[unit.code] = directory.admin_unit_create(
                    actor=self.admin, code=unit.code, name=unit.name, level=unit.level, parent=province,
                    valid_from=D.REFORM_DAY,
                )

    def _agencies(self) -> None:
        specs: list[tuple[D.AgencySpec, str, str]] = []  # spec, level, telephone area
        for spec in D.PROVINCIAL_AGENCIES:
            specs.append((spec, AgencyLevel.PROVINCE, D.AREA_TQ))
        for unit in D.COMMUNES:
            enrolled_on = dt.date(2025, 7, 1) + dt.timedelta(days=int(unit.code[-2:])) if unit.code in D.ENROLLED_COMMUNES else None
            place = unit.name[0].lower() + unit.name[1:]  # "phường Minh Xuân"
            short = unit.name.split(" ", 1)[1]  # "Minh Xuân"
            street = "Tổ dân phố 1" if unit.level == UnitLevel.WARD else "Thôn Trung Tâm"
            for prefix, name, short_prefix, agency_type in D.COMMUNE_BODIES:
                specs.append((
                    D.AgencySpec(f"{prefix}_{unit.code}", f"{name} {place}", f"{short_prefix} {short}", agency_type,
                                 unit.code, street, parent=D.COMMUNE_BODY_PARENTS[prefix], enrolled_on=enrolled_on),
                    AgencyLevel.COMMUNE, unit.area,
                ))
        for spec in D.OTHER_PROVINCE_AGENCIES:
            level = AgencyLevel.COMMUNE if spec.key == "tn_ubnd_dx" else AgencyLevel.PROVINCE
            specs.append((spec, level, "0208"))

        for index, (spec, level, area) in enumerate(specs):
            seat = self.units[spec.unit]  # always a ward or commune: the street lies in it
            province = seat.parent
            agency = directory.agency_create(
                actor=self.admin, name=spec.name, short_name=spec.short_name, agency_type=spec.agency_type, level=level,
                admin_unit=province if level == AgencyLevel.PROVINCE else seat,
                parent=self.agencies[spec.parent] if spec.parent else None,
                is_mandatory=spec.mandatory, enrolled_on=spec.enrolled_on, valid_from=D.REFORM_DAY,
            )
            self.agencies[spec.key] = agency
            directory.agency_address_add(actor=self.admin, agency=agency, street=spec.street, admin_unit=seat)
            # Most agencies have their clerk on file; every sixth does not yet (data to complete).
            contact_name, phone = self._contact(area)
            if index % 6 != 5:
                directory.agency_contact_add(actor=self.admin, agency=agency, full_name=contact_name, position="Văn thư",
                                             phone=phone)

    def _contact(self, area: str) -> tuple[str, str]:
        # Drawn for every agency, used or not, so one agency's contact never depends on another's.
        name = f"{self.rng.choice(D.SURNAMES)} {self.rng.choice(D.MIDDLE)} {self.rng.choice(D.GIVEN)}"
        phone = f"{area} {self.rng.randint(3800, 3899)} {self.rng.randint(100, 999)}"
        return name, phone

    def _facilities(self) -> None:
        for spec in D.FACILITIES + D.OTHER_FACILITIES:
            self.facilities[spec.key] = directory.facility_create(
                actor=self.admin, postcode=spec.postcode, name=spec.name, kind=spec.kind,
                parent=self.facilities[spec.parent] if spec.parent else None, admin_unit=self.units[spec.unit],
                address=spec.address, phone=spec.phone, valid_from=D.REFORM_DAY,
            )

    # --- people ---------------------------------------------------------------------------------

    def _people(self) -> None:
        for spec in D.DEMO_PEOPLE + D.STAFF:
            target = {}
            if spec.scope in self.agencies:
                target["agency"] = self.agencies[spec.scope]
            elif spec.scope in self.facilities:
                target["facility"] = self.facilities[spec.scope]
            elif spec.scope == "province":
                target["province"] = self.units[D.PROVINCE_CODE]
            else:
                raise KeyError(f"unknown scope {spec.scope!r} for {spec.username}")
            self.users[spec.username] = people.user_create(
                actor=self.admin, username=spec.username, full_name=spec.full_name, password=DEMO_PASSWORD,
                role=spec.role, phone=spec.phone, position=spec.position, **target,
            )

    def _requester(self, spec: D.PersonSpec) -> User:
        # The post's supervisor asks for their staff; the administrator for clerks and the supervisor.
        if spec.role in POSTAL_ROLES and spec.role != Role.SUPERVISOR:
            return self.users["demo.supervisor"]
        return self.admin

    def _reference(self) -> str:
        self.decisions += 1
        return f"{self.decisions:03d}/KL-CAT-PA03"

    def _vettings(self) -> None:
        police = self.users["demo.police"]
        for spec in D.DEMO_PEOPLE + D.STAFF:
            if not spec.vetting:
                continue
            user = self.users[spec.username]
            vetting = people.vetting_request(
                actor=self._requester(spec), user=user,
                note=f"Đề nghị thẩm tra tiêu chuẩn chính trị đối với {spec.position.lower()} {spec.full_name}.",
            )
            if spec.vetting == D.REQUESTED:
                continue
            if spec.vetting == D.REJECTED:
                people.vetting_reject(actor=police, vetting=vetting, reference=self._reference(),
                                      note="Chưa đủ điều kiện về tiêu chuẩn chính trị theo kết quả xác minh.")
                continue
            days = 1 if spec.vetting == D.EXPIRED else spec.days
            vetting = people.vetting_approve(
                actor=police, vetting=vetting, valid_until=self.moment + dt.timedelta(days=days), max_secrecy=spec.max_secrecy,
                reference=self._reference(), note="Đạt tiêu chuẩn chính trị.",
            )
            if spec.vetting == D.REVOKED:
                people.vetting_revoke(actor=police, vetting=vetting,
                                      reason="Vi phạm quy trình giao nhận bưu gửi KT1; đình chỉ tiếp xúc bưu gửi mật.")
            elif spec.vetting == D.EXPIRED:
                # A historical expiry: vetting_approve rightly refuses a validity in the past and no
                # service back-dates a decision, so this one demo record is moved into the past
                # directly. It is the only write in the demo that bypasses a service.
                Vetting.objects.filter(pk=vetting.pk).update(
                    requested_at=self.moment - dt.timedelta(days=400),
                    decided_at=self.moment - dt.timedelta(days=395),
                    valid_until=self.moment - dt.timedelta(days=30),
                )

    def _trainings(self) -> None:
        for index, spec in enumerate(D.DEMO_PEOPLE + D.STAFF):
            if not spec.trained:
                continue
            completed_on = self.today - dt.timedelta(days=60 + 7 * index)
            people.training_record(
                actor=self._requester(spec), user=self.users[spec.username], course=D.TRAINING_COURSE,
                completed_on=completed_on, valid_until=completed_on + dt.timedelta(days=730),
            )


# --- what is there --------------------------------------------------------------------------------


def demo_counts() -> dict[str, int]:
    """Figures for the summary (and the tests): the demo province, then the whole database."""
    province = AdministrativeUnit.objects.get(code=D.PROVINCE_CODE)
    agencies = Agency.objects.filter(province=province).aggregate(
        total=Count("pk"),
        mandatory=Count("pk", filter=Q(is_mandatory=True)),
        enrolled=Count("pk", filter=Q(is_mandatory=True, enrolled_on__isnull=False)),
    )
    facilities = dict(
        Facility.objects.filter(province=province).values_list("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    moment = now()
    approved = Vetting.objects.filter(status=VettingStatus.APPROVED)
    return {
        "provinces": AdministrativeUnit.objects.filter(level=UnitLevel.PROVINCE).count(),
        "communes": AdministrativeUnit.objects.filter(parent=province).count(),
        "agencies": agencies["total"],
        "mandatory": agencies["mandatory"],
        "enrolled": agencies["enrolled"],
        "provincial_post": facilities.get(FacilityKind.PROVINCIAL_POST, 0),
        "processing": facilities.get(FacilityKind.PROCESSING, 0),
        "post_office": facilities.get(FacilityKind.POST_OFFICE, 0),
        "service_point": facilities.get(FacilityKind.SERVICE_POINT, 0),
        "users": User.objects.count(),
        "vetting_approved": approved.filter(valid_until__gt=moment + dt.timedelta(days=30)).count(),
        "vetting_expiring": approved.filter(valid_until__gt=moment, valid_until__lte=moment + dt.timedelta(days=30)).count(),
        "vetting_expired": approved.filter(valid_until__lte=moment).count(),
        "vetting_requested": Vetting.objects.filter(status=VettingStatus.REQUESTED).count(),
        "vetting_rejected": Vetting.objects.filter(status=VettingStatus.REJECTED).count(),
        "vetting_revoked": Vetting.objects.filter(status=VettingStatus.REVOKED).count(),
        "trainings": Training.objects.count(),
        "audit_entries": AuditEntry.objects.count(),
    }


def demo_accounts() -> tuple[DemoAccount, ...]:
    """The demo.* accounts with their current roles, in a fixed order."""
    accounts = []
    users = User.objects.filter(username__startswith=DEMO_PREFIX).order_by("username")
    for user in users:
        for a in RoleAssignment.objects.current().filter(user=user).select_related("agency", "facility", "province"):
            scope = a.agency or a.facility or a.province
            accounts.append(DemoAccount(user.username, user.full_name, str(a.get_role_display()),
                                        str(scope) if scope else "Toàn quốc"))
    return tuple(accounts)
