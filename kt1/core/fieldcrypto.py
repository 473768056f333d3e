"""Encryption at rest for agency-private data (registry numbers, document numbers, summaries).

Keys are Fernet keys (AES-128-CBC + HMAC-SHA256) from settings.KT1_FIELD_KEYS, newest first. Every
write uses the newest key; reads try each key, so rotation is: put a new key first, keep the old
ones, run `kt1 rotate_field_keys` to re-encrypt, then drop the old keys (docs/operations.md).
Without configured keys (the demo and the tests) a key is derived from SECRET_KEY; production
settings refuse to start without KT1_FIELD_KEYS.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derived_key() -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kt1-field-encryption", info=b"v1")
    return base64.urlsafe_b64encode(hkdf.derive(settings.SECRET_KEY.encode()))


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret: str) -> MultiFernet:
    material = [k.encode() for k in keys] or [_derived_key()]
    return MultiFernet([Fernet(k) for k in material])


def fernet() -> MultiFernet:
    return _fernet(tuple(getattr(settings, "KT1_FIELD_KEYS", []) or []), settings.SECRET_KEY)


def encrypt_json(value: dict[str, Any]) -> str:
    return fernet().encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken as exc:  # a key was dropped before rotation finished: say so loudly
        raise RuntimeError("agency-private data cannot be decrypted with the configured KT1_FIELD_KEYS") from exc


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode() if token else token
