"""Proof that stored custody events still say what the audit chain sealed.

Each custody event was written together with a `custody.recorded` audit entry whose data is the
event's canonical payload. An edit of the event row, a deleted event or an event inserted without
its entry therefore shows here, even when the chain itself is intact.
"""

from __future__ import annotations

from kt1.audit.models import AuditEntry

from .models import CustodyEvent
from .services import event_payload


def verify_custody_events(batch_size: int = 2000) -> tuple[int, str] | None:
    sealed = AuditEntry.objects.filter(action="custody.recorded")
    events = CustodyEvent.objects.select_related("item").order_by("audit_seq")
    entries = sealed.order_by("seq").values_list("seq", "data").iterator(chunk_size=batch_size)
    for event in events.iterator(chunk_size=batch_size):
        entry = next(entries, None)
        if entry is None:
            return event.audit_seq or 0, f"custody event {event.event_uuid} has no audit entry"
        seq, data = entry
        if event.audit_seq != seq:
            # An entry whose event is gone (deleted) comes first, or the event points elsewhere.
            return seq, f"audit entry {seq} seals custody event {data.get('event_uuid')}, which is missing or moved"
        if data != event_payload(event):
            return seq, f"custody event {event.event_uuid} no longer matches audit entry {seq}"
    leftover = next(entries, None)
    if leftover is not None:
        return leftover[0], f"audit entry {leftover[0]} seals custody event {leftover[1].get('event_uuid')}, which is missing"
    return None
