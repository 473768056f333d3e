"""Who sees which directory rows (declared once for the permission policy).

Agency names and post offices are not secret: everyone acting in a province sees that province's
units, agencies and facilities, because a clerk must pick a recipient and a postman must find an
address. A clerk sees the agencies of their own province; people of another province see nothing.
Only administrators change the directory, within their province (or the nation).
"""

from django.db.models import Q

from kt1.core.permissions import EVERYTHING, NOTHING, Scope, any_of, scope_rule


def _admin_conditions(scope: Scope, province_field: str) -> Q:
    conditions = []
    for g in scope.grants_for("admin"):
        if g.nation:
            return EVERYTHING
        conditions.append(Q(**{province_field: g.province_id}))
    return any_of(conditions)


def _province_conditions(scope: Scope, province_field: str) -> Q:
    conditions = []
    for g in scope.grants:
        if g.nation:
            return EVERYTHING
        conditions.append(Q(**{province_field: g.province_id}))
    return any_of(conditions)


@scope_rule("directory.administrativeunit")
def admin_unit_scope(scope: Scope, action: str) -> Q:
    if action == "view":
        q = _province_conditions(scope, "pk")
        return q if q is EVERYTHING or q is NOTHING else q | _province_conditions(scope, "parent_id")
    q = _admin_conditions(scope, "pk")
    return q if q is EVERYTHING or q is NOTHING else q | _admin_conditions(scope, "parent_id")


def _may_address_items(scope: Scope) -> bool:
    return scope.has("items.register") or scope.has("items.accept")


@scope_rule("directory.agency")
def agency_scope(scope: Scope, action: str) -> Q:
    if action == "recipient":
        # Choosing a recipient: KT1 carries mail between provinces, so whoever registers items may
        # address any agency in the country (name and delivery address are envelope data). Detail
        # pages, contacts and the directory lists stay province-scoped.
        return EVERYTHING if _may_address_items(scope) else NOTHING
    if action == "view":
        return _province_conditions(scope, "province_id")
    return _admin_conditions(scope, "province_id")


@scope_rule("directory.facility")
def facility_scope(scope: Scope, action: str) -> Q:
    if action == "view":
        return _province_conditions(scope, "province_id")
    return _admin_conditions(scope, "province_id")


@scope_rule("directory.agencyaddress")
def address_scope(scope: Scope, action: str) -> Q:
    if action == "recipient":
        return EVERYTHING if _may_address_items(scope) else NOTHING
    if action == "view":
        return _province_conditions(scope, "agency__province_id")
    return _admin_conditions(scope, "agency__province_id")


@scope_rule("directory.agencycontact")
def contact_scope(scope: Scope, action: str) -> Q:
    # Contacts are people's phone numbers: the agency's own clerks, the post and the province's
    # supervising departments need them; clerks of other agencies do not.
    if action == "view":
        conditions = []
        for g in scope.grants:
            if g.nation:
                return EVERYTHING
            if g.role == "agency_clerk":
                conditions.append(Q(agency_id=g.agency_id))
            else:
                conditions.append(Q(agency__province_id=g.province_id))
        return any_of(conditions)
    return _admin_conditions(scope, "agency__province_id")
