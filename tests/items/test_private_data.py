"""Agency-private data is encrypted at rest, readable by the two agencies' clerks only, and survives
key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from kt1.audit.models import AuditEntry
from kt1.items.models import Item
from kt1.items.private import may_read_private, private_read
from tests import factories as f

pytestmark = pytest.mark.django_db
SECRET = {"registry_number": "45/UBND-VP", "document_number": "123/QĐ-UBND", "summary": "Về việc điều động cán bộ"}


@pytest.fixture
def item(world):
    w = world["A"]
    return f.item(w.people["agency_clerk"], w.other_agency, private=SECRET)


def raw_private(item) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT private_data FROM {Item._meta.db_table} WHERE id = %s", [item.pk])
        return cursor.fetchone()[0]


def test_stored_encrypted(item):
    stored = raw_private(item)
    assert stored and all(value not in stored for value in SECRET.values())


def test_only_the_two_agencies_clerks_read_it(world, item):
    w = world["A"]
    recipient_clerk = f.person("agency_clerk", agency=w.other_agency)
    assert private_read(viewer=w.people["agency_clerk"], item=item) == SECRET
    assert private_read(viewer=recipient_clerk, item=item) == SECRET
    assert AuditEntry.objects.filter(action="item.private_read").count() == 2
    outsider_agency = f.agency(w.province)
    outsider = f.person("agency_clerk", agency=outsider_agency)
    for user in [outsider, *[w.people[r] for r in ("admin", "counter_clerk", "postman", "supervisor", "police",
                                                   "oversight", "finance")]]:
        assert not may_read_private(user, item)
        assert private_read(viewer=user, item=item) is None


def test_key_rotation_re_encrypts_and_old_key_can_go(settings, world):
    old_key = Fernet.generate_key().decode()
    settings.KT1_FIELD_KEYS = [old_key]
    w = world["A"]
    second = f.item(w.people["agency_clerk"], w.other_agency, private=SECRET)
    encrypted_with_old = raw_private(second)
    new_key = Fernet.generate_key().decode()
    settings.KT1_FIELD_KEYS = [new_key, old_key]
    call_command("rotate_field_keys")
    assert raw_private(second) != encrypted_with_old
    settings.KT1_FIELD_KEYS = [new_key]
    second.refresh_from_db()
    assert private_read(viewer=w.people["agency_clerk"], item=second) == SECRET
    assert AuditEntry.objects.filter(action="item.private_rekeyed").exists()
