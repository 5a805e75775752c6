"""The marks of guests and code lock-outs on the card's route map
(``workflow.task_marks``): three queries whatever the number of tasks."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Min
from django.utils import timezone

from sogla.external.models import Challenge, GuestLink
from sogla.external.selectors import LOCK_AFTER, MAX_CHECKS
from sogla.notifications.models import Notification, NotificationState
from sogla.workflow.models import Process, Task
from sogla.workflow.task_marks import TaskMarks, register_marks

_SENDING = (NotificationState.PENDING, NotificationState.IN_PROGRESS)
INVITATION = "workflow.task_assigned"  # the guest's invitation (and "send again")


def _guest_marks(guest_tasks: list[Task], marks: dict[int, TaskMarks]) -> None:
    org_id = guest_tasks[0].organisation_id
    today = timezone.localdate()
    opened = (
        GuestLink.objects.filter(
            task__in=guest_tasks, organisation_id=org_id, first_used_at__isnull=False
        )
        .values("task_id")
        .annotate(first=Min("first_used_at"))
        .order_by()
    )
    for row in opened:
        mark = marks.setdefault(row["task_id"], TaskMarks())
        mark.opened_at = row["first"]
        mark.opened_today = timezone.localdate(row["first"]) == today
    # The newest invitation mail of each guest task (the first one, or the last
    # "send again"): the link inside is minted only when it is delivered.
    ids = {t.pk for t in guest_tasks}
    invitations = Notification.objects.filter(
        organisation_id=org_id,
        kind=INVITATION,
        document_id__in=Process.objects.filter(
            pk__in={t.process_id for t in guest_tasks}, organisation_id=org_id
        ).values("document_id"),
        recipient_email__in={t.guest_email for t in guest_tasks},
    ).order_by("-created_at", "-id")
    seen: set[int] = set()
    for context, state, attempts in invitations.values_list(
        "context", "state", "attempts"
    ):
        task_id = context.get("task") if isinstance(context, dict) else None
        if task_id not in ids or task_id in seen:
            continue
        seen.add(task_id)
        if state == NotificationState.FAILED:
            marks.setdefault(task_id, TaskMarks()).undelivered = "failed"
        elif state in _SENDING and attempts > 0:
            marks.setdefault(task_id, TaskMarks()).undelivered = "retrying"


def _locks(open_tasks: list[Task], marks: dict[int, TaskMarks]) -> None:
    dead = (
        Challenge.objects.filter(
            task__in=open_tasks,
            organisation_id=open_tasks[0].organisation_id,
            verified_at=None,
            forgiven=False,
            attempts__gte=MAX_CHECKS,
        )
        .values("task_id", "participant_ref")
        .annotate(n=Count("id"))
        .filter(n__gte=LOCK_AFTER)
        .order_by("task_id", "participant_ref")
    )
    for row in dead:
        marks.setdefault(row["task_id"], TaskMarks()).locked.append(
            row["participant_ref"]
        )


def card_marks(tasks: Sequence[Task]) -> dict[int, TaskMarks]:
    marks: dict[int, TaskMarks] = {}
    guest_tasks = [t for t in tasks if t.guest_email]
    if guest_tasks:
        _guest_marks(guest_tasks, marks)
    open_tasks = [t for t in tasks if t.is_open]
    if open_tasks:
        _locks(open_tasks, marks)
    return marks


def register() -> None:
    register_marks(card_marks)
