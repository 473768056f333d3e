"""Fixtures shared by the dispatch tests (each module builds its own `net`)."""

from __future__ import annotations

import pytest

from tests.helpers import verified_client


@pytest.fixture
def c(net):
    """A signed-in (two-factor verified) browser client per role of the module's `net`, made once."""
    clients = {}

    def client(role):
        if role not in clients:
            clients[role] = verified_client(net.people[role])
        return clients[role]

    return client
