from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "sogla.demo"
    label = "demo"
