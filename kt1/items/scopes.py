"""Who sees which items and custody records (envelope data; agency-private fields have their own
rule in kt1.items.private).

* agency clerks: items their agency sent or is to receive;
* postal staff: items held by them, now in their province's postal network, or that ever had a
  custody event at a facility of their subtree, and items of their province's agencies registered
  and waiting to be accepted (envelope data only);
* administrators, oversight, police, finance: items sent from or to an agency of their province.
"""

from django.db.models import Exists, OuterRef, Q

from kt1.accounts.choices import POSTAL_ROLES
from kt1.core.permissions import EVERYTHING, NOTHING, Scope, any_of, scope_rule


def item_condition(scope: Scope, prefix: str = "") -> Q:
    from .models import CustodyEvent

    p = prefix
    conditions = []
    facility_ids: set[int] = set()
    postal_provinces: set[int] = set()
    for g in scope.grants:
        if g.nation:
            return EVERYTHING
        if g.role == "agency_clerk":
            conditions.append(Q(**{f"{p}sender_agency_id": g.agency_id}) | Q(**{f"{p}recipient_agency_id": g.agency_id}))
        elif g.role in POSTAL_ROLES:
            facility_ids |= g.facility_ids
            postal_provinces.add(g.province_id)
        else:
            conditions.append(Q(**{f"{p}sender_agency__province_id": g.province_id})
                              | Q(**{f"{p}recipient_agency__province_id": g.province_id}))
    if postal_provinces:
        # Items registered and waiting for the post to accept them (counter or pickup), and items
        # now anywhere in the province's postal network: whoever is handed one must be able to scan it.
        conditions.append(Q(**{f"{p}status": "registered", f"{p}sender_agency__province_id__in": postal_provinces}))
        conditions.append(Q(**{f"{p}facility__province_id__in": postal_provinces}))
    if facility_ids:
        # A correlated EXISTS, not IN (subquery): inside an OR, PostgreSQL would otherwise build the
        # whole set of items ever touched by these facilities (millions) before filtering.
        touched = CustodyEvent.objects.filter(item_id=OuterRef(f"{p}pk" if p else "pk"), facility_id__in=facility_ids)
        conditions.append(Q(**{f"{p}facility_id__in": facility_ids}) | Q(Exists(touched)))
    if scope.user_id and (facility_ids or any(g.role == "agency_clerk" for g in scope.grants)):
        conditions.append(Q(**{f"{p}holder_id": scope.user_id}))
    return any_of(conditions)


@scope_rule("items.item")
def item_scope(scope: Scope, action: str) -> Q:
    return item_condition(scope)


@scope_rule("items.custodyevent")
def custody_event_scope(scope: Scope, action: str) -> Q:
    if action != "view":
        return NOTHING
    q = item_condition(scope)
    if q is EVERYTHING or q is NOTHING:
        return q
    from .models import Item

    return Q(item_id__in=Item.objects.filter(q).values("pk"))


@scope_rule("items.handoverlist")
def handover_scope(scope: Scope, action: str) -> Q:
    conditions = [Q(giver_id=scope.user_id), Q(taker_id=scope.user_id), Q(created_by_id=scope.user_id)]
    for g in scope.grants:
        if g.nation:
            return EVERYTHING
        if g.role == "agency_clerk":
            conditions.append(Q(agency_id=g.agency_id))
        elif g.role == "supervisor":
            conditions.append(Q(facility_id__in=g.facility_ids))
        elif g.role in ("admin", "police", "oversight"):
            conditions.append(Q(facility__province_id=g.province_id) | Q(agency__province_id=g.province_id))
    return any_of(conditions) if scope.user_id else NOTHING


@scope_rule("items.pickuprequest")
def pickup_scope(scope: Scope, action: str) -> Q:
    conditions = []
    for g in scope.grants:
        if g.nation:
            return EVERYTHING
        if g.role == "agency_clerk":
            conditions.append(Q(agency_id=g.agency_id))
        elif g.role in ("counter_clerk", "supervisor", "postman") or g.role == "admin" and action == "view":
            conditions.append(Q(agency__province_id=g.province_id))
    return any_of(conditions)


@scope_rule("items.serialrange")
def serial_range_scope(scope: Scope, action: str) -> Q:
    conditions = []
    for g in scope.grants_for("admin", "supervisor"):
        if g.nation:
            return EVERYTHING
        conditions.append(Q(facility__province_id=g.province_id))
    return any_of(conditions)


@scope_rule("items.deliveryfailurereason")
def failure_reason_scope(scope: Scope, action: str) -> Q:
    if action == "view":
        return EVERYTHING if scope.user_id else NOTHING
    return EVERYTHING if any(g.role == "admin" for g in scope.grants) else NOTHING
