"""State machines as data. A table lists the allowed edges and the permission each needs;
`check` raises IllegalTransition (rendered as 409) for anything else."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .errors import Conflict


class IllegalTransition(Conflict):
    code = "illegal_transition"


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    permission: str


class TransitionTable:
    def __init__(self, *, name: str, edges: list[Transition]):
        self.name = name
        self._edges = {(e.source, e.target): e for e in edges}
        if len(self._edges) != len(edges):
            raise RuntimeError(f"duplicate edge in state machine {name}")

    def check(self, source: str, target: str) -> Transition:
        edge = self._edges.get((source, target))
        if edge is None:
            raise IllegalTransition(
                _("Không thể chuyển từ trạng thái “%(source)s” sang “%(target)s”.") % {"source": source, "target": target},
                detail={"machine": self.name, "from": source, "to": target},
            )
        return edge

    def targets_from(self, source: str) -> list[str]:
        return [t for (s, t) in self._edges if s == source]
