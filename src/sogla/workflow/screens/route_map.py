"""The card's route map extras: who holds the document up (the holder line), the
steps' names, who will take the steps that have not started, skip reasons in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from sogla.documents.selectors import DocumentCard
from sogla.engine.conditions import Words
from sogla.orgs.models import User
from sogla.workflow import definitions, tenant
from sogla.workflow.condition_words import skip_reason, will_skip_reason, words_for
from sogla.workflow.models import Process, Timer, TimerState
from sogla.workflow.reason_words import Names, reason_in_words
from sogla.workflow.screens.durations import WorkingTime, working_time
from sogla.workflow.selectors import MapTask, RouteMap


@dataclass
class HolderLine:
    """Who holds the document up, since when and how late; or, when nobody does,
    until when the route waits in a wait step."""

    waits: dict[int, str] = field(default_factory=dict)  # open task id -> waiting
    holders: list[tuple[str, str]] = field(default_factory=list)  # (who, step name)
    wait: str = ""
    overdue: str = ""
    due: datetime | None = None
    until: dict[str, datetime] = field(default_factory=dict)  # by "stage.step"

    @property
    def until_earliest(self) -> datetime | None:
        return min(self.until.values()) if self.until else None


def map_in_words(
    rmap: RouteMap | None, card: DocumentCard, words: Words, now: datetime
) -> tuple[HolderLine, dict[tuple[str, str], str], dict[str, str]]:
    """The route map's parts the card says in words: the holder line, the steps'
    names and who will take the steps not started yet; its skip reasons are said
    from the route's conditions (in place)."""
    if rmap is None:
        return HolderLine(), {}, {}
    reasons_in_words(
        rmap, words, Names(card.document.organisation_id, card.field_labels())
    )
    names = step_names(rmap)
    document = card.document
    timing = working_time(document.organisation)
    return (
        holder_line(rmap, names, timing, now),
        names,
        assignee_words(rmap, card),
    )


def holder_line(
    rmap: RouteMap,
    step_names: Mapping[tuple[str, str], str],
    timing: WorkingTime,
    now: datetime,
) -> HolderLine:
    """Who the approval waits on (opinions only when nobody else holds it up), how
    long each open task has waited, the earliest due time and how late it is."""
    blockers = [w for w in rmap.waiting if w.task.kind != "consult"]
    holding = blockers or rmap.waiting
    line = HolderLine(
        waits={w.task.pk: timing.waiting(w.task.created_at, now) for w in rmap.waiting},
        holders=[
            (
                w.person.short_name if w.person is not None else w.guest_email,
                step_names.get((w.task.stage_key, w.task.step_key), ""),
            )
            for w in holding
        ],
    )
    if not holding:
        line.until = _wait_until(rmap.process)
        return line
    line.wait = line.waits[holding[0].task.pk]
    late = [
        w.task.due_at
        for w in holding
        if w.colour == "overdue" and w.task.due_at is not None
    ]
    if late:
        line.overdue = timing.overdue(min(late), now)
    dues = [w.task.due_at for w in holding if w.task.due_at]
    line.due = min(dues) if dues else None
    return line


def step_names(rmap: RouteMap) -> dict[tuple[str, str], str]:
    """ "Stage · Step", or the stage's name alone when the step's says nothing more."""
    return rmap.step_names()


def reasons_in_words(rmap: RouteMap, words: Words, names: Names) -> None:
    """Skip reasons of the route map said from the route's conditions; stages and
    steps not opened yet that will be skipped say "will be skipped unless …"."""
    definition = definitions.definition_for(rmap.process.route_version)
    for stage in rmap.stages:
        stage_def = definition.stage(stage.key)
        said = will_skip_reason if stage.will_skip else skip_reason
        stage.reason = reason_in_words(said(stage.reason, stage_def.when, words), names)
        conditions = {s.key: s.when for s in stage_def.steps}
        for step in stage.steps:
            said = will_skip_reason if step.will_skip else skip_reason
            reason = said(step.reason, conditions.get(step.key), words)
            step.reason = reason_in_words(reason, names)


