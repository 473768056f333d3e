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

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, Locator, Page, expect

from kt1.accounts.demo import totp_token
from kt1.items.models import Item
from tests import factories as f

PNG_DATA_URI = re.compile(r"^data:image/png;base64,")


def sign_in(new_context: Callable[..., BrowserContext], user) -> Page:
    """A fresh browser context signed in as `user` (password and two-factor code), on the home page.

    The browser asks for Vietnamese, as the staff's browsers do (the selectors below read the
    Vietnamese labels). Confirmation dialogs (data-confirm) are accepted, as the person would
    click OK."""
    key = secrets.token_bytes(20)
    # django-otp's own device model (not a KT1 domain model): the authenticator the person enrolled.
    TOTPDevice.objects.create(user=user, name="browser test", confirmed=True, key=key.hex())
    # Vietnamese is the source language; the pages answer in English to an English browser.
    context = new_context(locale="vi-VN")
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
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None, "signature pad not displayed"
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.12, y + h * 0.65)
    page.mouse.down()
    for i in range(1, 9):
        page.mouse.move(x + w * (0.12 + i * 0.09), y + h * (0.3 if i % 2 else 0.7), steps=4)
    page.mouse.up()
    stored = pad.locator("xpath=ancestor::*[@data-signature-pad][1]").locator("input[type='hidden']")
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
