"""Helpers for browser tests that follow items through several people's hands.

Each person works in their own browser context (their own machine, their own session) and signs
in once per test through the real pages: password, then a two-factor code from a TOTP key set here
on a confirmed device (django-otp refuses a code already used in the same 30 s step, so a person
signs in once and keeps the context). Custody checks read the database from the test thread (the
live server shares the in-memory SQLite connection; every check runs after the page has answered).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, Locator, Page, expect

from kt1.accounts.demo import totp_token
from kt1.items.choices import HandoverKind, HandoverStatus, ItemStatus
from kt1.items.models import Item
from tests import factories as f

PNG_DATA_URI = re.compile(r"^data:image/png;base64,")


def sign_in(new_context: Callable[..., BrowserContext], user) -> Page:
    """A fresh browser context signed in as `user` (password and two-factor code), on the home page.

    Confirmation dialogs (data-confirm) are accepted, as the person would click OK."""
    key = secrets.token_bytes(20)
    # django-otp's own device model (not a KT1 domain model): the authenticator the person enrolled.
    TOTPDevice.objects.create(user=user, name="browser test", confirmed=True, key=key.hex())
    context = new_context()  # in Vietnamese (tests/browser/conftest.py sets the locale)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/accounts/login/")
    form = page.locator("form").filter(has=page.locator("input[name='username']"))
    form.locator("input[name='username']").fill(user.username)
    form.locator("input[name='password']").fill(f.PASSWORD)
    form.locator("button[type='submit']").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/$"))
    form = page.locator("form").filter(has=page.locator("input[name='token']"))
    form.locator("input[name='token']").fill(totp_token(key))
    form.locator("button[type='submit']").click()
    expect(page.get_by_test_id("who")).to_have_text(user.full_name)
    return page


def person_label(user) -> str:
    """How the post-side pickers name a person (kt1.items.forms_post.PersonChoice)."""
    return f"{user.full_name} ({user.username})"


def draw_signature(page: Page, scope: Page | Locator | None = None) -> None:
    """Sign on the canvas (data-testid="signature-pad") with the mouse, as a person would with a
    finger or a stylus, and wait until signature.js has put the PNG in the hidden input."""
    pad = (scope or page).get_by_test_id("signature-pad")
    container = pad.locator("xpath=ancestor::*[@data-signature-pad][1]")
    expect(container).to_have_attribute("data-signature-ready", "1")  # signature.js has set the pad up
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None, "signature pad not displayed"
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.12, y + h * 0.65)
    page.mouse.down()
    for i in range(1, 9):
        page.mouse.move(x + w * (0.12 + i * 0.09), y + h * (0.3 if i % 2 else 0.7), steps=4)
    page.mouse.up()
    stored = container.locator("input[type='hidden']")
    expect(stored).to_have_value(PNG_DATA_URI)


def success(page: Page) -> Locator:
    """The page's success messages (Django messages framework)."""
    return page.locator("main .messages .msg.success")


def pdf_ok(page: Page, url: str) -> None:
    """The link answers a PDF in this person's session."""
    response = page.request.get(url)
    assert response.status == 200, (url, response.status)
    assert response.headers["content-type"].startswith("application/pdf"), response.headers["content-type"]
    assert response.body()[:5] == b"%PDF-"


def holders(item) -> tuple[int | None, int | None]:
    """(person holding the item, sealed bag holding it): exactly one is set."""
    row = Item.objects.values_list("holder_id", "holder_bag_id").get(pk=item.pk)
    return row[0], row[1]


def assert_held_by(item, *, person=None, bag=None) -> Item:
    """Custody rests with exactly one holder, the one named."""
    assert (person is None) != (bag is None)
    expected = (person.pk if person else None, bag.pk if bag else None)
    assert holders(item) == expected, (item.tracking_number, holders(item), expected)
    return Item.objects.get(pk=item.pk)


# --- item pages, as each person uses them ---------------------------------------------------------


def label(choice) -> str:
    return str(choice.label)


def agency_label(agency) -> str:
    return f"{agency.name} ({agency.short_name})"


