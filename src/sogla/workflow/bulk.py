"""Deciding several inbox tasks at once: narrow on purpose (UI.md, screen 2).

Only acknowledgements, and approvals where the route sets ``bulk_allowed``; never
sign, return, reject or request-info. At most ``BULK_LIMIT`` tasks, the ones the
person saw. The confirmation lists each document with its current file version, and
a document whose files changed since then is refused: a decision is tied to the
files that were shown. Each task is its own command (own transaction, own request
id, own audit event); one refusal does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from sogla.core.errors import ApplicationError, NotFound, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.engine.definition import RouteDefinition
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.models import Task, TaskState
from sogla.workflow.services import files_sha256, task_decide

BULK_LIMIT = 50
BULK_KINDS = {"acknowledge": "acknowledge", "approve": "approve"}  # kind -> outcome


def bulk_outcome(task: Task) -> str | None:
    """The outcome this open task may get in bulk, or None (no query: the route's
    published definition is cached)."""
    return bulk_outcome_of(
        task.state,
        task.kind,
        lambda: definitions.definition_for(task.process.route_version),
    )


def bulk_outcome_of(
    state: str, kind: str, definition: Callable[[], RouteDefinition]
) -> str | None:
    """``bulk_outcome`` of a task read as values; ``definition`` gives its route's
    (asked only for an approval)."""
    if state != TaskState.OPEN:
        return None
    outcome = BULK_KINDS.get(kind)
    if outcome == "approve":
        return outcome if definition().bulk_allowed else None
    return outcome


@dataclass(frozen=True)
class BulkItem:
    task: Task
    files_sha256: str
    problem: str = ""


def bulk_tasks(*, actor: User, task_ids: Sequence[int], outcome: str) -> list[BulkItem]:
    """The actor's chosen tasks for a bulk ``outcome``, with their files' hash and
    why any of them cannot take it; raises ValidationFailed naming the field."""
    if outcome not in BULK_KINDS.values():
        raise ValidationFailed.single(
            "outcome", "invalid", _("Only acknowledging and approving work in bulk.")
        )
    ids = list(dict.fromkeys(task_ids))
    if not ids:
        raise ValidationFailed.single(
            "task", "required", _("Choose at least one task.")
        )
    if len(ids) > BULK_LIMIT:
        raise ValidationFailed.single(
            "task",
            "too_many",
            _("Choose at most %(n)d tasks at once.") % {"n": BULK_LIMIT},
        )
    if actor.organisation_id is None:
        raise NotFound()
    rows = {
        t.pk: t
        for t in Task.objects.for_org(actor.organisation_id)
        .filter(Q(assignee=actor) | Q(on_behalf_of=actor), pk__in=ids)
        .select_related("process__route_version", "process__document__doc_type")
    }
    items = []
    for pk in ids:
        task = rows.get(pk)
        if task is None:
            continue  # not the actor's: as if it did not exist
        problem = ""
        if task.state != TaskState.OPEN:
            problem = _("Already decided.")
        elif bulk_outcome(task) != outcome:
            problem = _("This task needs its own decision on the card.")
        items.append(BulkItem(task, files_sha256(task.process.document), problem))
    if not items:
        raise NotFound()
    return items


@dataclass(frozen=True)
class BulkResult:
    task: Task
    ok: bool
    message: str


def tasks_decide_bulk(
    *,
    actor: User,
    outcome: str,
    confirmed: Mapping[int, str],
    request_id: str,
    meta: RequestMeta,
) -> list[BulkResult]:
    """Decide each confirmed task (task pk -> the files' hash the person saw)."""
    results = []
    for item in bulk_tasks(actor=actor, task_ids=list(confirmed), outcome=outcome):
        if item.problem:
            results.append(BulkResult(item.task, False, item.problem))
            continue
        if item.files_sha256 != confirmed.get(item.task.pk):
            message = _("The files changed since you confirmed: open the card.")
            results.append(BulkResult(item.task, False, message))
            continue
        try:
            decided = task_decide(
                actor=actor,
                task_id=item.task.pk,
                outcome=outcome,
                request_id=f"{request_id[:60]}:{item.task.pk}",
                meta=meta,
            )
        except ApplicationError as refused:
            results.append(BulkResult(item.task, False, str(refused.message)))
        else:
            results.append(BulkResult(decided, True, ""))
    return results


__all__ = [
    "BULK_LIMIT",
    "bulk_outcome",
    "bulk_outcome_of",
    "bulk_tasks",
    "tasks_decide_bulk",
]
