from django.apps import AppConfig


class SiteConfig(AppConfig):
    """Installed for its management commands: ``sogla serve`` and ``sogla worker``."""

    name = "sogla.site"
    label = "site"