def sign_inbox_list(page: Page, giver) -> None:
    """The taker of an internal handover list opens it from 'Phiếu chờ tôi ký nhận' and signs."""
    page.goto(reverse("items:my_items"))
    inbox = page.get_by_role("region", name="Phiếu chờ tôi ký nhận")
    inbox.get_by_role("listitem").filter(has_text=giver.full_name).get_by_role("link").click()
    page.get_by_test_id("sign-form").get_by_role("button", name="Ký nhận").click()
    expect(success(page)).to_contain_text("các bưu gửi trên phiếu nay do bạn giữ")
    expect(page.locator("h1")).to_contain_text(label(HandoverStatus.COMPLETED))


def list_for_colleague(page: Page, tracking_number: str, taker) -> None:
    """The holder lists the item for a colleague (internal handover); nothing moves yet."""
    page.goto(f"{reverse('items:handover_new')}?item={tracking_number}")
    form = page.get_by_test_id("handover-form")
    expect(form.get_by_label(f"Chọn {tracking_number}")).to_be_checked()
    form.get_by_label("Người nhận bàn giao").select_option(label=person_label(taker))
    form.get_by_role("button", name="Lập phiếu và ký giao").click()
    expect(page.locator("h1")).to_contain_text(label(HandoverStatus.OPEN))


def out_for_delivery(page: Page, tracking_number: str) -> None:
    """The holder ticks the item in 'Bưu gửi tôi đang giữ' and records EDG."""
    page.goto(reverse("items:my_items"))
    form = page.get_by_test_id("bulk-form")
    form.get_by_label(f"Chọn {tracking_number}").check()
    form.get_by_label("Thao tác").select_option("EDG")
    form.get_by_role("button", name="Ghi sự kiện").click()
    expect(success(page)).to_contain_text("Đem đi phát")
    row = page.get_by_test_id("bulk-form").get_by_role("row").filter(has_text=tracking_number)
    expect(row).to_contain_text(label(ItemStatus.OUT_FOR_DELIVERY))


def attempt_failed(page: Page, tracking_number: str, reason_code: str) -> None:
    page.goto(reverse("items:my_items"))
    row = page.get_by_test_id("bulk-form").get_by_role("row").filter(has_text=tracking_number)
    row.get_by_role("link", name="Phát không thành công").click()
    form = page.get_by_test_id("failed-form")
    form.get_by_label("Lý do phát không thành công").select_option(reason_code)
    form.get_by_role("button", name="Ghi nhận").click()
    expect(success(page)).to_contain_text(f"Đã ghi phát không thành công bưu gửi {tracking_number}")


def hand_to_agency(page: Page, agency, kind: str, taker) -> None:
    """The postman, at the agency's desk: the clerk writes their name and signs on his screen."""
    page.goto(reverse("items:deliver"))
    row = page.get_by_role("row").filter(has_text=agency.name)
    row.get_by_role("link", name="Chuyển hoàn" if kind == HandoverKind.RETURN else "Phát", exact=True).click()
    form = page.get_by_test_id("deliver-form")
    form.get_by_label("Văn thư ký nhận").select_option(label=person_label(taker))
    form.get_by_label("Họ tên người ký nhận (tự ghi)").fill(taker.full_name)
    draw_signature(page, form)
    form.get_by_role("button", name="Xác nhận đã giao").click()
    expect(page.locator("h1")).to_contain_text(label(HandoverStatus.COMPLETED))
    expect(page.get_by_role("img", name=f"Chữ ký của {taker.full_name}")).to_be_visible()


def accept_at_counter(page: Page, agency, clerk, tracking_numbers: list[str]) -> None:
    """The counter clerk accepts registered items from the agency clerk standing at the counter,
    who writes their name and signs on the counter clerk's screen."""
    page.goto(reverse("items:counter_accept"))
    page.get_by_role("combobox", name=re.compile(r"^Cơ quan gửi")).select_option(label=agency_label(agency))
    page.get_by_role("button", name="Chọn").click()
    form = page.get_by_test_id("counter-form")
    form.get_by_label("Văn thư mang bưu gửi đến").select_option(label=person_label(clerk))
    form.get_by_label("Số hiệu bưu gửi").fill("\n".join(tracking_numbers))
    form.get_by_label("Họ tên văn thư (tự ghi)").fill(clerk.full_name)
    draw_signature(page, form)
    form.get_by_role("button", name="Xác nhận chấp nhận").click()
    expect(success(page)).to_contain_text(f"Đã chấp nhận {len(tracking_numbers)} bưu gửi")
    expect(page.locator("h1")).to_contain_text(label(HandoverStatus.COMPLETED))
