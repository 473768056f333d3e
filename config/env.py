"""The one place that reads the process environment.

Every setting that can differ between a clerk's laptop, CI and the national cluster comes from here,
so an operator can read this file to learn every knob there is.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


VAR_DIR = Path(os.environ.get("KT1_VAR_DIR", BASE_DIR / "var"))
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'kt1.sqlite3'}"
SECRET_KEY = os.environ.get("KT1_SECRET_KEY", "")
DEBUG = _bool("KT1_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("KT1_ALLOWED_HOSTS", "").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KT1_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
DEMO = _bool("KT1_DEMO", False)
CONN_MAX_AGE = _int("KT1_CONN_MAX_AGE", 600)
# PostgreSQL: a statement run this many times on a connection is prepared on the server (planned
# once). 0 turns preparing off, e.g. behind a pooler in transaction mode (docs/operations.md).
PG_PREPARE_THRESHOLD = _int("KT1_PG_PREPARE_THRESHOLD", 5)
SECURE_HSTS_SECONDS = _int("KT1_HSTS_SECONDS", 31536000)
# Field encryption keys for agency-private data: comma-separated Fernet keys, newest first.
FIELD_KEYS = [k for k in os.environ.get("KT1_FIELD_KEYS", "").split(",") if k]
# Ed25519 seed (base64, 32 bytes) that signs audit checkpoints; older public keys stay trusted.
AUDIT_SIGNING_KEY = os.environ.get("KT1_AUDIT_SIGNING_KEY", "")
AUDIT_TRUSTED_KEYS = [k for k in os.environ.get("KT1_AUDIT_TRUSTED_KEYS", "").split(",") if k]
AUDIT_CHECKPOINT_EVERY = _int("KT1_AUDIT_CHECKPOINT_EVERY", 1000)
STATIC_ROOT = Path(os.environ.get("KT1_STATIC_ROOT", VAR_DIR / "static"))
