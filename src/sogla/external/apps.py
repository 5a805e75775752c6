from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExternalConfig(AppConfig):
    name = "sogla.external"
    label = "external"
    verbose_name = _("External participants")

    def ready(self) -> None:
        from sogla.external import card_marks
        from sogla.external.services.codes import register
        from sogla.external.services.notices import register_notices

        register_notices()
        register()
        card_marks.register()
