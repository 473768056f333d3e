"""Every demo account signs in through the real pages (password, then the two-factor code its
demo authenticator shows) and lands on a home page with its own name, role and tiles; a brand-new
person is sent to enrol an authenticator first.

live_server flushes the database after each test. Loading the demo takes about 3 s, so on the
in-memory SQLite test database the module loads it once, keeps a copy (SQLite's backup API) and
copies it back before each test in a few milliseconds; elsewhere each test loads it itself."""

from __future__ import annotations

import base64
import re
import sqlite3
from dataclasses import dataclass, field
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings
from django.urls import reverse
from playwright.sync_api import Page, expect

from kt1.accounts.choices import Role
from kt1.accounts.demo import DEMO_PASSWORD, demo_totp_key_hex, totp_token
from kt1.directory.models import Agency
from tests import factories as f

AT_LEAST_3 = "≥3"


@dataclass(frozen=True)
class Case:
    username: str
    full_name: str
    role: str  # the role label shown on the home page
    tiles: dict[str, str] = field(default_factory=dict)  # data-testid → expected text (regex) or AT_LEAST_3
    absent: tuple[str, ...] = ()  # tiles this role must not see

    def __str__(self) -> str:
        return self.username


CLEARED_B = r"Được giao nhận tới độ mật: Tối mật \(B\)"
CLEARED_A = r"Được giao nhận tới độ mật: Tuyệt mật \(A\)"
POLICE_TILES = ("pending-vettings", "expiring-vettings")

CASES = [
    Case("demo.admin", "Trần Quốc Hưng", "Quản trị hệ thống",
         {"pending-vettings": AT_LEAST_3, "coverage": r"^\d+/\d+", "facilities": r"^\d+$"}, ("clearance", "my-agency")),
    Case("demo.clerk", "Nguyễn Thị Hoa", "Văn thư cơ quan — Ủy ban nhân dân tỉnh Tuyên Quang",
         {"my-agency": "^UBND tỉnh$", "clearance": CLEARED_A}, ("coverage", *POLICE_TILES)),
    Case("demo.clerk2", "Lê Thị Thu Hà", "Văn thư cơ quan — Tỉnh ủy Tuyên Quang",
         {"my-agency": "^Tỉnh ủy$", "clearance": CLEARED_A}, ("coverage", *POLICE_TILES)),
    Case("demo.counter", "Phạm Thị Mai", "Giao dịch viên — 22010 Bưu cục Trung tâm Tuyên Quang",
         {"clearance": CLEARED_B}, ("coverage", "my-agency", *POLICE_TILES)),
    Case("demo.postman", "Hoàng Văn Nam", "Bưu tá — 22010 Bưu cục Trung tâm Tuyên Quang",
         {"clearance": CLEARED_B}, ("coverage", "my-agency", *POLICE_TILES)),
    Case("demo.operator", "Đỗ Văn Tuấn", "Khai thác viên — 22100 Trung tâm Khai thác Vận chuyển Tuyên Quang",
         {"clearance": CLEARED_A}, ("coverage", "my-agency", *POLICE_TILES)),
    Case("demo.driver", "Vũ Văn Hải", "Lái xe — 22100 Trung tâm Khai thác Vận chuyển Tuyên Quang",
         {"clearance": CLEARED_B}, ("coverage", "my-agency", *POLICE_TILES)),
    Case("demo.escort", "Bùi Văn Dũng", "Áp tải — 22100 Trung tâm Khai thác Vận chuyển Tuyên Quang",
         {"clearance": CLEARED_A}, ("coverage", "my-agency", *POLICE_TILES)),
    Case("demo.supervisor", "Ngô Thị Lan", "Kiểm soát viên / lãnh đạo bưu điện — 22000 Bưu điện tỉnh Tuyên Quang",
         {"pending-vettings": AT_LEAST_3, "expiring-vettings": "^2$", "clearance": CLEARED_A}, ("coverage", "my-agency")),
    Case("demo.oversight", "Đặng Minh Quân", "Sở Khoa học và Công nghệ — Tỉnh Tuyên Quang",
         {"coverage": r"^37/73\b"}, ("clearance", "my-agency", *POLICE_TILES)),
    Case("demo.police", "Lý Văn Thắng", "Công an tỉnh — Tỉnh Tuyên Quang",
         {"pending-vettings": AT_LEAST_3, "expiring-vettings": "^2$", "coverage": r"^37/73\b"}, ("clearance", "my-agency")),
    Case("demo.finance", "Ma Thị Hồng", "Sở Tài chính — Tỉnh Tuyên Quang",
         {"coverage": r"^37/73\b"}, ("clearance", "my-agency", *POLICE_TILES)),
]


