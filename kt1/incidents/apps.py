from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "kt1.incidents"
    label = "incidents"

    def ready(self):
        from . import actions, scopes  # noqa: F401  (declares audit actions and scope rules)
