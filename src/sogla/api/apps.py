from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "sogla.api"
    label = "api"
