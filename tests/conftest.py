"""Shared pytest setup for every suite. Keep it small: model factories live in tests/factories.py.

The suites are run by scripts/run_suites.py (``make test``): everything outside tests/browser runs
on SQLite and again on PostgreSQL; tests/browser runs in Chromium. A test marked ``browser``
anywhere else would run in the database suites without a browser, so collection refuses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BROWSER_DIR = Path(__file__).resolve().parent / "browser"


def misplaced_browser_tests(items: list[pytest.Item]) -> list[str]:
    """Node ids of tests marked ``browser`` that do not live under tests/browser."""
    return [
        item.nodeid
        for item in items
        if item.get_closest_marker("browser") is not None and BROWSER_DIR not in Path(item.path).parents
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
    misplaced = misplaced_browser_tests(items)
    if misplaced:
        raise pytest.UsageError(
            "tests marked 'browser' must live under tests/browser/ (the SQLite and PostgreSQL suites "
            "ignore that folder and run without a browser):\n  " + "\n  ".join(misplaced)
        )


@pytest.fixture
def world(db):
    """Two provinces with one person per role in each: A is 'ours', B is out of scope."""
    from tests.factories import ProvinceWorldFactory

    return {"A": ProvinceWorldFactory(name="Tỉnh A"), "B": ProvinceWorldFactory(name="Tỉnh B")}


@pytest.fixture
def root_admin(db):
    from tests.factories import root_admin as make

    return make()
