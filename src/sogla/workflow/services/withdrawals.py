"""Withdrawing an approval carried over to a new round (``task_withdraw``).

A route that re-asks only those who had not approved carries earlier approvals over
to the next round, even when the files changed since (``on_return.reask``
``not_approved_even_if_changed``). The person is told and may take the approval
back while the round runs: if its stage still runs they get an open task again;
once the stage has finished the document goes back to the initiator with their
comment, as a return does (the later stages relied on that approval).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.engine.commands import Withdraw
from sogla.engine.states import Participant
from sogla.orgs.models import User
from sogla.workflow.models import Process, Task
from sogla.workflow.services.pipeline import (
    NO_META,
    Step,
    command_context,
    execute,
    lock_and_load,
    the_process,
)
from sogla.workflow.services.refusals import refused_command


def task_withdraw(
    *,
    actor: User,
    task_id: int | str,
    comment: str,
    meta: RequestMeta = NO_META,
) -> Process:
    """The person whose approval was carried over takes it back (``comment``
    required); returns the process."""
    org_id = organisation_id_of(actor)
    try:
        row = Task.objects.for_org(org_id).get(pk=int(task_id))
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if actor.pk not in {row.assignee_id, row.on_behalf_of_id}:
        raise PermissionDenied(
            _("Only the person whose approval was carried over may withdraw it.")
        )
    if not comment.strip():
        raise ValidationFailed.single(
            "comment", "required", _("Say why you withdraw your approval.")
        )
    command = Withdraw(row.engine_id, Participant.user(actor.pk), comment.strip())

    def prepare() -> Step[Process]:
        loaded = lock_and_load(row.process_id, org_id, command)
        # The audit event comes with the engine's ApprovalWithdrawn effect.
        return Step(loaded, command, command_context(loaded), answer=the_process)

    refusal = refused_command(row.process_id, "withdraw")
    return execute(prepare, actor=actor, meta=meta, refusal=refusal)
