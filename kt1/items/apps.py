from django.apps import AppConfig


class ItemsConfig(AppConfig):
    name = "kt1.items"
    label = "items"

    def ready(self):
        from kt1.audit.registry import register_verifier

        from . import actions, scopes  # noqa: F401  (declares audit actions and scope rules)
        from .verification import verify_custody_events

        register_verifier(verify_custody_events)
