"""The card's approval parts: the holder line, the route map, my decision panels, the
start section, rounds, the revision form; in a constant number of queries.

``card_approval`` gathers them for ``workflow.pages.render_card``: the holder line
and the route map's words come from ``screens.route_map``, the panels from
``screens.panels``, the start section from ``screens.start``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from sogla.core.access import is_org_admin
from sogla.documents.access import is_draft
from sogla.documents.selectors import DocumentCard
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.condition_words import words_for
from sogla.workflow.labels import name_in_language
from sogla.workflow.models import Process, ProcessStatus, Task
from sogla.workflow.reask_words import ReaskMode, reask_modes
from sogla.workflow.reason_words import Names
from sogla.workflow.screens.panels import (
    PanelState,
    PanelView,
    card_people,
    decision_panels,
    my_panels,
)
from sogla.workflow.screens.route_map import (
    HolderLine,
    approves,
    map_in_words,
    returned_task,
)
from sogla.workflow.screens.start import StartView, start_form
from sogla.workflow.selectors import (
    MapTask,
    RouteMap,
    can_manage_process,
    card_process,
    route_map,
    task_list_for_user,
)
from sogla.workflow.task_marks import TaskMarks, task_marks


@dataclass
class CardApproval:
    process: Process | None
    route_map: RouteMap | None
    holder: HolderLine
    panels: list[PanelView]
    start: StartView | None
    can_manage: bool
    is_initiator: bool
    can_cancel: bool
    people: list[User]
    returned_task: MapTask | None
    rounds: list[int]
    shown_round: int
    old_round_tasks: list[Task]
    decided: Task | None
    next_task: Task | None
    may_edit_round: bool
    # may add, remove and reschedule people while the round runs (route map)
    may_change_people: bool
    edit_steps: list[tuple[str, str]]  # ("stage.step", "Stage · Step")
    files_sha: str
    files_version: int
    errors: dict[str, list[str]]
    posted: dict[str, str]
    step_names: dict[tuple[str, str], str]
    assignee_words: dict[str, str] = field(default_factory=dict)
    approves: bool = True  # the route has approve or sign steps (else: tasks only)
    # task id -> guest link opened / invitation undelivered / locked out of codes
    marks: dict[int, TaskMarks] = field(default_factory=dict)
    # In revision: whom the new round asks (the route's mode), and the modes the
    # initiator may choose from (empty when the route does not let them).
    reask: str = ""
    reask_modes: list[ReaskMode] = field(default_factory=list)


def card_approval(
    *,
    user: User,
    card: DocumentCard,
    round_param: str = "",
    route_key: str = "",
    decided_id: str = "",
    panel_state: PanelState | None = None,
    start_problem: str = "",
    errors: dict[str, list[str]] | None = None,
    posted: dict[str, str] | None = None,
    people: Sequence[User] | None = None,
) -> CardApproval:
    """Everything the card's approval parts show, in a constant number of queries.

    A command that failed re-renders the card with ``panel_state`` (its panel's
    values and errors), ``start_problem``, or ``errors`` and ``posted`` in place.
    """
    document = card.document
    process, rows = card_process(document)
    rmap = (
        route_map(user=user, document=document, process=process, rows=rows)
        if process
        else None
    )
    words = words_for(card.field_defs, Names(document.organisation_id))
    now = timezone.now()
    holder, names, who_will = map_in_words(rmap, card, words, now)
    is_initiator = document.initiator_id == user.pk
    admin = is_org_admin(user)
    can_manage = bool(process and can_manage_process(user, process))
    may_edit, edit_steps = _round_edits(process)
    may_change_people = _may_change_people(process, can_manage, is_initiator)
    loaded = my_panels(user, rmap, panel_state or {})
    people = card_people(
        user,
        loaded,
        people,
        wanted=can_manage or (may_edit and is_initiator) or may_change_people,
    )
    rounds, shown, old_tasks = _rounds(process, round_param, rmap)
    decided, next_task = _decided(user, card, decided_id)
    files_sha, files_version = card.files_state()
    may_start = _may_start(process, card, is_initiator or admin)
    reask, modes = _reask(process)
    return CardApproval(
        process=process,
        route_map=rmap,
        holder=holder,
        panels=decision_panels(loaded, panel_state or {}, people, now),
        start=start_form(user, card, route_key, start_problem, words)
        if may_start
        else None,
        can_manage=can_manage,
        is_initiator=is_initiator,
        can_cancel=bool(process and process.is_active and (is_initiator or admin)),
        people=people,
        returned_task=returned_task(rmap),
        rounds=rounds,
        shown_round=shown,
        old_round_tasks=old_tasks,
        decided=decided,
        next_task=next_task,
        may_edit_round=may_edit and is_initiator,
        may_change_people=may_change_people,
        edit_steps=edit_steps,
        files_sha=files_sha,
        files_version=files_version,
        errors=errors or {},
        posted=posted or {},
        step_names=names,
        assignee_words=who_will,
        approves=approves(process),
        marks=task_marks(_map_tasks(rmap)) if can_manage or is_initiator else {},
        reask=reask,
        reask_modes=modes if is_initiator else [],
    )


def _reask(process: Process | None) -> tuple[str, list[ReaskMode]]:
    """In revision: the route's re-ask mode and, if the initiator may choose, all."""
    if process is None or process.status != ProcessStatus.REVISION:
        return "", []
    on_return = definitions.definition_for(process.route_version).on_return
    return (
        on_return.reask,
        reask_modes() if on_return.initiator_may_choose_reask else [],
    )


