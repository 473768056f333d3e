"""Who may be told a bag's seal number.

The seal check on arrival is only worth something if the receiving side reads the number off the
physical seal (kẹp chì) and the system compares it with the number recorded at sealing
(`services.bag_receive`; a mismatch opens an incident). So until the bag is received, the staff
of its destination are not told the number: not on a page, not in a printed bag list, not in the
API, and a search by seal number does not find the bag for them (it would confirm a guess).

The rule lives here once; the web pages (the `seal_number` template tag), the printable bag list,
the bag search and the API all ask it.
"""

from __future__ import annotations

from django.db.models import Q

from kt1.core.permissions import scope_of

from .choices import BagStatus
from .models import Bag

# From sealing until the destination has received the bag and checked the seal.
AWAITING_SEAL_CHECK = (BagStatus.SEALED, BagStatus.IN_TRANSIT)


def seal_hidden_from(viewer, bag: Bag) -> bool:
    """True while `bag` waits for its seal check and `viewer` works at its destination (that
    facility or one above it) without working at its origin. The origin's staff, the crew
    carrying the bag, supervisors over both ends, oversight and police see the number; everyone
    sees it once the bag is received."""
    if bag.status not in AWAITING_SEAL_CHECK:
        return False
    facilities = scope_of(viewer).facility_ids
    return bag.destination_id in facilities and bag.origin_id not in facilities


def seal_visible_q(viewer) -> Q:
    """The bags whose seal number `viewer` may be told, as a filter: the same rule as
    `seal_hidden_from`, for queries that match on the number."""
    facilities = scope_of(viewer).facility_ids
    if not facilities:
        return Q()
    hidden = Q(status__in=AWAITING_SEAL_CHECK, destination_id__in=facilities) & ~Q(origin_id__in=facilities)
    return ~hidden
