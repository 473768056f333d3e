from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kt1.accounts"
    label = "accounts"

    def ready(self):
        from . import scopes  # noqa: F401  (declares scope rules)
