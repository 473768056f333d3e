"""Ed25519 keys for audit checkpoints.

The private key comes from settings.KT1_AUDIT_SIGNING_KEY (base64 of the 32-byte seed; production
refuses to start without it). The demo and the tests derive one from SECRET_KEY. Inspectors verify
with the public key alone (`kt1 audit_public_key`), offline (docs/audit-verification.md).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@lru_cache(maxsize=4)
def _private_key(seed_b64: str, secret: str) -> Ed25519PrivateKey:
    if seed_b64:
        seed = base64.b64decode(seed_b64)
    else:
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kt1-audit-signing", info=b"v1").derive(secret.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key() -> Ed25519PrivateKey:
    return _private_key(getattr(settings, "KT1_AUDIT_SIGNING_KEY", "") or "", settings.SECRET_KEY)


def public_key_bytes(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or private_key().public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64() -> str:
    return base64.b64encode(public_key_bytes()).decode()


def key_id(public: bytes | None = None) -> str:
    """Short fingerprint naming the key that signed a checkpoint (keys rotate)."""
    return hashlib.sha256(public or public_key_bytes()).hexdigest()[:16]


def sign(message: bytes) -> str:
    return base64.b64encode(private_key().sign(message)).decode()


def verify(public_b64: str, message: bytes, signature_b64: str) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64)).verify(base64.b64decode(signature_b64), message)
    except (InvalidSignature, ValueError):
        return False
    return True
