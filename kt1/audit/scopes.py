"""The security log: the police and supervisors read entries about people in their scope; national
administrators read everything."""

from django.db.models import CharField, Q
from django.db.models.functions import Cast

from kt1.core.permissions import EVERYTHING, NOTHING, Scope, scope_rule


@scope_rule("audit.auditentry")
def audit_entry_scope(scope: Scope, action: str) -> Q:
    if action != "view":
        return NOTHING  # append-only: nobody changes an entry
    from kt1.accounts.models import User
    from kt1.accounts.scopes import user_scope

    if any(g.nation for g in scope.grants_for("admin")):
        return EVERYTHING
    people = User.objects.filter(user_scope(scope, "view"))
    # Failed sign-ins and lockouts have no actor, only the username typed: they belong to the
    # person of that name. Entries about a person (role granted by a national admin, password
    # reset) belong to that person too.
    return (
        Q(actor_id__in=people.values("pk"))
        | Q(actor__isnull=True, actor_username__in=people.values("username"))
        | Q(object_type="accounts.user", object_id__in=people.annotate(pk_text=Cast("pk", CharField())).values("pk_text"))
    )
