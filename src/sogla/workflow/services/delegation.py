"""Delegation applied to tasks already open, and returned when it ends.

The resolver gives a stand-in the tasks that open while a delegation is in force
(``sogla.workflow.resolver``). ``delegations_sync`` does the same for the tasks that
were open already, and undoes it: it makes every open task of an organisation
agree with today's delegations.

* an open task of someone away (not already acting for anyone) moves to their
  stand-in (the chain followed, ``orgs.selectors.active_delegate``), acting
  ``on_behalf_of`` them: audited ``task.delegated``;
* an open task held for someone (``on_behalf_of``) whose delegation has ended, was
  cancelled, or now names another stand-in goes back to them (or to the new
  stand-in): audited ``task.returned`` (or ``task.delegated``);
* a seat who was deactivated keeps nothing: their tasks stay where they are and the
  route owner is told (``assignee_deactivated``).

Each move is the engine's ``Reassign`` through the one pipeline (its own
transaction, process row locked, compare-and-set): a task decided meanwhile is
skipped, so a concurrent decision is never lost or doubled. Idempotent: running it
again moves nothing. The away screen runs it after each change, the worker every
minute (periods start and end at midnight of the organisation's time zone).
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sogla.core.errors import ApplicationError
from sogla.core.request_meta import RequestMeta
from sogla.engine.commands import Reassign
from sogla.engine.run import Result
from sogla.engine.states import Participant
from sogla.engine.states import TaskState as EngineTaskState
from sogla.notifications.services import notification_enqueue
from sogla.orgs.models import Delegation, Organisation, User
from sogla.orgs.selectors import active_delegate, delegations_in_force
from sogla.workflow.errors import ProcessConflict
from sogla.workflow.models import Task, TaskState
from sogla.workflow.refs import user_ref
from sogla.workflow.repository import Loaded
from sogla.workflow.services.pipeline import (
    NO_META,
    Answered,
    Event,
    Step,
    command_context,
    execute,
    lock_and_load,
)

logger = logging.getLogger("sogla.workflow")


@dataclass
class Synced:
    delegated: int = 0
    returned: int = 0
    skipped: int = 0


def _today(org: Organisation, now: datetime | None) -> date:
    return timezone.localdate(now or timezone.now(), zoneinfo.ZoneInfo(org.time_zone))


def _new_pk(loaded: Loaded, result: Result) -> int | None:
    new = [t for t in result.state.tasks if t not in loaded.state.tasks]
    return loaded.task_pks.get(new[0]) if new else None


def _move(
    row: Task, to: User, seat: User, *, actor: User | None, meta: RequestMeta
) -> bool:
    """Reassign one open task to ``to`` (acting for ``seat`` unless it is them)."""
    org_id = row.organisation_id
    behalf = Participant.user(seat.pk) if to.pk != seat.pk else None
    command = Reassign(
        row.engine_id,
        Participant.user(to.pk, on_behalf_of=behalf),
        Participant.user(seat.pk),
    )
    verb = "task.delegated" if behalf is not None else "task.returned"

    def prepare() -> Step[bool] | Answered[bool]:
        loaded = lock_and_load(row.process_id, org_id, command)
        task = loaded.state.tasks.get(row.engine_id)
        if task is None or task.state is not EngineTaskState.OPEN:
            return Answered(False)  # decided or closed meanwhile: nothing to move
        if task.participant.ref == user_ref(to.pk) and (
            (task.on_behalf_of.ref if task.on_behalf_of else None)
            == (behalf.ref if behalf else None)
        ):
            return Answered(False)  # already where it should be
        return Step(
            loaded,
            command,
            command_context(loaded, with_files=False),
            answer=lambda _done: True,
            event=lambda result: Event(
                verb,
                {
                    "task": row.pk,
                    "from": task.participant.ref,
                    "to": user_ref(to.pk),
                    "seat": user_ref(seat.pk),
                    "new_task": _new_pk(loaded, result),
                },
                target=str(row.pk),
            ),
        )

    try:
        return execute(prepare, actor=actor, meta=meta)
    except (ApplicationError, ProcessConflict) as error:
        logger.info("delegation: task %s not moved: %s", row.pk, error)
        return False


def delegations_sync(
    organisation: Organisation | int,
    *,
    actor: User | None = None,
    now: datetime | None = None,
    meta: RequestMeta = NO_META,
) -> Synced:
    """Make the organisation's open tasks agree with today's delegations."""
    org = (
        organisation
        if isinstance(organisation, Organisation)
        else Organisation.objects.get(pk=organisation)
    )
    today = _today(org, now)
    in_force = delegations_in_force(org.pk, today)
    rows = (
        Task.objects.for_org(org.pk)
        .filter(state=TaskState.OPEN, assignee__isnull=False)
        .filter(
            Q(on_behalf_of__isnull=False)
            | Q(assignee_id__in=list(in_force), on_behalf_of__isnull=True)
        )
        .select_related("assignee", "on_behalf_of")
        .order_by("pk")
    )
    done = Synced()
    for row in rows:
        assert row.assignee is not None  # noqa: S101 - filtered
        seat = row.on_behalf_of or row.assignee
        if not seat.is_active or seat.organisation_id != org.pk:
            continue
        want = active_delegate(seat, today, in_force) or seat
        current_behalf = row.on_behalf_of_id
        wanted_behalf = seat.pk if want.pk != seat.pk else None
        if want.pk == row.assignee_id and current_behalf == wanted_behalf:
            continue
        if _move(row, want, seat, actor=actor, meta=meta):
            if wanted_behalf is None:
                done.returned += 1
            else:
                done.delegated += 1
        else:
            done.skipped += 1
    return done


def delegations_sync_due(now: datetime | None = None) -> Synced:
    """The worker's sweep: every organisation with a delegation around today or a
    task held for someone."""
    moment = now or timezone.now()
    day = moment.date()
    org_ids = set(
        Delegation.objects.filter(
            cancelled_at=None,
            starts_on__lte=day + timedelta(days=1),
            ends_on__gte=day - timedelta(days=1),
        ).values_list("organisation_id", flat=True)
    ) | set(
        Task.objects.filter(
            state=TaskState.OPEN, on_behalf_of__isnull=False
        ).values_list("organisation_id", flat=True)
    )
    total = Synced()
    for org in Organisation.objects.filter(pk__in=org_ids).order_by("pk"):
        done = delegations_sync(org, now=moment)
        total.delegated += done.delegated
        total.returned += done.returned
        total.skipped += done.skipped
    return total


# --- a deactivated person's open tasks ------------------------------------------------


def assignee_deactivated(*, user: User) -> int:
    """Tell each route owner (else the administrators) which open tasks the
    deactivated person held, to give them to someone else. In the caller's
    transaction; returns the notices queued."""
    org_id = user.organisation_id
    if org_id is None:
        return 0
    tasks = (
        Task.objects.for_org(org_id)
        .filter(state=TaskState.OPEN)
        .filter(Q(assignee=user) | Q(on_behalf_of=user))
        .select_related("process__route_version__template__owner", "process__document")
        .order_by("pk")
    )
    admins: list[User] | None = None
    queued = 0
    for task in tasks:
        template = task.process.route_version.template
        owner = template.owner
        if owner is not None and owner.is_active and owner.pk != user.pk:
            recipients = [owner]
        else:
            if admins is None:
                admins = list(
                    User.objects.filter(
                        organisation_id=org_id, is_staff=True, is_active=True
                    ).exclude(pk=user.pk)
                )
            recipients = admins
        document = task.process.document
        for recipient in recipients:
            notification_enqueue(
                organisation_id=org_id,
                kind="workflow.assignee_deactivated",
                recipient_user=recipient,
                document_id=document.pk,
                context={
                    "task": task.pk,
                    "process": task.process_id,
                    "number": document.number,
                    "title": document.title,
                    "person": user.get_full_name() or user.get_username(),
                },
                idempotency_key=f"deactivated:{task.pk}:{user.pk}:{recipient.pk}",
            )
            queued += 1
    return queued


def on_person_deactivated(*, user: User, actor: User, **_: object) -> None:
    """``orgs.people.person_deactivated``: tell the route owners now; after the
    commit, tasks the person held for someone go back to that someone."""
    assignee_deactivated(user=user)
    org_id = user.organisation_id
    if org_id is not None:
        transaction.on_commit(lambda: delegations_sync(org_id, actor=actor))
