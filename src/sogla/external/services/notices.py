"""The guest's invitation mail carries a fresh link, minted as the mail is built.

Workflow's notices give a guest the document card, which needs a login; this app
sits above workflow and re-registers the ``workflow.`` kinds with the one change
that matters to a guest: a mail to the guest of an open task leads to ``/g/<token>/``
(a new link per delivered mail; a re-delivery of the same row replaces its link).
"""

from __future__ import annotations

import zoneinfo

from django.utils.translation import gettext as _

from sogla.external.services.links import link_mint, link_url
from sogla.notifications.kinds import register
from sogla.notifications.models import Notification
from sogla.workflow.models import Task
from sogla.workflow.notices import PREFIX, TaskFacts, WorkflowNotices


def _guest_task(row: Notification, facts: TaskFacts | None) -> Task | None:
    task = facts.task if facts else None
    if (
        task is not None
        and row.recipient_user_id is None
        and task.guest_email
        and task.is_open
        and row.recipient_email.strip().lower() == task.guest_email
    ):
        return task
    return None


class GuestAwareNotices(WorkflowNotices):
    def link(self, row: Notification, facts: TaskFacts | None) -> str:
        task = _guest_task(row, facts)
        if task is not None:
            return link_url(link_mint(task=task, notification_id=row.pk))
        return super().link(row, facts)

    def decisions(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: TaskFacts | None
    ) -> list[tuple[str, str, str, str]]:
        """A guest's mail names no internal people (the guest page shows roles)."""
        if row.recipient_user_id is None:
            return []
        return super().decisions(row, zone, facts)

    def action_label(self, row: Notification, facts: TaskFacts | None) -> str:
        if _guest_task(row, facts) is not None:
            return _("Open and decide")
        return super().action_label(row, facts)


def register_notices() -> None:
    """Called from ``ExternalConfig.ready()`` (after workflow's)."""
    register(PREFIX, GuestAwareNotices())
