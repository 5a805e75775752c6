"""The card's decision panels: my open tasks in this approval, each with its form."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sogla.documents.fields import PERSON_KINDS
from sogla.documents.forms import FieldWidget, build_widgets
from sogla.documents.selectors import org_users
from sogla.orgs.models import User
from sogla.workflow.confirmations import needs_code
from sogla.workflow.models import Task
from sogla.workflow.selectors import (
    DecisionPanel,
    RouteMap,
    decision_panel_of,
    task_get_for_decision,
)

PanelState = Mapping[int, Mapping[str, Any]]  # task id -> what its form posted


@dataclass
class PanelView:
    panel: DecisionPanel
    request_id: str
    widgets: list[FieldWidget]
    errors: dict[str, list[str]]
    outcome: str
    comment: str
    overdue: bool
    due_at: datetime | None
    general_error: str = ""
    to_stage: str = ""  # the stage chosen for "return_to_stage"

    @property
    def task(self) -> Task:
        return self.panel.task

    @property
    def needs_code(self) -> bool:
        """A sign step or ``confirm: otp``: the form asks for a one-time code."""
        return needs_code(self.panel.step)


def my_panels(
    user: User, rmap: RouteMap | None, panel_state: PanelState
) -> list[DecisionPanel]:
    """My open tasks in this round, and a task a failed command re-shows (it may be
    closed by now); not the initiator's revision task."""
    # the route map's own tasks, already read with their process and document
    known = {item.task.pk: item.task for item in rmap.my_tasks} if rmap else {}
    wanted = list(known) + [pk for pk in panel_state if pk not in known]
    panels = [
        decision_panel_of(known[pk])
        if pk in known
        else task_get_for_decision(user=user, task_id=pk)
        for pk in wanted
    ]
    return [panel for panel in panels if panel.task.kind != "revision"]


def card_people(
    user: User,
    panels: Sequence[DecisionPanel],
    people: Sequence[User] | None,
    *,
    wanted: bool,
) -> list[User]:
    """The organisation's people, loaded once when the card offers a choice of
    person: in a panel's person field (S6's "choose the designer"), or when
    ``wanted`` (the owner's reassign, the initiator's round edits). ``people``
    given by a re-render are kept."""
    if people is not None:
        return list(people)
    asks = any(f.kind in PERSON_KINDS for panel in panels for f in panel.fields)
    return list(org_users(user)) if asks or wanted else []


def decision_panels(
    panels: Sequence[DecisionPanel],
    panel_state: PanelState,
    people: Sequence[User],
    now: datetime,
) -> list[PanelView]:
    """Each panel with its form: what was posted, its errors, a fresh request id."""
    views = []
    for panel in panels:
        task = panel.task
        state = panel_state.get(task.pk, {})
        late = task.overdue or (task.due_at is not None and task.due_at < now)
        views.append(
            PanelView(
                panel=panel,
                request_id=state.get("request_id") or uuid.uuid4().hex,
                widgets=build_widgets(
                    panel.fields,
                    state.get("values", {}),
                    state.get("errors", {}),
                    users=list(people),
                ),
                errors=state.get("errors", {}),
                outcome=state.get("outcome", ""),
                comment=state.get("comment", ""),
                overdue=bool(task.is_open and late),
                due_at=task.due_at,
                general_error=state.get("general", ""),
                to_stage=state.get("to_stage", ""),
            )
        )
    return views