def _map_tasks(rmap: RouteMap | None) -> list[Task]:
    if rmap is None:
        return []
    return [
        item.task
        for stage in rmap.stages
        for step in stage.steps
        for item in step.tasks
    ]


# --- start, rounds, the decision just made, the revision form, the files ------------


def _may_start(process: Process | None, card: DocumentCard, allowed: bool) -> bool:
    """A draft without an active approval, for the initiator or an administrator."""
    return (
        allowed
        and (process is None or not process.is_active)
        and is_draft(card.document)
        and card.document.archived_at is None
    )


def _rounds(
    process: Process | None, round_param: str, rmap: RouteMap | None
) -> tuple[list[int], int, list[Task]]:
    """The rounds newest first, the one shown, and an earlier shown round's tasks
    (from the route map's earlier rounds: no query of its own)."""
    if process is None:
        return [], 0, []
    rounds = list(range(process.round, 0, -1))
    if not (round_param.isdigit() and 0 < int(round_param) < process.round):
        return rounds, process.round, []
    shown = int(round_param)
    earlier = rmap.earlier_rounds if rmap is not None else []
    tasks = [item.task for r in earlier if r.round == shown for item in r.tasks]
    return rounds, shown, tasks


def _decided(
    user: User, card: DocumentCard, decided_id: str
) -> tuple[Task | None, Task | None]:
    """The task the user just decided here, and their next open task."""
    if not decided_id.isdigit():
        return None, None
    document = card.document
    decided = (
        Task.objects.for_org(document.organisation_id)
        .filter(pk=int(decided_id), process__document=document, decided_by=user)
        .first()
    )
    if decided is None:
        return None, None
    following = task_list_for_user(user=user, tab="mine", limit=1).items
    return decided, following[0] if following else None


def _may_change_people(
    process: Process | None, can_manage: bool, is_initiator: bool
) -> bool:
    """The route's owner or an administrator, or the initiator where the route
    allows it, while the round runs (``services.step_edit`` decides again)."""
    if process is None or process.status != ProcessStatus.RUNNING:
        return False
    if can_manage:
        return True
    definition = definitions.definition_for(process.route_version)
    return is_initiator and definition.initiator_may_edit_running


def _round_edits(process: Process | None) -> tuple[bool, list[tuple[str, str]]]:
    """Whether the initiator may change the next round's people and due dates, and
    the steps they may change ("stage.step", "Stage · Step")."""
    if process is None or process.status != ProcessStatus.REVISION:
        return False, []
    definition = definitions.definition_for(process.route_version)
    if not definition.on_return.initiator_may_edit:
        return False, []
    return True, [
        (
            f"{stage.key}.{step.key}",
            f"{name_in_language(stage.name) or stage.key} · "
            f"{name_in_language(step.name) or step.key}",
        )
        for stage in definition.stages
        for step in stage.steps
        if step.kind not in ("wait", "system")
    ]
