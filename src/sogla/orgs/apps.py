from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "sogla.orgs"
    label = "orgs"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from sogla.orgs import calendars  # noqa: F401 (the calendar's version signals)
