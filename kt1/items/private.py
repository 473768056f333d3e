"""Agency-private data on an item (registry number, document number and symbol, summary).

Visible to clerks of the sending and the receiving agency only — never to postal staff, police,
oversight or administrators (DOMAIN §7) — and stored encrypted (kt1.core.fieldcrypto). Every read
is recorded in the security log.
"""

from __future__ import annotations

from django.db import transaction

from kt1.audit.services import audit_record
from kt1.core.fieldcrypto import decrypt_json
from kt1.core.permissions import has_perm, scope_of

from . import actions as A
from .models import Item

LABELS = {
    "registry_number": "Số đăng ký (sổ đi)",
    "document_number": "Số, ký hiệu văn bản",
    "summary": "Trích yếu",
}


def may_read_private(user, item: Item) -> bool:
    return may_read_private_of(user, item.sender_agency_id, item.recipient_agency_id)


def may_read_private_of(user, sender_agency_id: int, recipient_agency_id: int) -> bool:
    """may_read_private for the item between these two agencies."""
    if not has_perm(user, "items.private.view"):
        return False
    agencies = scope_of(user).agency_ids
    return sender_agency_id in agencies or recipient_agency_id in agencies


def private_read(*, viewer, item: Item) -> dict[str, str] | None:
    """The decrypted private fields for a permitted viewer (audited), or None."""
    if not may_read_private(viewer, item):
        return None
    data = decrypt_json(item.private_data)
    if data:
        with transaction.atomic():
            audit_record(action=A.ITEM_PRIVATE_READ.code, actor=viewer, obj=item, data={"fields": sorted(data)})
    return data
