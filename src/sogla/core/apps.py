from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sogla.core"
    label = "core"
