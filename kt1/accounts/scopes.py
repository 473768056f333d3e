"""Who sees which people and personnel records.

* everyone sees themselves;
* an administrator: the people assigned within their province (or everyone, nationally);
* the police: every person assigned within their province (they vet postal staff and clerks);
* a supervisor: the people assigned to their facility and the facilities below it.

Only administrators change people and roles; only the police decide vettings; supervisors and
administrators request vettings and record training for the people they see.
"""

from django.db.models import Q

from kt1.core.permissions import EVERYTHING, Scope, any_of, scope_rule


def _people_in_scope(scope: Scope, roles: tuple[str, ...], prefix: str = "") -> Q:
    from .models import RoleAssignment

    current = RoleAssignment.objects.current()
    conditions = []
    for g in scope.grants_for(*roles):
        if g.nation:
            return EVERYTHING
        if g.role == "supervisor":
            users = current.filter(facility_id__in=g.facility_ids)
        else:
            users = current.filter(
                Q(agency__province_id=g.province_id) | Q(facility__province_id=g.province_id) | Q(province_id=g.province_id)
            )
        conditions.append(Q(**{f"{prefix}pk__in" if not prefix else f"{prefix}__in": users.values("user_id")}))
    return any_of(conditions)


def _self(scope: Scope, field: str) -> Q:
    return Q(**{field: scope.user_id})


@scope_rule("accounts.user")
def user_scope(scope: Scope, action: str) -> Q:
    if action == "view":
        return _self(scope, "pk") | _people_in_scope(scope, ("admin", "police", "supervisor"))
    return _people_in_scope(scope, ("admin",))


@scope_rule("accounts.roleassignment")
def role_assignment_scope(scope: Scope, action: str) -> Q:
    roles = ("admin", "police", "supervisor") if action == "view" else ("admin",)
    q = _people_in_scope(scope, roles, prefix="user_id")
    return q | _self(scope, "user_id") if action == "view" else q


@scope_rule("accounts.vetting")
def vetting_scope(scope: Scope, action: str) -> Q:
    if action == "view":
        return _self(scope, "user_id") | _people_in_scope(scope, ("admin", "police", "supervisor"), prefix="user_id")
    if action == "decide":
        return _people_in_scope(scope, ("police",), prefix="user_id")
    return _people_in_scope(scope, ("admin", "supervisor"), prefix="user_id")


@scope_rule("accounts.training")
def training_scope(scope: Scope, action: str) -> Q:
    if action == "view":
        return _self(scope, "user_id") | _people_in_scope(scope, ("admin", "police", "supervisor"), prefix="user_id")
    return _people_in_scope(scope, ("admin", "supervisor"), prefix="user_id")
