"""Writing and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from kt1.core.clock import now
from kt1.core.context import current_origin
from kt1.core.records import insert_rows

from . import registry, signing
from .models import AuditCheckpoint, AuditEntry, AuditHead

MAIN_CHAIN = "main"
GENESIS_HASH = "0" * 64


def canonical_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_payload(entry: AuditEntry) -> dict[str, Any]:
    """What is hashed: everything an inspector relies on, in a stable form."""
    return {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.isoformat(),
        "action": entry.action,
        "actor_id": entry.actor_id,
        "actor_username": entry.actor_username,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "data": entry.data,
        "ip": entry.ip,
        "channel": entry.channel,
    }


def chain_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical_json(payload)).hexdigest()


def audit_record(*, action: str, actor=None, obj=None, data: dict[str, Any] | None = None, actor_username: str = "") -> AuditEntry:
    """Append one entry to the audit chain, inside the caller's transaction.

    Called by services after they validated and changed state, so the entry commits or rolls back
    with the change it describes. The action must be registered (registry.get raises otherwise).
    """
    registry.get(action)
    origin = current_origin()
    batch = _batch_head.get()
    if batch is not None and batch.deferred:
        # Chained when the batch ends (audit_batch(deferred=True)): seq and hashes come then.
        entry = _entry(action, actor, obj, data, actor_username, origin)
        batch.pending.append(entry)
        return entry
    # Inside audit_batch() the caller's transaction is the unit: no savepoint per entry.
    with transaction.atomic(savepoint=batch is None):
        if batch is not None and batch.head is not None:
            head = batch.head  # locked by this transaction's first entry; seq and hash kept in memory
        else:
            head = _lock_head()
            if batch is not None:
                batch.head = head
        entry = _entry(action, actor, obj, data, actor_username, origin)
        entry.seq = head.last_seq + 1
        entry.prev_hash = head.last_hash
        entry.entry_hash = chain_hash(entry.prev_hash, entry_payload(entry))
        if batch is None:
            entry.save()
        else:
            batch.pending.append(entry)  # inserted together when the batch ends (nothing reads them before)
        head.last_seq = entry.seq
        head.last_hash = entry.entry_hash
        if batch is None:
            head.save(update_fields=["last_seq", "last_hash"])
        if entry.seq % checkpoint_interval() == 0:
            _sign_checkpoint(entry)
    return entry


def _entry(action: str, actor, obj, data, actor_username: str, origin) -> AuditEntry:
    return AuditEntry(
        occurred_at=now(),
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_username=actor_username or (getattr(actor, "username", "") or ""),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        data=json.loads(canonical_json(data or {})),
        ip=origin.ip,
        channel=origin.channel,
    )


def _lock_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(chain=MAIN_CHAIN).first()
    if head is None:
        AuditHead.objects.get_or_create(chain=MAIN_CHAIN)
        head = AuditHead.objects.select_for_update().get(chain=MAIN_CHAIN)
    return head


class _BatchHead:
    def __init__(self, deferred: bool = False) -> None:
        self.head: AuditHead | None = None
        self.pending: list[AuditEntry] = []
        self.deferred = deferred

    def mark(self) -> tuple[int, str] | int | None:
        if self.deferred:
            return len(self.pending)
        return (self.head.last_seq, self.head.last_hash) if self.head is not None else None

    def chain(self) -> None:
        """Deferred entries: lock the head now, give them their seq and hashes, in order."""
        self.head = _lock_head()
        interval = checkpoint_interval()
        due = []
        for entry in self.pending:
            entry.occurred_at = now()  # the log's time follows its order
            entry.seq = self.head.last_seq + 1
            entry.prev_hash = self.head.last_hash
            entry.entry_hash = chain_hash(entry.prev_hash, entry_payload(entry))
            self.head.last_seq, self.head.last_hash = entry.seq, entry.entry_hash
            if entry.seq % interval == 0:
                due.append(entry)
        self._due = due


_batch_head: ContextVar[_BatchHead | None] = ContextVar("kt1_audit_batch_head", default=None)


@contextmanager
def audit_batch(*, deferred: bool = False) -> Iterator[_BatchHead]:
    """Many entries in one transaction (a batch of custody events): the first entry locks the
    chain head as usual; the following ones chain onto it in memory, and the head row is written
    once when the block ends, inside the same transaction, with the entries themselves (inserted
    together; their seq and hash are final when audit_record returns). The head stays locked until
    commit, so the chain is exactly what entry-by-entry writing gives: gap-free, each entry on its
    predecessor.

    Must run inside transaction.atomic(). The block must not roll back to a savepoint taken inside
    it after an entry was written (the in-memory head would run ahead of the rows); `mark()` lets
    the caller check that nothing was written before it handles an error and goes on.

    deferred=True: the entries are chained only when the block ends, so the head is locked for
    the chaining and the commit alone, not while the caller works out what to record (a batch of
    custody events checks 500 events meanwhile, and other batches can check theirs). Their seq and
    hashes are unknown until then: the caller reads them after the block (the custody batch
    stamps its events' audit_seq when it writes them)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_batch() needs a transaction")
    if _batch_head.get() is not None:
        yield _batch_head.get()
        return
    batch = _BatchHead(deferred=deferred)
    token = _batch_head.set(batch)
    try:
        yield batch
    finally:
        _batch_head.reset(token)
    if deferred and batch.pending:
        batch.chain()
    if batch.pending:
        insert_rows(batch.pending)
    if batch.head is not None:
        batch.head.save(update_fields=["last_seq", "last_hash"])
    for entry in getattr(batch, "_due", ()):
        _sign_checkpoint(entry)


def checkpoint_interval() -> int:
    from django.conf import settings

    return max(1, int(getattr(settings, "KT1_AUDIT_CHECKPOINT_EVERY", 1000)))


def checkpoint_message(chain: str, seq: int, entry_hash: str, created_at: str) -> bytes:
    return canonical_json({"chain": chain, "seq": seq, "entry_hash": entry_hash, "created_at": created_at})


def _sign_checkpoint(entry: AuditEntry) -> AuditCheckpoint:
    created = now()
    message = checkpoint_message(MAIN_CHAIN, entry.seq, entry.entry_hash, created.isoformat())
    return AuditCheckpoint.objects.create(
        chain=MAIN_CHAIN, seq=entry.seq, entry_hash=entry.entry_hash, created_at=created, key_id=signing.key_id(),
        public_key=signing.public_key_b64(), signature=signing.sign(message),
    )


def audit_checkpoint() -> AuditCheckpoint | None:
    """Sign the current head now (run periodically, e.g. hourly, by `kt1 audit_checkpoint`; one is
    also signed automatically every KT1_AUDIT_CHECKPOINT_EVERY entries)."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(chain=MAIN_CHAIN).first()
        if head is None or head.last_seq == 0:
            return None
        existing = AuditCheckpoint.objects.filter(chain=MAIN_CHAIN, seq=head.last_seq).first()
        if existing:
            return existing
        return _sign_checkpoint(AuditEntry.objects.get(seq=head.last_seq))


@dataclass
class VerificationResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def audit_verify(*, batch_size: int = 5000) -> VerificationResult:
    """Re-walk the whole chain: gap-free sequence from 1, each prev_hash is the previous entry's
    hash, each stored hash matches a recomputation, and the head matches the last entry."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            return VerificationResult(False, checked, expected_seq, f"sequence gap: expected {expected_seq}, found {entry.seq}")
        if entry.prev_hash != expected_prev:
            return VerificationResult(False, checked, entry.seq, "prev_hash does not match the previous entry")
        if chain_hash(entry.prev_hash, entry_payload(entry)) != entry.entry_hash:
            return VerificationResult(False, checked, entry.seq, "content does not match its hash")
        expected_prev = entry.entry_hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(chain=MAIN_CHAIN).first()
    if head and (head.last_seq != checked or head.last_hash != expected_prev):
        return VerificationResult(False, checked, checked + 1, "chain is shorter than its head records (truncated)")
    bad = _verify_checkpoints(checked)
    if bad:
        return VerificationResult(False, checked, bad[0], bad[1])
    for verifier in registry.verifiers():
        bad = verifier()
        if bad:
            return VerificationResult(False, checked, bad[0], bad[1])
    return VerificationResult(True, checked)


def trusted_public_keys() -> set[str]:
    """Keys whose signatures count: the current key plus retired ones listed in settings."""
    from django.conf import settings

    return {signing.public_key_b64(), *getattr(settings, "KT1_AUDIT_TRUSTED_KEYS", [])}


def _verify_checkpoints(length: int) -> tuple[int, str] | None:
    trusted = trusted_public_keys()
    hashes = {}
    checkpoints = list(AuditCheckpoint.objects.filter(chain=MAIN_CHAIN).order_by("seq"))
    if checkpoints:
        hashes = dict(AuditEntry.objects.filter(seq__in=[c.seq for c in checkpoints]).values_list("seq", "entry_hash"))
    for cp in checkpoints:
        message = checkpoint_message(cp.chain, cp.seq, cp.entry_hash, cp.created_at.isoformat())
        if cp.public_key not in trusted or not signing.verify(cp.public_key, message, cp.signature):
            return cp.seq, f"checkpoint at {cp.seq} has an invalid signature"
        if cp.seq > length:
            return length + 1, f"checkpoint at {cp.seq} is beyond the end of the chain (truncated)"
        if hashes.get(cp.seq) != cp.entry_hash:
            return cp.seq, f"entry {cp.seq} no longer matches its signed checkpoint (history rewritten)"
    return None
