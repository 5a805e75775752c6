from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "sogla.workflow"
    label = "workflow"
    verbose_name = _("Approval routes")

    def ready(self) -> None:
        from sogla.orgs.people import person_deactivated
        from sogla.workflow.notices import register_notices
        from sogla.workflow.services.delegation import on_person_deactivated

        register_notices()
        person_deactivated.connect(
            on_person_deactivated, dispatch_uid="workflow.person_deactivated"
        )
