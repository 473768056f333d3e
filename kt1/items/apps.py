from django.apps import AppConfig


class ItemsConfig(AppConfig):
    name = "kt1.items"
    label = "items"

    def ready(self):
        from . import actions, scopes  # noqa: F401  (declares audit actions and scope rules)
