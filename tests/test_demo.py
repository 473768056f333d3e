"""`kt1 load_demo`: the demo province, its counts, its people and vetting states, idempotence,
determinism and the guards that keep it out of a real installation."""

from __future__ import annotations

import re
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from kt1.accounts.choices import Role, VettingStatus
from kt1.accounts.clearance import handling_clearance
from kt1.accounts.demo import DEMO_PASSWORD, demo_totp_key_hex, totp_token
from kt1.accounts.models import RoleAssignment, User, Vetting
from kt1.accounts.selectors import vetting_list
from kt1.audit.models import AuditEntry
from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.core.permissions import restrict
from kt1.directory.choices import AgencyLevel, AgencyType, FacilityKind
from kt1.directory.models import AdministrativeUnit, Agency, AgencyAddress, AgencyContact, Facility
from kt1.directory.selectors import mandatory_coverage

DEMO_ROLES = {
    "demo.admin": Role.ADMIN,
    "demo.clerk": Role.AGENCY_CLERK,
    "demo.clerk2": Role.AGENCY_CLERK,
    "demo.counter": Role.COUNTER_CLERK,
    "demo.postman": Role.POSTMAN,
    "demo.operator": Role.OPERATOR,
    "demo.driver": Role.DRIVER,
    "demo.escort": Role.ESCORT,
    "demo.supervisor": Role.SUPERVISOR,
    "demo.oversight": Role.OVERSIGHT,
    "demo.police": Role.POLICE,
    "demo.finance": Role.FINANCE,
}


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_mode(settings):
    settings.KT1_DEMO = True
    return settings


@pytest.fixture
def demo(db, demo_mode):
    return load()


def snapshot() -> dict:
    """What must be identical on every load: names, codes, counts, contacts, people."""
    return {
        "units": sorted(AdministrativeUnit.objects.values_list("code", "name", "level")),
        "agencies": sorted(Agency.objects.values_list("short_name", "name", "agency_type", "level", "is_mandatory",
                                                      "enrolled_on", "admin_unit__code", "parent__short_name")),
        "addresses": sorted(AgencyAddress.objects.values_list("agency__name", "street", "admin_unit__code")),
        "contacts": sorted(AgencyContact.objects.values_list("agency__name", "full_name", "position", "phone")),
        "facilities": sorted(Facility.objects.values_list("postcode", "name", "kind", "parent__postcode",
                                                          "admin_unit__code")),
        "people": sorted(RoleAssignment.objects.values_list("user__username", "user__full_name", "role",
                                                            "agency__name", "facility__postcode", "province__code")),
        "vettings": sorted(Vetting.objects.values_list("user__username", "status", "max_secrecy", "decision_reference")),
        "audit": AuditEntry.objects.count(),
    }


@pytest.mark.django_db
def test_demo_province_has_the_expected_shape(demo):
    tq = AdministrativeUnit.objects.get(code="08")
    assert tq.name == "Tỉnh Tuyên Quang"
    assert 18 <= AdministrativeUnit.objects.filter(parent=tq).count() <= 22

    agencies = Agency.objects.filter(province=tq)
    assert 75 <= agencies.count() <= 85
    assert agencies.filter(is_mandatory=True).count() == 73
    assert agencies.filter(enrolled_on__isnull=False).count() == 37
    assert agencies.filter(enrolled_on__isnull=False, is_mandatory=False).count() == 0
    assert agencies.filter(is_mandatory=False, agency_type=AgencyType.STATE_ENTERPRISE).exists()
    assert agencies.filter(level=AgencyLevel.PROVINCE).count() >= 15
    assert agencies.filter(level=AgencyLevel.COMMUNE, admin_unit__parent=tq).count() >= 50
    # Every agency has a delivery address in its own province, most have a clerk on file.
    assert not agencies.exclude(addresses__isnull=False).exists()
    assert not AgencyAddress.objects.filter(agency__province=tq).exclude(admin_unit__parent=tq).exists()
    with_contact = agencies.filter(contacts__isnull=False).distinct().count()
    assert agencies.count() * 0.7 <= with_contact < agencies.count()
    assert not AgencyContact.objects.exclude(position="Văn thư").exists()
    short_names = [s.lower() for s in agencies.values_list("short_name", flat=True)]
    assert len(short_names) == len(set(short_names))

    facilities = Facility.objects.filter(province=tq)
    post = facilities.get(kind=FacilityKind.PROVINCIAL_POST)
    assert (post.postcode, post.name) == ("22000", "Bưu điện tỉnh Tuyên Quang")
    processing = facilities.get(kind=FacilityKind.PROCESSING)
    assert (processing.postcode, processing.parent_id) == ("22100", post.pk)
    offices = facilities.filter(kind=FacilityKind.POST_OFFICE)
    assert 8 <= offices.count() <= 12 and not offices.exclude(parent=post).exists()
    assert not facilities.exclude(postcode__regex=r"^2[02]\d{3}$").exists()

    # The second province exists for scoping: its own post office and a few agencies.
    tn = AdministrativeUnit.objects.get(code="19")
    assert AdministrativeUnit.objects.filter(parent=tn).count() == 2
    assert Agency.objects.filter(province=tn).count() == 3
    assert Facility.objects.get(province=tn).kind == FacilityKind.PROVINCIAL_POST

    assert "73" in demo and "37" in demo and "kt1-demo-2026" in demo and "demo_totp" in demo


