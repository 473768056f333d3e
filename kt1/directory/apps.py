from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "kt1.directory"
    label = "directory"

    def ready(self):
        from . import scopes  # noqa: F401  (declares scope rules)
