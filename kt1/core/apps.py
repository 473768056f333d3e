from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kt1.core"
    label = "core"
