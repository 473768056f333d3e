"""Reads of incidents and their written records, always from the viewer's restricted querysets."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from kt1.core.errors import NotFound
from kt1.core.permissions import restrict

from .models import Incident, IncidentRecord, RecordConfirmation

_INCIDENT_RELATED = ("facility", "item", "bag", "reported_by")


def incident_list(*, viewer, kind: str = "", status: str = "", facility: int | None = None, q: str = "",
                  bag=None, item=None) -> QuerySet:
    qs = restrict(Incident.objects.select_related(*_INCIDENT_RELATED), viewer)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if facility:
        qs = qs.filter(facility_id=facility)
    if bag is not None:
        qs = qs.filter(bag=bag)
    if item is not None:
        qs = qs.filter(item=item)
    if q:
        q = q.strip()
        number = q.upper().replace(" ", "")
        qs = qs.filter(Q(number__icontains=number) | Q(item__tracking_number__icontains=number)
                       | Q(bag__identifier__icontains=number) | Q(bag__seal_number__icontains=number)
                       | Q(records__number__icontains=number)).distinct()
    return qs.order_by("-reported_at", "-pk")


def incident_counts(queryset: QuerySet, field: str) -> dict[str, int]:
    """How many incidents of the (already filtered) queryset fall in each value of `field`."""
    rows = queryset.order_by().values(field).annotate(n=Count("pk", distinct=True))
    return {row[field]: row["n"] for row in rows}


def incident_get(*, viewer, pk: int) -> Incident:
    incident = restrict(Incident.objects.select_related(*_INCIDENT_RELATED, "bag__origin", "bag__destination"),
                        viewer).filter(pk=pk).first()
    if incident is None:
        raise NotFound(_("Không tìm thấy sự cố."))
    return incident


def incident_records(*, viewer, incident: Incident) -> QuerySet:
    return restrict(IncidentRecord.objects.filter(incident=incident).select_related("drawn_up_by"), viewer).order_by(
        "drawn_up_at", "pk")


def record_get(*, viewer, pk: int) -> IncidentRecord:
    record = restrict(IncidentRecord.objects.select_related(
        "drawn_up_by", "incident__facility__admin_unit", "incident__item", "incident__bag__origin",
        "incident__bag__destination", "incident__reported_by"), viewer).filter(pk=pk).first()
    if record is None:
        raise NotFound(_("Không tìm thấy biên bản."))
    return record


def record_confirmations(*, record: IncidentRecord) -> QuerySet:
    """Who is named present on a record the viewer already may see (call record_get first), the
    one who drew it up first."""
    return (RecordConfirmation.objects.filter(record=record).select_related("person")
            .order_by(F("confirmed_at").asc(nulls_last=True), "pk"))
