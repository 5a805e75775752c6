"""Changing the people of a step while the round runs (``step_edit``).

The route's owner and administrators may, and the initiator where the route says
``initiator_may_edit_running``: add people to a step, take a pending person off,
move a pending deadline. On the open stage it acts at once (the new person gets a
task and a notice, the removed one's task closes and they are told); on a stage
still to come it is kept for when the stage opens. One command through the
pipeline: one transaction, the compare-and-set on the process, so an edit racing
a decision on the same stage either goes in whole or is refused
(``ProcessConflict``, or the engine's refusal against the state the winner left).
Someone else who may see the document is refused (403); anyone else gets 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.translation import gettext as _

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.documents.access import visible_documents
from sogla.engine.commands import EditStep
from sogla.engine.definition import RouteDefinition
from sogla.engine.states import Participant
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import User
from sogla.workflow.models import Process, RouteTemplate
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
from sogla.workflow.services.refusals import refused_command


def may_edit_running(
    user: User, template: RouteTemplate, definition: RouteDefinition, process: Process
) -> bool:
    """The route's owner, an administrator, or the initiator where the route allows."""
    if is_org_admin(user) or (
        template.owner_id is not None and template.owner_id == user.pk
    ):
        return True
    return definition.initiator_may_edit_running and process.initiator_id == user.pk


def _people(org_id: int, name: str, users: Sequence[User]) -> list[User]:
    if any(u.organisation_id != org_id or not u.is_active for u in users):
        raise ValidationFailed.single(name, "invalid", _("No such person."))
    return list(users)


def step_edit(
    *,
    actor: User,
    process: Process | int,
    stage: str,
    step: str,
    add: Sequence[User] = (),
    remove: Sequence[User] = (),
    due_at: datetime | None = None,
    due_for: Sequence[User] = (),
    meta: RequestMeta = NO_META,
) -> Process:
    """Add people to a step, take pending people off it, move pending deadlines."""
    org_id, process_id = process_for(actor, process)
    added = _people(org_id, "add", add)
    removed = _people(org_id, "remove", remove)
    moved_for = _people(org_id, "due_for", due_for)
    if due_at is not None and (due_at.tzinfo is None or due_at.utcoffset() is None):
        raise ValidationFailed.single("due_at", "invalid", _("Enter a valid date."))
    if not (added or removed or due_at is not None):
        raise ValidationFailed.single(
            "add", "required", _("Choose whom to add or remove, or a new deadline.")
        )
    overlap = {u.pk for u in added} & {u.pk for u in removed}
    if overlap:
        raise ValidationFailed.single(
            "remove", "invalid", _("A person cannot be added and removed at once.")
        )
    command = EditStep(
        stage,
        step,
        Participant.user(actor.pk),
        add=tuple(Participant.user(u.pk) for u in added),
        remove=tuple(user_ref(u.pk) for u in removed),
        due_at=due_at,
        due_for=tuple(user_ref(u.pk) for u in moved_for),
    )
    payload = {
        "stage": stage,
        "step": step,
        "added": [u.pk for u in added],
        "removed": [u.pk for u in removed],
        "added_names": [u.short_name for u in added],
        "removed_names": [u.short_name for u in removed],
        "due_at": due_at.isoformat() if due_at else None,
        "due_for": [u.pk for u in moved_for],
    }

    def prepare() -> Step[Process]:
        loaded = lock_and_load(process_id, org_id, command)
        template = (
            RouteTemplate.objects.filter(versions__processes__pk=process_id)
            .select_related(None)
            .get()
        )
        if not may_edit_running(actor, template, loaded.definition, loaded.process):
            document = loaded.process.document_id
            if visible_documents(actor).filter(pk=document).exists():
                raise PermissionDenied(
                    _(
                        "Only the route's owner or an administrator may change the people of this approval."
                    )
                )
            raise NotFound()
        return Step(
            loaded,
            command,
            command_context(loaded),
            answer=the_process,
            event=Event("process.participants_changed", payload),
            template=template,
        )

    refusal = refused_command(process_id, "edit")
    return execute(prepare, actor=actor, meta=meta, refusal=refusal)
