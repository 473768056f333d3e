#!/usr/bin/env python3
"""Verify a KT1 audit export offline, without KT1 or its database.

    python3 verify_audit_export.py export.jsonl --public-key <base64 Ed25519 public key>

Needs only Python 3.11+ and the `cryptography` package. Checks, in order: the sequence is gap-free
from 1; every prev_hash is the previous entry's hash; every entry_hash equals
SHA-256(prev_hash || canonical JSON of the payload); every checkpoint is signed by a key you trust
(--public-key, repeatable; the keys in the file are NOT trusted by themselves) and matches the entry
it names. Exit status 0 when everything holds, 1 naming the first bad entry otherwise.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys


def canonical_json(payload) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def verify(lines, trusted_keys: set[str]) -> tuple[bool, str]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    expected_seq, prev = 1, "0" * 64
    hashes: dict[int, str] = {}
    checkpoints = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        kind = record.get("type")
        if kind == "header":
            continue
        if kind == "entry":
            payload = record["payload"]
            seq = payload["seq"]
            if seq != expected_seq:
                return False, f"entry #{expected_seq}: sequence gap (found #{seq})"
            if record["prev_hash"] != prev:
                return False, f"entry #{seq}: prev_hash does not match entry #{seq - 1}"
            digest = hashlib.sha256(record["prev_hash"].encode() + canonical_json(payload)).hexdigest()
            if digest != record["entry_hash"]:
                return False, f"entry #{seq}: content does not match its hash"
            hashes[seq] = prev = record["entry_hash"]
            expected_seq += 1
        elif kind == "checkpoint":
            if record["public_key"] not in trusted_keys:
                return False, f"checkpoint #{record['seq']}: signed by an untrusted key"
            message = canonical_json({"chain": record["chain"], "seq": record["seq"], "entry_hash": record["entry_hash"],
                                      "created_at": record["created_at"]})
            try:
                Ed25519PublicKey.from_public_bytes(base64.b64decode(record["public_key"])).verify(
                    base64.b64decode(record["signature"]), message)
            except (InvalidSignature, ValueError):
                return False, f"checkpoint #{record['seq']}: invalid signature"
            if hashes.get(record["seq"]) != record["entry_hash"]:
                return False, f"entry #{record['seq']}: does not match its signed checkpoint"
            checkpoints += 1
        else:
            return False, f"line {number}: unknown record type {kind!r}"
    if checkpoints == 0:
        return False, "no signed checkpoint: the export proves nothing against a full rewrite"
    return True, f"{expected_seq - 1} entries and {checkpoints} signed checkpoints verified"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export")
    parser.add_argument("--public-key", action="append", required=True, help="trusted base64 Ed25519 public key")
    args = parser.parse_args(argv)
    with open(args.export, encoding="utf-8") as handle:
        ok, message = verify(handle, set(args.public_key))
    print(("OK: " if ok else "FAILED: ") + message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
