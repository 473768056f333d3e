"""Reads of items and custody, from the viewer's restricted querysets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from kt1.core.clock import LOCAL_TZ
from kt1.core.errors import NotFound
from kt1.core.permissions import restrict, scope_of
from kt1.core.prepared import SENTINEL, prepared

from . import s10
from .choices import HandoverStatus, ItemStatus, PickupStatus
from .models import CustodyEvent, HandoverList, Item, PickupRequest

_ITEM_RELATED = ("sender_agency", "recipient_agency", "recipient_address__admin_unit", "holder", "facility",
                 "issuing_facility")


def item_get(*, viewer, tracking_number: str) -> Item:
    """Look an item up by identifier. A malformed identifier or wrong check digit raises
    ValidationFailed naming the problem; an unknown or out-of-scope one raises NotFound."""
    number = str(s10.parse(tracking_number))
    # Compiled once per scope (kt1.core.prepared): the lookup is the API's most frequent read. No
    # ordering: the identifier is unique, the model's default order would only cost a sort.
    scope = scope_of(viewer)
    query = prepared(("items.item_get", scope), lambda: (
        restrict(Item.objects.select_related(*_ITEM_RELATED), viewer).filter(tracking_number=SENTINEL).order_by()[:1]))
    found = query.fetch(number)
    item = found[0] if found else None
    if item is None:
        raise NotFound(_("Không tìm thấy bưu gửi %(t)s.") % {"t": number}, code="item_not_found")
    return item


# What the tracking lookup answers (the API's ItemDetailOutput), as one values() row: a lookup then
# builds no model instance (eight of them, with select_related, were a fifth of its CPU).
ITEM_CARD_FIELDS = (
    "pk", "tracking_number", "kind", "weight_g", "secrecy", "urgency", "deliver_by", "zone",
    "sender_agency_id", "sender_agency__name", "sender_agency__short_name",
    "recipient_agency_id", "recipient_agency__name", "recipient_agency__short_name",
    "recipient_address_id", "recipient_address__label", "recipient_address__street",
    "recipient_address__admin_unit__name", "named_recipient", "named_only", "status", "is_returning",
    "holder_id", "holder__full_name", "holder__username", "holder_since",
    "facility_id", "facility__postcode", "facility__name",
    "issuing_facility_id", "issuing_facility__postcode", "issuing_facility__name",
    "registered_at", "accepted_at", "first_attempt_at", "delivered_at",
)


def item_card(*, viewer, tracking_number: str, check=None) -> dict[str, Any]:
    """item_get as one row of ITEM_CARD_FIELDS (a dict), for the tracking lookup. `check`, when
    given, is a kt1.api.auth.UnconfirmedToken: its annotations are read in the same statement and
    its key fills their marked place (the caller decides whether the row holds)."""
    number = str(s10.parse(tracking_number))
    scope = scope_of(viewer)
    if check is None:
        query = prepared(("items.item_card", scope), lambda: (
            restrict(Item.objects.all(), viewer).filter(tracking_number=SENTINEL).order_by()
            .values(*ITEM_CARD_FIELDS)[:1]))
        found = query.fetch(number)
    else:
        query = prepared(("items.item_card.checked", scope), lambda: (
            restrict(Item.objects.all(), viewer).filter(tracking_number=SENTINEL).order_by()
            .annotate(**check.annotations()).values(*ITEM_CARD_FIELDS, *check.annotations())[:1]),
            sentinel=(SENTINEL, check.SENTINEL))
        found = query.fetch(number, check.key)
    if not found:
        raise NotFound(_("Không tìm thấy bưu gửi %(t)s.") % {"t": number}, code="item_not_found")
    return found[0]


def item_events(*, viewer, item: Item) -> QuerySet:
    return (restrict(CustodyEvent.objects.filter(item=item), viewer)
            .select_related("actor", "giver", "taker", "facility", "reason", "handover").order_by("seq"))


def item_list(
    *,
    viewer,
    direction: str = "",  # "outgoing" | "incoming" | "" — relative to the viewer's agencies
    agency_id: int | None = None,
    q: str = "",
    status: str = "",
    secrecy: str = "",
    urgency: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    held_by_me: bool = False,
) -> QuerySet:
    qs = restrict(Item.objects.select_related(*_ITEM_RELATED), viewer)
    agencies = [agency_id] if agency_id else sorted(scope_of(viewer).agency_ids)
    if direction == "outgoing":
        qs = qs.filter(sender_agency_id__in=agencies)
    elif direction == "incoming":
        qs = qs.filter(recipient_agency_id__in=agencies).exclude(status=ItemStatus.CANCELLED)
    elif agency_id:
        qs = qs.filter(Q(sender_agency_id=agency_id) | Q(recipient_agency_id=agency_id))
    if q:
        number = s10.normalise(q)
        qs = qs.filter(Q(tracking_number__icontains=number) | Q(named_recipient__icontains=q)
                       | Q(sender_agency__short_name__icontains=q) | Q(recipient_agency__short_name__icontains=q)
                       | Q(sender_agency__name__icontains=q) | Q(recipient_agency__name__icontains=q))
    if status:
        qs = qs.filter(status=status)
    if secrecy:
        qs = qs.filter(secrecy=secrecy)
    if urgency:
        qs = qs.filter(urgency=urgency)
    if date_from:
        qs = qs.filter(registered_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=LOCAL_TZ))
    if date_to:
        qs = qs.filter(registered_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ))
    if held_by_me:
        qs = qs.filter(holder=viewer)
    return qs.order_by("-registered_at", "-pk")


def status_counts(queryset: QuerySet) -> dict[str, int]:
    rows = queryset.order_by().values("status").annotate(n=Count("pk"))
    counts = {row["status"]: row["n"] for row in rows}
    return {value: counts.get(value, 0) for value in ItemStatus.values}


def handovers_waiting_for(*, viewer) -> QuerySet:
    """Open handover lists this person has to sign as taker (their inbox)."""
    return (restrict(HandoverList.objects.filter(status=HandoverStatus.OPEN, taker=viewer), viewer)
            .select_related("giver", "taker", "agency").annotate(n_lines=Count("lines")).order_by("created_at"))


def handover_list(*, viewer, status: str = "", kind: str = "", q: str = "") -> QuerySet:
    qs = restrict(HandoverList.objects.select_related("giver", "taker", "agency", "facility"), viewer)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(lines__item__tracking_number__icontains=s10.normalise(q))).distinct()
    return qs.annotate(n_lines=Count("lines")).order_by("-created_at")


def handover_get(*, viewer, pk: int) -> HandoverList:
    handover = restrict(HandoverList.objects.select_related("giver", "taker", "agency", "facility", "created_by"),
                        viewer).filter(pk=pk).first()
    if handover is None:
        raise NotFound(_("Không tìm thấy phiếu giao nhận."))
    return handover


def pickup_list(*, viewer, status: str = "") -> QuerySet:
    qs = restrict(PickupRequest.objects.select_related("agency", "address__admin_unit", "postman", "requested_by",
                                                       "facility"), viewer)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(n_items=Count("items")).order_by("-requested_at")


def pickup_get(*, viewer, pk: int) -> PickupRequest:
    pickup = restrict(PickupRequest.objects.select_related("agency", "address__admin_unit", "postman"), viewer).filter(
        pk=pk).first()
    if pickup is None:
        raise NotFound(_("Không tìm thấy yêu cầu thu gom."))
    return pickup


def pickups_open(*, viewer) -> QuerySet:
    return pickup_list(viewer=viewer).filter(status__in=[PickupStatus.REQUESTED, PickupStatus.CONFIRMED])
