from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kt1.audit"
    label = "audit"

    def ready(self):
        from . import actions, scopes  # noqa: F401  (declares actions and scope rules)
