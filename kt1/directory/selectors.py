"""Reads of the directory, always starting from the viewer's restricted queryset."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from kt1.core.clock import local_today
from kt1.core.permissions import get_in_scope, restrict

from .models import AdministrativeUnit, Agency, AgencyAddress, AgencyContact, Facility


def _status_filter(qs: QuerySet, status: str | None) -> QuerySet:
    today = local_today()
    if status == "active":
        return qs.valid_on(today)
    if status == "retired":
        return qs.filter(valid_until__isnull=False, valid_until__lte=today)
    return qs


def admin_unit_list(*, viewer, q: str = "", level: str = "", province: int | None = None, status: str = "active") -> QuerySet:
    qs = restrict(AdministrativeUnit.objects.select_related("parent"), viewer)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    if level:
        qs = qs.filter(level=level)
    if province:
        qs = qs.filter(Q(pk=province) | Q(parent_id=province))
    return _status_filter(qs, status).order_by("code")


def admin_unit_get(*, viewer, pk: int, action: str = "view") -> AdministrativeUnit:
    return get_in_scope(AdministrativeUnit.objects.select_related("parent"), viewer, action, pk=pk)


def agency_list(
    *,
    viewer,
    q: str = "",
    agency_type: str = "",
    level: str = "",
    admin_unit: int | None = None,
    mandatory: bool | None = None,
    enrolled: bool | None = None,
    status: str = "active",
) -> QuerySet:
    qs = restrict(Agency.objects.select_related("admin_unit", "province"), viewer)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q))
    if agency_type:
        qs = qs.filter(agency_type=agency_type)
    if level:
        qs = qs.filter(level=level)
    if admin_unit:
        qs = qs.filter(admin_unit_id=admin_unit)
    if mandatory is not None:
        qs = qs.filter(is_mandatory=mandatory)
    if enrolled is not None:
        qs = qs.filter(enrolled_on__isnull=not enrolled)
    return _status_filter(qs, status).order_by("name")


def agency_get(*, viewer, pk: int, action: str = "view") -> Agency:
    return get_in_scope(Agency.objects.select_related("admin_unit", "province", "parent"), viewer, action, pk=pk)


def agency_addresses(*, viewer, agency: Agency, include_retired: bool = False) -> QuerySet:
    qs = restrict(AgencyAddress.objects.filter(agency=agency).select_related("admin_unit"), viewer)
    return qs if include_retired else qs.active()


def agency_contacts(*, viewer, agency: Agency, include_retired: bool = False) -> QuerySet:
    qs = restrict(AgencyContact.objects.filter(agency=agency), viewer)
    return qs if include_retired else qs.active()


def facility_list(*, viewer, q: str = "", kind: str = "", parent: int | None = None, status: str = "active") -> QuerySet:
    qs = restrict(Facility.objects.select_related("parent", "admin_unit", "province"), viewer)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(postcode__icontains=q) | Q(address__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    if parent:
        qs = qs.filter(parent_id=parent)
    return _status_filter(qs, status).order_by("postcode")


def facility_get(*, viewer, pk: int, action: str = "view") -> Facility:
    return get_in_scope(Facility.objects.select_related("parent", "admin_unit", "province"), viewer, action, pk=pk)


@dataclass(frozen=True)
class Coverage:
    mandatory: int
    enrolled: int

    @property
    def percent(self) -> int:
        return round(100 * self.enrolled / self.mandatory) if self.mandatory else 0


def mandatory_coverage(*, viewer) -> Coverage:
    """How many mandatory agencies actually use KT1 (enrolled on or before today): the oversight
    department's headline figure (DOMAIN §3)."""
    today = local_today()
    counts = restrict(Agency.objects.valid_on(today).filter(is_mandatory=True), viewer).aggregate(
        mandatory=Count("pk"), enrolled=Count("pk", filter=Q(enrolled_on__lte=today))
    )
    return Coverage(mandatory=counts["mandatory"], enrolled=counts["enrolled"])