def reasons_said(rmap: RouteMap) -> None:
    """The route map's skip and resolver reasons in the reader's language, as the
    card says them, for a map read without the card (the API): conditions and
    reasons name fields by their labels, departments and roles by their names."""
    document = rmap.process.document
    fields = list(document.doc_type.fields.all())
    words = words_for(fields, Names(document.organisation_id))
    reasons_in_words(
        rmap, words, Names(document.organisation_id, {f.key: f.label for f in fields})
    )


def assignee_words(rmap: RouteMap, card: DocumentCard) -> dict[str, str]:
    """Who will take each step, by "stage.step": a named person's short name, else
    the route's rule in words (for steps that have no tasks yet)."""
    pending = [step for stage in rmap.stages for step in stage.steps if not step.tasks]
    usernames = {str(s.assignee["user"]) for s in pending if s.assignee.get("user")}
    role_keys = {str(s.assignee["role"]) for s in pending if s.assignee.get("role")}
    org_id = card.document.organisation_id
    named = (
        {
            u.username: u.short_name
            for u in User.objects.filter(organisation_id=org_id, username__in=usernames)
        }
        if usernames
        else {}
    )
    known = tenant.roles(org_id) if role_keys else {}
    role_names = {key: known[key].name for key in role_keys if key in known}
    labels = card.field_labels()
    return {
        f"{stage.key}.{step.key}": named.get(str(step.assignee.get("user") or ""))
        or _rule_words(step.assignee, role_names, labels)
        for stage in rmap.stages
        for step in stage.steps
    }


def _rule_words(
    assignee: dict[str, Any], role_names: dict[str, str], labels: dict[str, str]
) -> str:
    """A not-yet-started step's assignee in words (the definition's rule)."""
    if not assignee:
        return ""
    if assignee.get("role"):
        role = str(assignee["role"])
        return _('anyone with the role "%(role)s"') % {
            "role": role_names.get(role, role)
        }
    if assignee.get("manager_of"):
        return _("the initiator's manager")
    if assignee.get("department_head_field"):
        key = str(assignee["department_head_field"])
        return _("the head of the department chosen in the field “%(field)s”") % {
            "field": labels.get(key, key)
        }
    if assignee.get("department_head"):
        return _("the head of the department")
    if assignee.get("user_field") or assignee.get("users_field"):
        key = str(assignee.get("user_field") or assignee.get("users_field"))
        return _("the people named in the field “%(field)s”") % {
            "field": labels.get(key, key)
        }
    if assignee.get("initiator"):
        return _("the initiator")
    if assignee.get("guests"):
        return ", ".join(str(g) for g in assignee["guests"])
    if assignee.get("user"):
        return str(assignee["user"])
    return _("external participants")


def returned_task(rmap: RouteMap | None) -> MapTask | None:
    """The (last) task that returned the document in this round."""
    returned = [
        item
        for stage in (rmap.stages if rmap is not None else [])
        for step in stage.steps
        for item in step.tasks
        if item.colour == "returned"
    ]
    return returned[-1] if returned else None


def _wait_until(process: Process) -> dict[str, datetime]:
    """A running route nobody holds up waits in a wait step: until when, by step."""
    if not process.is_active:
        return {}
    until = {}
    for target, at in Timer.objects.filter(
        process=process, kind="wait", state=TimerState.PENDING
    ).values_list("target", "due_at"):
        _round, _sep, key = target.partition(":")
        until[key.replace(":", ".")] = at
    return until


def approves(process: Process | None) -> bool:
    """The route has approve or sign steps (else it is tasks only)."""
    if process is None:
        return True
    definition = definitions.definition_for(process.route_version)
    return any(
        step.kind in ("approve", "sign")
        for stage in definition.stages
        for step in stage.steps
    )
