from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sogla.core"
    label = "core"

    def ready(self) -> None:
        from sogla.core import admin_words  # noqa: F401 (the words below, extracted)

        # The task backend names its admin section in English only.
        try:
            tasks = apps.get_app_config("django_tasks_database")
        except LookupError:
            return
        tasks.verbose_name = _("Background tasks")
