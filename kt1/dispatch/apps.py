from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "kt1.dispatch"
    label = "dispatch"

    def ready(self):
        from . import actions, scopes  # noqa: F401  (declares audit actions and scope rules)