def load_demo() -> None:
    # load_demo refuses outside demo mode.
    with override_settings(KT1_DEMO=True):
        call_command("load_demo", stdout=StringIO())


@pytest.fixture(scope="module")
def demo_snapshot(django_db_setup, django_db_blocker):
    """The loaded demo database, copied aside once per module (None: not an in-memory SQLite)."""
    with django_db_blocker.unblock():
        if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
            yield None
            return
        load_demo()
        snapshot = sqlite3.connect(":memory:")
        connection.ensure_connection()
        connection.connection.backup(snapshot)
        # Leave the database empty, as every other test expects to find it.
        call_command("flush", interactive=False, verbosity=0)
    yield snapshot
    snapshot.close()


@pytest.fixture
def demo(transactional_db, demo_snapshot):
    """A freshly loaded demo for this test; live_server's flush removes it afterwards. The live
    server shares the in-memory SQLite connection, so it sees the restored copy at once."""
    if demo_snapshot is None:
        load_demo()
    else:
        connection.ensure_connection()
        demo_snapshot.backup(connection.connection)


def sign_in_with_password(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    form = page.locator("form").filter(has=page.locator("input[name='username']"))
    form.locator("input[name='username']").fill(username)
    form.locator("input[name='password']").fill(password)
    form.locator("button[type='submit']").click()


def submit_token(page: Page, token: str) -> None:
    form = page.locator("form").filter(has=page.locator("input[name='token']"))
    form.locator("input[name='token']").fill(token)
    form.locator("button[type='submit']").click()


def tile_value(page: Page, testid: str):
    return page.get_by_test_id(testid).locator(".num")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_demo_account_signs_in_and_sees_its_home(page: Page, live_server, demo, case: Case):
    sign_in_with_password(page, case.username, DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/$"))

    submit_token(page, totp_token(bytes.fromhex(demo_totp_key_hex(case.username))))

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("who")).to_have_text(case.full_name)
    expect(page.get_by_test_id("roles")).to_contain_text(case.role)
    for testid, expected in case.tiles.items():
        value = tile_value(page, testid)
        expect(value).to_have_count(1)
        if expected == AT_LEAST_3:
            assert int(value.inner_text()) >= 3, (testid, value.inner_text())
        else:
            expect(value).to_have_text(re.compile(expected))
    for testid in case.absent:
        expect(page.get_by_test_id(testid)).to_have_count(0)


def test_clerk_sees_own_province_agencies_only(page: Page, live_server, demo):
    sign_in_with_password(page, "demo.clerk", DEMO_PASSWORD)
    submit_token(page, totp_token(bytes.fromhex(demo_totp_key_hex("demo.clerk"))))
    expect(page.get_by_test_id("who")).to_have_text("Nguyễn Thị Hoa")

    own = Agency.objects.get(province__code="08", short_name="Sở Y tế")
    other = Agency.objects.get(province__code="19", short_name="UBND tỉnh")
    response = page.goto(reverse("directory:agency_detail", args=[own.pk]))
    assert response is not None and response.status == 200
    expect(page.locator("main")).to_contain_text(own.name)
    response = page.goto(reverse("directory:agency_detail", args=[other.pk]))
    assert response is not None and response.status == 404
    expect(page.locator("main")).not_to_contain_text(other.name)


def test_new_person_enrols_an_authenticator_at_first_sign_in(page: Page, live_server):
    unit = f.commune(f.province(name="Tỉnh Tuyên Quang thử"))
    clerk = f.person(Role.AGENCY_CLERK, agency=f.agency(unit), full_name="Nguyễn Văn Mới")

    sign_in_with_password(page, clerk.username, f.PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/enrol/$"))
    secret = page.get_by_test_id("otp-secret").inner_text().strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    submit_token(page, totp_token(key))

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("who")).to_have_text("Nguyễn Văn Mới")
    expect(page.get_by_test_id("roles")).to_contain_text("Văn thư cơ quan")
    # Next time the person is asked for a code, not sent to enrol again.
    page.context.clear_cookies()
    sign_in_with_password(page, clerk.username, f.PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/$"))
