"""Export of the audit chain for an inspector, verifiable offline with tools/verify_audit_export.py.

JSON Lines: a header (format, chain, trusted public keys), every entry (the hashed payload plus
prev_hash and entry_hash) and every signed checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from kt1.core.clock import now

from .models import AuditCheckpoint, AuditEntry
from .services import MAIN_CHAIN, entry_payload, trusted_public_keys

FORMAT = "kt1-audit-export/1"


def export_lines(batch_size: int = 5000) -> Iterator[str]:
    header = {"type": "header", "format": FORMAT, "chain": MAIN_CHAIN, "exported_at": now().isoformat(),
              "public_keys": sorted(trusted_public_keys()),
              "hash": "sha256(prev_hash_hex_ascii || canonical_json(payload))",
              "canonical_json": "UTF-8, keys sorted, separators (',', ':'), no ASCII escaping"}
    yield json.dumps(header, ensure_ascii=False)
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=batch_size):
        yield json.dumps({"type": "entry", "payload": entry_payload(entry), "prev_hash": entry.prev_hash,
                          "entry_hash": entry.entry_hash}, ensure_ascii=False)
    for cp in AuditCheckpoint.objects.filter(chain=MAIN_CHAIN).order_by("seq"):
        yield json.dumps({"type": "checkpoint", "chain": cp.chain, "seq": cp.seq, "entry_hash": cp.entry_hash,
                          "created_at": cp.created_at.isoformat(), "public_key": cp.public_key,
                          "signature": cp.signature}, ensure_ascii=False)
