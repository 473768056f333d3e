"""The audit chain catches edits made directly in the database."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from kt1.audit import registry
from kt1.audit.models import AuditEntry, AuditHead
from kt1.audit.services import audit_record, audit_verify, chain_hash, entry_payload
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    prov = f.province()
    for _ in range(3):
        f.agency(prov)
    assert audit_verify().ok
    return list(AuditEntry.objects.order_by("seq"))


def test_clean_chain_verifies_and_command_says_so(chain, capsys):
    call_command("verify_audit")
    assert f"{len(chain)} entries" in capsys.readouterr().out


def test_sequence_is_gap_free_and_linked(chain):
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert all(b.prev_hash == a.entry_hash for a, b in zip(chain, chain[1:], strict=False))


def test_edited_entry_is_caught(chain):
    victim = chain[3]
    AuditEntry.objects.filter(pk=victim.pk).update(data={"short_name": "forged"})
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == victim.seq
    with pytest.raises(CommandError, match=f"#{victim.seq}"):
        call_command("verify_audit")


def test_deleted_entry_is_caught(chain):
    AuditEntry.objects.filter(pk=chain[2].pk).delete()
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == chain[2].seq


def test_reordered_entries_are_caught(chain):
    a, b = chain[1], chain[2]
    AuditEntry.objects.filter(pk=a.pk).update(seq=-1)
    AuditEntry.objects.filter(pk=b.pk).update(seq=a.seq)
    AuditEntry.objects.filter(pk=a.pk).update(seq=b.seq)
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == a.seq


def test_truncated_tail_is_caught(chain):
    AuditEntry.objects.filter(seq__gt=len(chain) - 2).delete()
    result = audit_verify()
    assert not result.ok and "truncated" in result.problem


def test_edit_with_recomputed_hash_breaks_the_next_link(chain):
    victim = chain[2]
    victim.object_repr = "forged"
    new_hash = chain_hash(victim.prev_hash, entry_payload(victim))
    AuditEntry.objects.filter(pk=victim.pk).update(object_repr="forged", entry_hash=new_hash)
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == victim.seq + 1


def test_unregistered_action_is_refused():
    with pytest.raises(KeyError):
        audit_record(action="nobody.registered.this")
    assert not AuditHead.objects.exists() or audit_verify().ok


def test_registering_a_code_twice_fails():
    with pytest.raises(RuntimeError):
        registry.register("user.signed_in", "again")
