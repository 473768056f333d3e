"""The custody state machine, as data.

Each edge: from a status, an event code leads to a status, and needs a permission. Location and
security events keep the status. `None` as target means "unchanged".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from kt1.core.transitions import IllegalTransition

from .choices import EventCode as E
from .choices import ItemStatus as S


@dataclass(frozen=True)
class Edge:
    source: str
    code: str
    target: str | None
    permission: str
    moves_custody: bool = False  # the taker becomes the holder


_IN_POST = (S.ACCEPTED, S.DELIVERY_FAILED)
_LIVE = (S.REGISTERED, S.ACCEPTED, S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED)

EDGES: list[Edge] = [
    Edge(S.REGISTERED, E.ACCEPTED, S.ACCEPTED, "items.accept", moves_custody=True),
    Edge(S.REGISTERED, E.CANCELLED, S.CANCELLED, "items.register"),
    *[Edge(s, E.HANDOVER, None, "items.custody", moves_custody=True) for s in (*_IN_POST, S.OUT_FOR_DELIVERY)],
    *[Edge(s, code, None, "items.custody") for s in _IN_POST for code in (E.INTO_SORTING, E.OUT_OF_SORTING,
                                                                            E.AT_DELIVERY_OFFICE)],
    *[Edge(s, E.SEAL_CHECKED, None, "items.custody") for s in _LIVE if s != S.REGISTERED],
    *[Edge(s, E.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY, "items.deliver") for s in _IN_POST],
    Edge(S.OUT_FOR_DELIVERY, E.DELIVERY_FAILED, S.DELIVERY_FAILED, "items.deliver"),
    # Final delivery hands the item to the recipient clerk (or, returning, to the sender clerk); at
    # a counter the clerk may collect an item the post holds.
    *[Edge(s, E.DELIVERED, S.DELIVERED, "items.deliver", moves_custody=True) for s in (S.OUT_FOR_DELIVERY, *_IN_POST)],
    *[Edge(s, E.RETURN_STARTED, S.ACCEPTED, "items.return") for s in _IN_POST],
    # Sealing a bag moves custody of its items to the bag; opening it moves each one to the opener.
    # Only kt1.dispatch records these (items_into_bag / item_out_of_bag), never a client directly.
    *[Edge(s, E.INTO_BAG, S.IN_BAG, "dispatch.bag", moves_custody=True) for s in _IN_POST],
    Edge(S.IN_BAG, E.OUT_OF_BAG, S.ACCEPTED, "dispatch.bag", moves_custody=True),
]
BAG_ONLY_CODES = frozenset({E.INTO_BAG, E.OUT_OF_BAG})
_TABLE = {(e.source, e.code): e for e in EDGES}
assert len(_TABLE) == len(EDGES), "duplicate edge in the custody state machine"


def edge_for(status: str, code: str) -> Edge:
    edge = _TABLE.get((status, code))
    if edge is None:
        raise IllegalTransition(
            _("Không thể ghi sự kiện “%(code)s” khi bưu gửi đang ở trạng thái “%(status)s”.")
            % {"code": E(code).label, "status": S(status).label},
            detail={"status": status, "code": code},
        )
    return edge


def codes_allowed_from(status: str) -> list[str]:
    return [code for (s, code) in _TABLE if s == status]
