"""Fixtures for the directory page tests."""

from __future__ import annotations

import pytest

from tests.helpers import verified_client


@pytest.fixture
def signed_in(db):
    """signed_in(user) → a test client signed in as that person with the second factor passed."""
    return verified_client
