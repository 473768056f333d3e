"""Signed checkpoints, custody-event sealing and offline verification of an export."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kt1.audit import signing
from kt1.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from kt1.audit.services import audit_verify, chain_hash, checkpoint_message, entry_payload
from kt1.items import services as svc
from kt1.items.choices import EventCode
from kt1.items.models import CustodyEvent
from tests import factories as f

pytestmark = pytest.mark.django_db
TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_audit_export.py"


@pytest.fixture
def every_five(settings):
    settings.KT1_AUDIT_CHECKPOINT_EVERY = 5


@pytest.fixture
def items_world(world, every_five):
    w = world["A"]
    f.cleared(w.people["counter_clerk"], police=w.people["police"])
    f.cleared(w.people["agency_clerk"], police=w.people["police"])
    item = f.item(w.people["agency_clerk"], w.other_agency)
    svc.custody_record(actor=w.people["counter_clerk"], request=svc.CustodyRequest(
        event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.ACCEPTED))
    assert audit_verify().ok
    return item


def rewrite_from(seq: int) -> None:
    """An attacker with database access re-hashes everything after an edit, head included."""
    prev = AuditEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else "0" * 64
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        new = chain_hash(prev, entry_payload(entry))
        AuditEntry.objects.filter(pk=entry.pk).update(prev_hash=prev, entry_hash=new)
        prev = new
    AuditHead.objects.update(last_hash=prev)


def test_checkpoints_are_signed_periodically(items_world):
    checkpoints = list(AuditCheckpoint.objects.order_by("seq"))
    assert checkpoints and all(cp.seq % 5 == 0 for cp in checkpoints)
    cp = checkpoints[0]
    assert cp.public_key == signing.public_key_b64() and cp.key_id == signing.key_id()


def test_forged_rehash_of_the_whole_chain_is_caught(items_world):
    victim = AuditEntry.objects.get(seq=3)
    AuditEntry.objects.filter(pk=victim.pk).update(object_repr="forged")
    rewrite_from(3)
    result = audit_verify()
    assert not result.ok and "checkpoint" in result.problem
    with pytest.raises(CommandError, match="checkpoint"):
        call_command("verify_audit")


def test_a_checkpoint_signed_with_another_key_is_caught(items_world):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    rogue = Ed25519PrivateKey.generate()
    cp = AuditCheckpoint.objects.order_by("seq").first()
    rogue_public = base64.b64encode(signing.public_key_bytes(rogue.public_key())).decode()
    message = checkpoint_message(cp.chain, cp.seq, cp.entry_hash, cp.created_at.isoformat())
    forged = base64.b64encode(rogue.sign(message)).decode()
    AuditCheckpoint.objects.filter(pk=cp.pk).update(public_key=rogue_public, signature=forged)
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == cp.seq


def test_truncation_below_a_checkpoint_is_caught(items_world):
    last_cp = AuditCheckpoint.objects.order_by("-seq").first()
    AuditEntry.objects.filter(seq__gte=last_cp.seq).delete()
    AuditHead.objects.update(last_seq=last_cp.seq - 1,
                             last_hash=AuditEntry.objects.get(seq=last_cp.seq - 1).entry_hash)
    result = audit_verify()
    assert not result.ok and "truncated" in result.problem


def test_custody_event_edited_in_the_database_is_caught(items_world):
    event = CustodyEvent.objects.filter(code="EMA").get()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {CustodyEvent._meta.db_table} SET note = %s WHERE id = %s", ["đã sửa", event.pk])
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == event.audit_seq
    assert str(event.event_uuid) in result.problem


def test_custody_event_deleted_in_the_database_is_caught(items_world):
    event = CustodyEvent.objects.filter(code="EMA").get()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CustodyEvent._meta.db_table} WHERE id = %s", [event.pk])
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == event.audit_seq


def test_custody_rows_are_append_only_in_code(items_world):
    event = CustodyEvent.objects.first()
    with pytest.raises(TypeError):
        CustodyEvent.objects.filter(pk=event.pk).update(note="x")
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()


def _export(tmp_path) -> Path:
    out = tmp_path / "audit.jsonl"
    call_command("export_audit", out=str(out))
    return out


def _offline(path: Path, key: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), str(path), "--public-key", key], capture_output=True, text=True,
                          timeout=60)


def test_export_verifies_offline_and_tampering_is_caught(items_world, tmp_path):
    key = signing.public_key_b64()
    path = _export(tmp_path)
    good = _offline(path, key)
    assert good.returncode == 0 and good.stdout.startswith("OK"), good.stdout + good.stderr

    lines = path.read_text(encoding="utf-8").splitlines()
    tampered = tmp_path / "tampered.jsonl"
    records = [json.loads(line) for line in lines]
    for record in records:
        if record["type"] == "entry" and record["payload"]["seq"] == 2:
            record["payload"]["actor_username"] = "someone.else"
    tampered.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    bad = _offline(tampered, key)
    assert bad.returncode == 1 and "#2" in bad.stdout

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = base64.b64encode(signing.public_key_bytes(Ed25519PrivateKey.generate().public_key())).decode()
    assert _offline(path, stranger).returncode == 1
