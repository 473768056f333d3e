"""The security log: the police and supervisors read entries about people in their scope; national
administrators read everything."""

from django.db.models import Q

from kt1.core.permissions import EVERYTHING, NOTHING, Scope, scope_rule


@scope_rule("audit.auditentry")
def audit_entry_scope(scope: Scope, action: str) -> Q:
    if action != "view":
        return NOTHING  # append-only: nobody changes an entry
    from kt1.accounts.models import User
    from kt1.accounts.scopes import user_scope

    if any(g.nation for g in scope.grants_for("admin")):
        return EVERYTHING
    people = User.objects.filter(user_scope(scope, "view")).values("pk")
    return Q(actor_id__in=people)
