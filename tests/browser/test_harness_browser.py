"""Proves the browser suite: real Chromium, live server, our sign-in page and its static files."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Response, expect


def test_sign_in_page_shows_a_username_field(page: Page, live_server, request):
    assert request.node.get_closest_marker("browser") is not None
    broken: list[str] = []

    def note_broken(response: Response) -> None:
        if response.url.startswith(live_server.url) and response.status >= 400:
            broken.append(f"{response.status} {response.url}")

    page.on("response", note_broken)
    response = page.goto("/accounts/login/")
    page.wait_for_load_state("load")

    assert response is not None and response.status == 200
    assert page.url.startswith(live_server.url)
    form = page.locator("form").filter(has=page.locator("input[name='username']"))
    expect(form).to_have_count(1)
    expect(form.locator("input[name='username']")).to_be_visible()
    expect(form.locator("input[name='password']")).to_be_visible()
    expect(page).to_have_title(re.compile(r"\S"))
    # The stylesheet and scripts the page links to are served (live_server serves static files).
    assert broken == []
