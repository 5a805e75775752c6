from django.apps import AppConfig


class StarterConfig(AppConfig):
    name = "sogla.starter"
    label = "starter"
