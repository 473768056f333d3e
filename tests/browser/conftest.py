"""Playwright against pytest-django's live_server, with Debian's chromium.

``playwright install`` cannot download browsers here, so the launch points at /usr/bin/chromium
(or $KT1_CHROMIUM). ``base_url`` is the live server, so tests write ``page.goto("/accounts/login/")``.
Every test here gets the ``browser`` marker and a transactional database (live_server flushes it
after each test).
"""

from __future__ import annotations

import os

import pytest

# Playwright's sync API keeps an asyncio loop running in the test thread; Django would refuse ORM
# calls from the test body without this. Set here too so plain `pytest tests/browser` works.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("KT1_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium, or set KT1_CHROMIUM)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes", "on"}:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    # Vietnamese is the source language; with the English catalogue installed, LocaleMiddleware
    # answers Chromium's default Accept-Language (en-US) in English. Staff browsers ask for vi.
    return {**browser_context_args, "locale": "vi-VN"}


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url