@pytest.mark.django_db
def test_every_demo_account_has_its_role_password_and_authenticator(demo):
    tq = AdministrativeUnit.objects.get(code="08")
    for username, role in DEMO_ROLES.items():
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD), username
        roles = list(RoleAssignment.objects.current().filter(user=user).values_list("role", flat=True))
        assert roles == [role], username
        device = TOTPDevice.objects.get(user=user)
        assert device.confirmed and device.key == demo_totp_key_hex(username)
    # National administrator, clerks of two agencies, postal staff where the brief puts them.
    admin = RoleAssignment.objects.get(user__username="demo.admin")
    assert admin.province_id is None and admin.agency_id is None and admin.facility_id is None
    clerk = RoleAssignment.objects.get(user__username="demo.clerk").agency
    clerk2 = RoleAssignment.objects.get(user__username="demo.clerk2").agency
    assert (clerk.short_name, clerk2.short_name) == ("UBND tỉnh", "Tỉnh ủy")
    assert RoleAssignment.objects.get(user__username="demo.counter").facility.postcode == "22010"
    assert RoleAssignment.objects.get(user__username="demo.postman").facility.postcode == "22010"
    for name in ("demo.operator", "demo.driver", "demo.escort"):
        assert RoleAssignment.objects.get(user__username=name).facility.kind == FacilityKind.PROCESSING
    assert RoleAssignment.objects.get(user__username="demo.supervisor").facility.kind == FacilityKind.PROVINCIAL_POST
    for name in ("demo.oversight", "demo.police", "demo.finance"):
        assert RoleAssignment.objects.get(user__username=name).province == tq
    # Named staff besides the demo accounts; they enrol their own authenticator.
    others = User.objects.exclude(username__startswith="demo.")
    assert others.count() >= 12
    assert not TOTPDevice.objects.filter(user__in=others).exists()


@pytest.mark.django_db
def test_vetting_states_coverage_and_scoping_as_the_roles_see_them(demo):
    statuses = set(Vetting.objects.values_list("status", flat=True))
    assert statuses == {VettingStatus.APPROVED, VettingStatus.REQUESTED, VettingStatus.REJECTED, VettingStatus.REVOKED}
    police = User.objects.get(username="demo.police")
    assert vetting_list(viewer=police, status=VettingStatus.REQUESTED).count() >= 3
    assert vetting_list(viewer=police, status=VettingStatus.REJECTED).count() in (1, 2)
    assert vetting_list(viewer=police, status=VettingStatus.REVOKED).count() == 1
    assert vetting_list(viewer=police, expiring_within_days=30).count() == 2
    expired = [v for v in vetting_list(viewer=police, status=VettingStatus.APPROVED) if v.display_state == "Hết hạn"]
    assert [v.user.username for v in expired] == ["duong.van.son"]

    # The handling staff may handle what their vetting allows; the expired and revoked may not.
    for username in ("demo.counter", "demo.postman", "demo.operator", "demo.driver", "demo.escort", "demo.clerk",
                     "demo.clerk2"):
        clearance = handling_clearance(User.objects.get(username=username), Secrecy.B)
        assert clearance, (username, clearance.reason)
        assert clearance.max_secrecy in (Secrecy.A, Secrecy.B)
    assert not handling_clearance(User.objects.get(username="duong.van.son"))
    assert not handling_clearance(User.objects.get(username="ha.thi.thuy"))
    assert not handling_clearance(User.objects.get(username="sung.a.pao"))

    coverage = mandatory_coverage(viewer=User.objects.get(username="demo.oversight"))
    assert (coverage.enrolled, coverage.mandatory) == (37, 73)
    clerk = User.objects.get(username="demo.clerk")
    assert not restrict(Agency.objects.filter(province__code="19"), clerk).exists()
    assert restrict(Agency.objects.filter(province__code="08"), clerk).count() == 80

    assert audit_verify().ok


@pytest.mark.django_db
def test_second_run_changes_nothing(demo):
    before = snapshot()
    out = load()
    assert "Dữ liệu trình diễn đã có" in out
    assert snapshot() == before
    assert audit_verify().ok


@pytest.mark.django_db(transaction=False)
def test_two_loads_produce_the_same_data(demo_mode):
    with transaction.atomic():
        load()
        first = snapshot()
        transaction.set_rollback(True)
    assert not User.objects.exists()
    load()
    assert snapshot() == first


@pytest.mark.django_db
def test_refused_outside_demo_mode(settings):
    settings.KT1_DEMO = False
    with pytest.raises(CommandError, match="KT1_DEMO"):
        load()
    assert not User.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_refused_when_another_administrator_exists(demo_mode, root_admin):
    before = AuditEntry.objects.count()
    with pytest.raises(CommandError, match="root.admin"):
        load()
    assert not AdministrativeUnit.objects.exists()
    assert not User.objects.filter(username__startswith="demo.").exists()
    assert AuditEntry.objects.count() == before


@pytest.mark.django_db
def test_demo_totp_prints_codes_for_demo_accounts_only(demo):
    out = StringIO()
    call_command("demo_totp", "demo.clerk", stdout=out)
    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    # The code printed is the one the account's authenticator expects (allowing for a step change).
    key = bytes.fromhex(demo_totp_key_hex("demo.clerk"))
    now = time.time()
    assert code in {totp_token(key, now), totp_token(key, now - 30)}
    for name in ("nong.van.khanh", "root.admin", "admin"):
        with pytest.raises(CommandError):
            call_command("demo_totp", name, stdout=StringIO())


@pytest.mark.django_db
def test_demo_totp_refused_outside_demo_mode(settings):
    settings.KT1_DEMO = False
    with pytest.raises(CommandError):
        call_command("demo_totp", "demo.clerk", stdout=StringIO())
