"""Every audit action is declared once, with a stable code and a message template.

A duplicate code fails at import (Sentry's audit_log/register.py model), so two features can never
silently share a code and confuse an inspector.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditAction:
    code: str
    message: str  # Vietnamese template, formatted with the entry's data
    security: bool = False  # shown on the security log for the police and supervisors


_ACTIONS: dict[str, AuditAction] = {}


def register(code: str, message: str, *, security: bool = False) -> AuditAction:
    if code in _ACTIONS:
        raise RuntimeError(f"audit action {code!r} registered twice")
    action = AuditAction(code=code, message=message, security=security)
    _ACTIONS[code] = action
    return action


def get(code: str) -> AuditAction:
    return _ACTIONS[code]


def all_actions() -> list[AuditAction]:
    return sorted(_ACTIONS.values(), key=lambda a: a.code)


# --- verifiers --------------------------------------------------------------------------------
# Apps whose records are sealed in the chain (custody events) register a function that checks
# their rows still match what was chained; `audit_verify` runs them after the chain itself.
# Each returns None when all is well, or (first_bad_seq, problem).

_VERIFIERS: list = []


def register_verifier(func):
    if func not in _VERIFIERS:
        _VERIFIERS.append(func)
    return func


def verifiers() -> list:
    return list(_VERIFIERS)
