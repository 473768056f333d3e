from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CoreConfig(AppConfig):
    name = "kt1.core"
    label = "core"

    def ready(self) -> None:
        from .permissions import bump_scope_stamp

        # Whatever a scope is computed from (kt1.core.permissions._compute_scope), through any
        # writer (services, admin, shell): the stamp changes in the same transaction.
        for model in ("accounts.RoleAssignment", "directory.Agency", "directory.Facility"):
            post_save.connect(bump_scope_stamp, sender=model, dispatch_uid=f"kt1-scope-stamp-{model}")
            post_delete.connect(bump_scope_stamp, sender=model, dispatch_uid=f"kt1-scope-stamp-del-{model}")
        post_save.connect(_user_saved, sender="accounts.User", dispatch_uid="kt1-scope-stamp-user")


def _user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """A person's scope depends on their active flag; a sign-in (last_login only) changes nothing."""
    from .permissions import bump_scope_stamp

    if update_fields is None or "is_active" in update_fields:
        bump_scope_stamp()
