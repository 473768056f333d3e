"""Domain errors. Services raise these; one handler per surface (API, pages) renders them.

Each error carries a stable machine code (clients switch on it) and a human message already in the
user's language (gettext_lazy), plus optional per-field details.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: Any, *, code: str | None = None, detail: dict[str, Any] | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.detail = detail or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "detail": _stringify(self.detail)}


class ValidationFailed(ApplicationError):
    """Input is wrong: nothing was changed."""

    code = "invalid"
    http_status = 400


class NotFound(ApplicationError):
    """Missing, or outside the caller's scope: the two are indistinguishable on purpose."""

    code = "not_found"
    http_status = 404


class PermissionDenied(ApplicationError):
    """The caller can see the object but may not perform this action on it."""

    code = "permission_denied"
    http_status = 403


class Conflict(ApplicationError):
    """The object's state does not allow the action (an illegal transition, a duplicate)."""

    code = "conflict"
    http_status = 409


class IdempotencyMismatch(ApplicationError):
    code = "idempotency_mismatch"
    http_status = 422


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stringify(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)
