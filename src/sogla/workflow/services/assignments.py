"""Who works on a step: give an open task to someone else (``task_reassign``), or
fix a step nobody could be assigned to (``step_resolve``). The route's owner or an
administrator does both; a refusal is recorded as for any process command."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.core.errors import NotFound, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.engine.commands import Reassign, ResolveStep
from sogla.engine.states import Participant
from sogla.engine.states import TaskState as EngineTaskState
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import User
from sogla.workflow.models import Process, RouteTemplate, Task
from sogla.workflow.refs import user_ref
from sogla.workflow.services.pipeline import (
    NO_META,
    Event,
    Step,
    command_context,
    execute,
    lock_and_load,
    process_for,
    the_process,
)
from sogla.workflow.services.refusals import closed_message, refused_command


def _is_route_manager(actor: User, template: RouteTemplate) -> bool:
    return is_org_admin(actor) or (
        template.owner_id is not None and template.owner_id == actor.pk
    )


def task_reassign(
    *,
    actor: User,
    task_id: int | str,
    to_user: User,
    meta: RequestMeta = NO_META,
) -> Task:
    """The route owner or an administrator gives an open task to someone else."""
    org_id = organisation_id_of(actor)
    try:
        row = (
            Task.objects.for_org(org_id)
            .select_related("process__route_version__template")
            .get(pk=int(task_id))
        )
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    template = row.process.route_version.template
    if not _is_route_manager(actor, template):
        raise NotFound()

    def prepare() -> Step[Task]:
        if to_user.organisation_id != org_id or not to_user.is_active:
            raise ValidationFailed.single("to_user", "invalid", _("No such person."))
        command = Reassign(
            row.engine_id, Participant.user(to_user.pk), Participant.user(actor.pk)
        )
        loaded = lock_and_load(row.process_id, org_id, command)
        task = loaded.state.tasks[row.engine_id]
        if task.state is not EngineTaskState.OPEN:
            raise closed_message(loaded, task)

        def new_pk(tasks: Mapping[str, object]) -> int | None:
            new = [t for t in tasks if t not in loaded.state.tasks]
            return loaded.task_pks.get(new[0]) if new else None

        return Step(
            loaded,
            command,
            command_context(loaded, with_files=False),
            answer=lambda done: Task.objects.get(
                pk=new_pk(done.result.state.tasks) or row.pk
            ),
            event=lambda result: Event(
                "task.reassigned",
                {
                    "task": row.pk,
                    "from": task.participant.ref,
                    "to": user_ref(to_user.pk),
                    "new_task": new_pk(result.state.tasks),
                },
                target=str(row.pk),
            ),
            template=template,
        )

    refusal = refused_command(row.process_id, "reassign")
    return execute(prepare, actor=actor, meta=meta, refusal=refusal)


def step_resolve(
    *,
    actor: User,
    process: Process | int,
    stage: str,
    step: str,
    users: Sequence[User] | None = None,
    meta: RequestMeta = NO_META,
) -> Process:
    """Fix a step nobody could be assigned to: give it to ``users`` or try again."""
    org_id, process_id = process_for(actor, process)
    template = (
        RouteTemplate.objects.filter(versions__processes__pk=process_id)
        .select_related(None)
        .first()
    )
    if template is None or not _is_route_manager(actor, template):
        raise NotFound()
    if users is not None and any(
        u.organisation_id != org_id or not u.is_active for u in users
    ):
        raise ValidationFailed.single("users", "invalid", _("No such person."))
    chosen = [Participant.user(u.pk) for u in users] if users is not None else None
    command = ResolveStep(stage, step, Participant.user(actor.pk), chosen)
    event = Event(
        "process.step_resolved",
        {
            "stage": stage,
            "step": step,
            "users": [u.pk for u in users] if users is not None else None,
        },
    )

    def prepare() -> Step[Process]:
        loaded = lock_and_load(process_id, org_id, command)
        return Step(
            loaded,
            command,
            command_context(loaded),
            answer=the_process,
            event=event,
            template=template,
        )

    refusal = refused_command(process_id, "resolve")
    return execute(prepare, actor=actor, meta=meta, refusal=refusal)
