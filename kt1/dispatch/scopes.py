"""Who sees which bags, trips and rounds: postal staff of the province's network (bags move between
facilities, so the receiving side must see them); administrators, oversight and police of the
province read them. Changes are for postal staff of the province; reference data (mix and round
rules) for administrators."""

from django.db.models import Q

from kt1.accounts.choices import POSTAL_ROLES
from kt1.core.permissions import EVERYTHING, NOTHING, Scope, any_of, scope_rule

READERS = frozenset(POSTAL_ROLES | {"admin", "oversight", "police"})


def _province_condition(scope: Scope, fields: tuple[str, ...], roles: frozenset[str]) -> Q:
    conditions = []
    for g in scope.grants:
        if g.role not in roles:
            continue
        if g.nation:
            return EVERYTHING
        conditions.extend(Q(**{field: g.province_id}) for field in fields)
    return any_of(conditions)


def _declare(label: str, *fields: str) -> None:
    def rule(scope: Scope, action: str) -> Q:
        return _province_condition(scope, fields, READERS if action == "view" else frozenset(POSTAL_ROLES))

    scope_rule(label)(rule)


_declare("dispatch.bag", "origin__province_id", "destination__province_id")
_declare("dispatch.bagevent", "bag__origin__province_id", "bag__destination__province_id")
_declare("dispatch.bagitem", "bag__origin__province_id", "bag__destination__province_id")
_declare("dispatch.mailtrip", "route__origin__province_id", "route__destination__province_id")
_declare("dispatch.vehicletrip", "vehicle__facility__province_id")
_declare("dispatch.bagtransfer", "facility__province_id")
_declare("dispatch.deliveryround", "route__facility__province_id")
_declare("dispatch.mailroute", "origin__province_id", "destination__province_id")
_declare("dispatch.vehicle", "facility__province_id")
_declare("dispatch.deliveryroute", "facility__province_id")


def _reference_rule(scope: Scope, action: str) -> Q:
    if action == "view":
        return EVERYTHING if scope.user_id else NOTHING
    return EVERYTHING if any(g.role == "admin" for g in scope.grants) else NOTHING


scope_rule("dispatch.secrecymixrule")(_reference_rule)
scope_rule("dispatch.roundrule")(_reference_rule)
