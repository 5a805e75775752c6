from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "sogla.web"
    label = "web"
