"""Reads of dispatch: bags, trips, transfers, rounds; the round-coverage check and trip volumes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from kt1.core.clock import LOCAL_TZ
from kt1.core.errors import NotFound
from kt1.core.permissions import restrict, scope_of
from kt1.directory.models import Agency, Facility

from .choices import BagStatus, RoundStatus, TransferStatus, TripStatus
from .models import (
    Bag,
    BagEvent,
    BagItem,
    BagTransfer,
    DeliveryRound,
    DeliveryRoute,
    MailRoute,
    MailTrip,
    RoundRule,
    SecrecyMixRule,
    Vehicle,
    VehicleTrip,
)
from .policy import seal_visible_q


def bag_list(*, viewer, status: str = "", facility: int | None = None, q: str = "", direction: str = "") -> QuerySet:
    qs = restrict(Bag.objects.select_related("origin", "destination", "holder", "trip"), viewer)
    if status:
        qs = qs.filter(status=status)
    if facility and direction == "out":
        qs = qs.filter(origin_id=facility)
    elif facility and direction == "in":
        qs = qs.filter(destination_id=facility)
    elif facility:
        qs = qs.filter(Q(origin_id=facility) | Q(destination_id=facility))
    if q:
        q = q.strip().upper()
        # A seal number finds only bags whose seal the viewer may be told (else a search confirms a guess).
        qs = qs.filter(Q(identifier__icontains=q) | (Q(seal_number__icontains=q) & seal_visible_q(viewer))
                       | Q(lines__item__tracking_number__icontains=q.replace(" ", ""))).distinct()
    return qs.order_by("-created_at", "-pk")


def bag_get(*, viewer, pk: int) -> Bag:
    bag = restrict(Bag.objects.select_related("origin", "destination", "holder", "trip", "sealed_by", "received_by",
                                              "opened_by"), viewer).filter(pk=pk).first()
    if bag is None:
        raise NotFound(_("Không tìm thấy túi thư."))
    return bag


def bag_get_by_identifier(*, viewer, identifier: str) -> Bag:
    bag = restrict(Bag.objects.all(), viewer).filter(identifier=(identifier or "").strip().upper()).first()
    if bag is None:
        raise NotFound(_("Không tìm thấy túi thư."))
    return bag


def bag_lines(*, bag: Bag) -> QuerySet:
    """Lines of a bag the viewer already may see (call bag_get first): the bag list."""
    return BagItem.objects.filter(bag=bag, removed_at__isnull=True).select_related("item", "item__recipient_agency",
                                                                                 "item__sender_agency")


def bag_events(*, bag: Bag) -> QuerySet:
    return BagEvent.objects.filter(bag=bag).select_related("actor", "giver", "taker", "facility", "item").order_by("seq")


def transfers_waiting_for(*, viewer) -> QuerySet:
    return (restrict(BagTransfer.objects.filter(status=TransferStatus.OPEN, taker=viewer), viewer)
            .select_related("giver", "facility").annotate(n_bags=Count("bags")).order_by("created_at"))


def transfer_get(*, viewer, pk: int) -> BagTransfer:
    transfer = restrict(BagTransfer.objects.select_related("giver", "taker", "facility", "mail_trip"), viewer).filter(
        pk=pk).first()
    if transfer is None:
        raise NotFound(_("Không tìm thấy phiếu giao nhận túi."))
    return transfer


def mail_trip_list(*, viewer, status: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
                   facility: int | None = None) -> QuerySet:
    qs = restrict(MailTrip.objects.select_related("route__origin", "route__destination", "shift", "vehicle_trip"), viewer)
    if status:
        qs = qs.filter(status=status)
    if date_from:
        qs = qs.filter(service_date__gte=date_from)
    if date_to:
        qs = qs.filter(service_date__lte=date_to)
    if facility:
        qs = qs.filter(Q(route__origin_id=facility) | Q(route__destination_id=facility))
    return qs.annotate(n_bags=Count("bags", distinct=True)).order_by("-service_date", "shift__departs_at")


def mail_trip_get(*, viewer, pk: int) -> MailTrip:
    trip = restrict(MailTrip.objects.select_related("route__origin", "route__destination", "shift",
                                                    "vehicle_trip__vehicle", "vehicle_trip__driver",
                                                    "vehicle_trip__escort"), viewer).filter(pk=pk).first()
    if trip is None:
        raise NotFound(_("Không tìm thấy chuyến thư."))
    return trip


def vehicle_trip_list(*, viewer, date: dt.date | None = None) -> QuerySet:
    qs = restrict(VehicleTrip.objects.select_related("vehicle", "driver", "escort"), viewer)
    if date:
        qs = qs.filter(service_date=date)
    return qs.order_by("-service_date", "number")


def round_list(*, viewer, date: dt.date | None = None, postman=None, status: str = "") -> QuerySet:
    qs = restrict(DeliveryRound.objects.select_related("route__facility", "postman"), viewer)
    if date:
        qs = qs.filter(service_date=date)
    if postman is not None:
        qs = qs.filter(postman=postman)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(n_items=Count("lines")).order_by("-service_date", "number")


def round_get(*, viewer, pk: int) -> DeliveryRound:
    rnd = restrict(DeliveryRound.objects.select_related("route__facility", "postman"), viewer).filter(pk=pk).first()
    if rnd is None:
        raise NotFound(_("Không tìm thấy chuyến phát."))
    return rnd


@dataclass(frozen=True)
class RoundCoverage:
    agency: Agency
    required: int
    done: int
    rule: RoundRule | None

    @property
    def ok(self) -> bool:
        return self.done >= self.required


def round_coverage(*, viewer, day: dt.date, facility: Facility | None = None) -> list[RoundCoverage]:
    """For each active agency in the viewer's scope: completed delivery rounds on `day` whose route
    serves the agency's unit, against the rule in force that day for the unit's level (data:
    2 a day; 1 at commune level). Each row names the rule version used."""
    rules = {r.unit_level: r for r in RoundRule.objects.valid_on(day).order_by("unit_level", "-valid_from")}
    routes = restrict(DeliveryRoute.objects.valid_on(day), viewer)
    if facility is not None:
        routes = routes.filter(facility=facility)
    done_by_unit: dict[int, int] = {}
    served_units: set[int] = set()
    counts = (DeliveryRound.objects.filter(route__in=routes, service_date=day, status=RoundStatus.COMPLETED)
              .values("route_id").annotate(n=Count("pk")))
    rounds_by_route = {row["route_id"]: row["n"] for row in counts}
    for route in routes.prefetch_related("admin_units"):
        for unit in route.admin_units.all():
            served_units.add(unit.pk)
            done_by_unit[unit.pk] = done_by_unit.get(unit.pk, 0) + rounds_by_route.get(route.pk, 0)
    agencies = restrict(Agency.objects.valid_on(day).select_related("admin_unit"), viewer).filter(
        admin_unit_id__in=served_units).order_by("name")
    result = []
    for agency in agencies:
        rule = rules.get(agency.admin_unit.level)
        result.append(RoundCoverage(agency, rule.min_rounds_per_day if rule else 0,
                                    done_by_unit.get(agency.admin_unit_id, 0), rule))
    return result


@dataclass(frozen=True)
class VolumeRow:
    period: str
    shift: str
    direction: str  # "out" | "in"
    trips: int
    bags: int
    items: int
    weight_g: int


def trip_volumes(*, viewer, facility: Facility, date_from: dt.date, date_to: dt.date, group: str = "day") -> list[VolumeRow]:
    """Mail-trip volumes of one facility by shift / day / month, outgoing and incoming. Grouping
    is done in Python over the period's trips (a facility runs a few trips a day, so even a year is
    small) to stay identical on SQLite and PostgreSQL."""
    if group not in ("shift", "day", "month"):
        raise ValueError("group must be shift, day or month")
    trips = (restrict(MailTrip.objects.filter(service_date__gte=date_from, service_date__lte=date_to)
                      .exclude(status=TripStatus.CANCELLED), viewer)
             .filter(Q(route__origin=facility) | Q(route__destination=facility))
             .select_related("route", "shift")
             .annotate(n_bags=Count("bags", distinct=True), n_items=Sum("bags__item_count"),
                       weight=Sum("bags__weight_g")))
    rows: dict[tuple, list[int]] = {}
    for trip in trips:
        direction = "out" if trip.route.origin_id == facility.pk else "in"
        period = trip.service_date.strftime("%Y-%m") if group == "month" else trip.service_date.isoformat()
        shift = trip.shift.name if group == "shift" else ""
        key = (period, shift, direction)
        acc = rows.setdefault(key, [0, 0, 0, 0])
        acc[0] += 1
        acc[1] += trip.n_bags or 0
        acc[2] += trip.n_items or 0
        acc[3] += trip.weight or 0
    return [VolumeRow(k[0], k[1], k[2], *v) for k, v in sorted(rows.items())]


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=LOCAL_TZ)
    return start, start + dt.timedelta(days=1)


# --- reference data and lookups for the trip, round and configuration pages -----------------------


def mail_route_list(*, viewer, active_on: dt.date | None = None, from_my_facilities: bool = False) -> QuerySet:
    """Mail routes with their shifts; `from_my_facilities`: only routes leaving a facility the
    viewer works at (the routes they may dispatch)."""
    qs = restrict(MailRoute.objects.select_related("origin", "destination").prefetch_related("shifts"), viewer)
    if active_on:
        qs = qs.valid_on(active_on)
    if from_my_facilities:
        qs = qs.filter(origin_id__in=list(scope_of(viewer).facility_ids))
    return qs.order_by("code")


def mail_route_get(*, viewer, pk: int):
    route = restrict(MailRoute.objects.select_related("origin", "destination"), viewer).filter(pk=pk).first()
    if route is None:
        raise NotFound(_("Không tìm thấy đường thư."))
    return route


def vehicle_list(*, viewer, active_on: dt.date | None = None) -> QuerySet:
    qs = restrict(Vehicle.objects.select_related("facility"), viewer)
    if active_on:
        qs = qs.valid_on(active_on)
    return qs.order_by("registration")


def delivery_route_list(*, viewer, active_on: dt.date | None = None) -> QuerySet:
    qs = restrict(DeliveryRoute.objects.select_related("facility").prefetch_related("admin_units"), viewer)
    if active_on:
        qs = qs.valid_on(active_on)
    return qs.order_by("code")


def delivery_route_get(*, viewer, pk: int) -> DeliveryRoute:
    route = restrict(DeliveryRoute.objects.select_related("facility"), viewer).filter(pk=pk).first()
    if route is None:
        raise NotFound(_("Không tìm thấy tuyến phát."))
    return route


def mix_rule_list(*, viewer) -> QuerySet:
    """Versions of the secrecy mix rule, newest first (global reference data)."""
    return restrict(SecrecyMixRule.objects.all(), viewer).order_by("-valid_from", "-pk")


def round_rule_list(*, viewer, active_on: dt.date | None = None) -> QuerySet:
    qs = restrict(RoundRule.objects.all(), viewer)
    if active_on:
        qs = qs.valid_on(active_on)
    return qs.order_by("unit_level", "-valid_from")


def trips_to_carry(*, viewer) -> QuerySet:
    """Planned mail trips not yet on a vehicle trip that the viewer may dispatch."""
    return (restrict(MailTrip.objects.select_related("route__origin", "route__destination", "shift"), viewer, "change")
            .filter(status=TripStatus.PLANNED, vehicle_trip__isnull=True).order_by("service_date", "shift__departs_at"))


def bags_for_trip(*, viewer, origin_id: int, destination_id: int) -> QuerySet:
    """Sealed bags at a route's origin bound for its destination and on no trip yet."""
    return (restrict(Bag.objects.select_related("holder"), viewer)
            .filter(status=BagStatus.SEALED, origin_id=origin_id, destination_id=destination_id, trip__isnull=True)
            .order_by("sealed_at", "pk"))
