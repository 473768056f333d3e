from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kt1.api"
    label = "api"
