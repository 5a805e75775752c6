from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "sogla.workflow"
    label = "workflow"
    verbose_name = _("Approval routes")

    def ready(self) -> None:
        from sogla.discussion.steps import register_step_source
        from sogla.documents.services import register_talk_source
        from sogla.orgs.people import person_deactivated
        from sogla.workflow.notices import register_notices
        from sogla.workflow.selectors.route_map import current_step_tag
        from sogla.workflow.selectors.tasks import decision_comments
        from sogla.workflow.services import rescheduling  # noqa: F401 (receivers)
        from sogla.workflow.services.delegation import on_person_deactivated

        register_notices()
        register_talk_source(decision_comments)
        register_step_source(current_step_tag)
        person_deactivated.connect(
            on_person_deactivated, dispatch_uid="workflow.person_deactivated"
        )
