from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "sogla.workflow"
    label = "workflow"
    verbose_name = _("Approval routes")

    def ready(self) -> None:
        from sogla.workflow.notices import register_notices

        register_notices()
