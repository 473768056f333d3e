"""Tracking pages: search by identifier, the item page with its timeline, and who sees the
agency-private fields (only the clerks of the sending and the receiving agency)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from kt1.audit.models import AuditEntry
from kt1.core.choices import Secrecy
from kt1.items import s10
from kt1.items import services as svc
from kt1.items.choices import EventCode
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db

PRIVATE = {"registry_number": "SO-DI-4711/VP", "document_number": "KH-0815/QĐ-UBND",
           "summary": "Về việc phân bổ kinh phí thử nghiệm 2026"}
NOT_PRIVATE_ROLES = ("admin", "counter_clerk", "postman", "operator", "driver", "escort", "supervisor",
                     "oversight", "police", "finance")


@pytest.fixture
def a(world):
    w = world["A"]
    w.people["recipient_clerk"] = f.person("agency_clerk", agency=w.other_agency, full_name="Văn thư nhận")
    return w


@pytest.fixture
def item(a):
    return f.item(a.people["agency_clerk"], a.other_agency, secrecy=Secrecy.C, private=PRIVATE,
                  named_recipient="Đồng chí Bí Thư")


def detail_url(item) -> str:
    return reverse("items:item_detail", args=[item.tracking_number])


def wrong_check_digit(number: str) -> str:
    digit = (int(number[10]) + 1) % 10
    return number[:10] + str(digit) + number[11:]


# --- search ---------------------------------------------------------------------------------------


def test_search_redirects_to_the_item_page(a, item):
    client = verified_client(a.people["agency_clerk"])
    response = client.get(reverse("items:track"), {"q": item.tracking_number})
    assert response.status_code == 302 and response.url == detail_url(item)
    # What a scanner or a person types: lower case, spaces, dashes.
    sloppy = f"{item.tracking_number[:2].lower()} {item.tracking_number[2:6]}-{item.tracking_number[6:]}"
    response = client.get(reverse("items:track"), {"q": sloppy})
    assert response.status_code == 302 and response.url == detail_url(item)


def test_search_empty_shows_the_form(a):
    response = verified_client(a.people["postman"]).get(reverse("items:track"))
    assert response.status_code == 200
    assert 'name="q"' in response.content.decode()


def test_search_wrong_check_digit_names_the_problem(a, item):
    wrong = wrong_check_digit(item.tracking_number)
    response = verified_client(a.people["counter_clerk"]).get(reverse("items:track"), {"q": wrong})
    assert response.status_code == 200
    html = response.content.decode()
    assert "sai số kiểm tra" in html and f"phải là {item.tracking_number[10]}" in html
    assert 'role="alert"' in html


def test_search_malformed_identifier(a):
    response = verified_client(a.people["counter_clerk"]).get(reverse("items:track"), {"q": "KT12AB"})
    assert response.status_code == 200
    assert "không đúng dạng" in response.content.decode()


def test_search_unknown_and_out_of_scope_read_the_same(a, world, item):
    unknown = s10.build("KT", 99_999_998)
    b_clerk = world["B"].people["agency_clerk"]
    client = verified_client(b_clerk)
    r_unknown = client.get(reverse("items:track"), {"q": unknown})
    r_theirs = client.get(reverse("items:track"), {"q": item.tracking_number})
    assert r_unknown.status_code == r_theirs.status_code == 200
    msg_unknown = f"Không tìm thấy bưu gửi {unknown}."
    msg_theirs = f"Không tìm thấy bưu gửi {item.tracking_number}."
    assert msg_unknown in r_unknown.content.decode()
    assert msg_theirs in r_theirs.content.decode()
    # Nothing else differs between "does not exist" and "exists elsewhere".
    def main(response, number):
        return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0].replace(number, "X")

    assert main(r_unknown, unknown) == main(r_theirs, item.tracking_number)


def test_search_needs_items_view(a):
    # Everyone with a role has items.view; a signed-in person without roles does not.
    nobody = f.person("agency_clerk", agency=a.agency)
    from kt1.accounts.models import RoleAssignment
    from kt1.accounts.services import role_end

    role_end(actor=f.root_admin(), assignment=RoleAssignment.objects.get(user=nobody))
    assert verified_client(nobody).get(reverse("items:track")).status_code == 404


# --- the item page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agency_clerk", "recipient_clerk"])
def test_both_agencies_clerks_see_the_private_fields(a, item, role):
    before = AuditEntry.objects.filter(action="item.private_read").count()
    response = verified_client(a.people[role]).get(detail_url(item))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="private"' in html
    for value in PRIVATE.values():
        assert value in html
    reads = AuditEntry.objects.filter(action="item.private_read")
    assert reads.count() == before + 1
    assert reads.order_by("-seq").first().actor_id == a.people[role].pk


@pytest.mark.parametrize("role", NOT_PRIVATE_ROLES)
def test_nobody_else_sees_the_private_fields(a, item, role):
    before = AuditEntry.objects.filter(action="item.private_read").count()
    response = verified_client(a.people[role]).get(detail_url(item))
    assert response.status_code == 200, role
    html = response.content.decode()
    assert item.tracking_number in html
    for value in PRIVATE.values():
        assert value not in html, (role, value)
    assert "Thông tin riêng của cơ quan" not in html
    assert AuditEntry.objects.filter(action="item.private_read").count() == before


def test_postal_staff_never_see_private_fields_while_holding_the_item(a, item):
    counter = f.cleared(a.people["counter_clerk"], Secrecy.B, police=a.people["police"])
    svc.custody_record(actor=counter, request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.ACCEPTED))
    html = verified_client(counter).get(detail_url(item)).content.decode()
    assert "EMA" in html
    for value in PRIVATE.values():
        assert value not in html


def test_item_page_shows_the_envelope_status_and_timeline(a):
    p = a.people
    item = f.item(p["agency_clerk"], a.other_agency, secrecy=Secrecy.A, named_recipient="Đồng chí Giám Đốc",
                  private={"registry_number": "01/TM"})
    counter = f.cleared(p["counter_clerk"], Secrecy.A, police=p["police"])
    svc.custody_record(actor=counter, request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.ACCEPTED, note="Nhận tại quầy"))
    html = verified_client(counter).get(detail_url(item)).content.decode()
    envelope = html.split('data-testid="envelope"', 1)[1].split("</section>", 1)[0]
    assert '<span class="secrecy-mark"' in envelope and ">A</span>" in envelope
    assert "Tuyệt mật" not in envelope  # the envelope carries the letter only
    assert "Tuyệt mật (A)" in html  # the level's name, in the separate secrecy field
    assert "Đồng chí Giám Đốc" in envelope
    assert a.agency.name in envelope and a.other_agency.name in envelope
    assert 'data-testid="event-KREG"' in html and 'data-testid="event-EMA"' in html
    assert "Nhận tại quầy" in html
    assert counter.full_name in html  # the holder
    assert "01/TM" not in html


def test_named_only_is_written_on_the_envelope(a):
    from kt1.items.services import ItemInput, item_register

    item = item_register(actor=a.people["agency_clerk"], data=ItemInput(
        sender_agency=a.agency, recipient_agency=a.other_agency, kind="letter", weight_g=50,
        named_recipient="Ông Nguyễn Văn A", named_only=True))
    html = verified_client(a.people["recipient_clerk"]).get(detail_url(item)).content.decode()
    assert 'data-testid="named-only"' in html and "Chỉ người có tên mới được bóc bì" in html


def test_item_page_out_of_scope_is_404(a, world, item):
    stranger_agency = f.agency(a.province)
    stranger = f.person("agency_clerk", agency=stranger_agency)
    assert verified_client(stranger).get(detail_url(item)).status_code == 404
    for role in ("counter_clerk", "supervisor", "admin", "police", "agency_clerk"):
        response = verified_client(world["B"].people[role]).get(detail_url(item))
        assert response.status_code == 404, role


def test_item_page_malformed_or_wrong_check_digit_is_404(a, item):
    client = verified_client(a.people["agency_clerk"])
    assert client.get(f"/items/{wrong_check_digit(item.tracking_number)}/").status_code == 404
    assert client.get("/items/KT1234/").status_code == 404
    assert client.get(f"/items/{s10.build('KT', 99_999_997)}/").status_code == 404


def test_item_page_lower_case_redirects_to_the_canonical_address(a, item):
    response = verified_client(a.people["agency_clerk"]).get(f"/items/{item.tracking_number.lower()}/")
    assert response.status_code == 302 and response.url == detail_url(item)


def test_menu_entries_follow_permissions(a):
    clerk_html = verified_client(a.people["agency_clerk"]).get(reverse("core:home")).content.decode()
    for label in ("Tra cứu bưu gửi", "Bưu gửi đi", "Bưu gửi đến", "Yêu cầu thu gom"):
        assert label in clerk_html
    counter_html = verified_client(a.people["counter_clerk"]).get(reverse("core:home")).content.decode()
    assert reverse("items:track") in counter_html and reverse("items:pickup_list") in counter_html
    assert reverse("items:outgoing") not in counter_html
    postman_html = verified_client(a.people["postman"]).get(reverse("core:home")).content.decode()
    assert reverse("items:track") in postman_html and reverse("items:pickup_list") not in postman_html
