"""The vetting state machine, as data: allowed edges and the permission each needs."""

from kt1.core.errors import Conflict
from kt1.core.transitions import Transition, TransitionTable

from .choices import VettingStatus as S

VETTING = TransitionTable(
    name="vetting",
    edges=[
        Transition(S.REQUESTED, S.APPROVED, "accounts.vetting.decide"),
        Transition(S.REQUESTED, S.REJECTED, "accounts.vetting.decide"),
        Transition(S.APPROVED, S.REVOKED, "accounts.vetting.decide"),
    ],
)

__all__ = ["VETTING", "Conflict"]
