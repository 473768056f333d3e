"""Incidents are seen by the post of the province, its administrators, oversight and the police."""

from django.db.models import Q

from kt1.core.permissions import EVERYTHING, Scope, any_of, scope_rule


def _province(scope: Scope, field: str) -> Q:
    conditions = []
    for g in scope.grants:
        if g.nation:
            return EVERYTHING
        if g.role in ("agency_clerk", "finance"):
            continue
        conditions.append(Q(**{field: g.province_id}))
    return any_of(conditions)


@scope_rule("incidents.incident")
def incident_scope(scope: Scope, action: str) -> Q:
    return _province(scope, "facility__province_id")


@scope_rule("incidents.incidentrecord")
def record_scope(scope: Scope, action: str) -> Q:
    return _province(scope, "incident__facility__province_id")
