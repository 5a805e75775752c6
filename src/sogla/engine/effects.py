"""What the caller must do after a command: the engine's only output besides state.

The ``workflow`` app applies these in the transaction that saved the state: task and
timer rows, notifications through the outbox, status and field changes, automation
actions, audit events. Names of facts that happened are past tense; names of things
to do are imperative. Recipients are participant refs (``"user:42"``,
``"guest:a@b.c"``) or route words the caller resolves (``"initiator"``,
``"role:<key>"``, ``"field:<key>"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sogla.engine.definition import Action
from sogla.engine.states import Participant, TimerKind


@dataclass(frozen=True)
class OpenTask:
    task_id: str
    round: int
    stage: str
    step: str
    kind: str
    participant: Participant
    on_behalf_of: Participant | None
    due_at: datetime | None


@dataclass(frozen=True)
class CarryOver:
    """A task created already decided: the previous round's positive decision."""

    task_id: str
    from_task_id: str
    round: int
    stage: str
    step: str
    participant: Participant
    on_behalf_of: Participant | None
    outcome: str
    # The approval was given on other files than the round runs on (the route
    # carries approvals over even when the files changed): the person is told.
    files_changed: bool = False


@dataclass(frozen=True)
class ApprovalWithdrawn:
    """A person took back an approval carried over to this round (``Withdraw``).

    The carried task is cancelled with ``reason="withdrawn"``; ``reopened`` is the
    person's new open task, or None when the document went back to the initiator
    (its stage had finished; ``ProcessReturned`` follows).
    """

    task_id: str
    by: str  # the ref of whoever withdrew
    comment: str
    reopened: str | None = None


@dataclass(frozen=True)
class CloseTask:
    """A task ends: ``state`` is done, closed_by_quorum or cancelled.

    For a decision (``state == "done"``) the decision's outcome, comment, actor and
    files hash are given; otherwise ``reason`` says why it closed.
    """

    task_id: str
    state: str
    outcome: str | None = None
    comment: str = ""
    decided_by: str | None = None
    files_sha256: str | None = None
    request_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SetTimer:
    timer_id: str
    kind: TimerKind
    at: datetime
    target: str


@dataclass(frozen=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True)
class Notify:
    """Send a notification of ``kind`` (e.g. reminder, overdue, returned)."""

    kind: str
    recipients: tuple[str, ...]
    task_id: str | None = None
    stage: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


# The key of a type's own "returned for revision" status; types without it show
# their draft status while the document is in revision.
RETURNED_STATUS_KEY = "returned"


@dataclass(frozen=True)
class SetStatus:
    """Set the document status: the type's status ``key``; when the type has none of
    that key (or no key is given), its first status of that ``meaning``."""

    meaning: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class SetFields:
    """Write a request_info/task step's answers to the document."""

    task_id: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class RunAction:
    """Run a route action (a system step's, a step's ``on_done`` or ``on_finish``'s)."""

    action: Action
    stage: str | None = None
    step: str | None = None
    on_done: bool = False  # a step's ``on_done``: its status change is audited


@dataclass(frozen=True)
class ReportUnresolved:
    """A step could not start (nobody to assign, empty date...): show and alert."""

    stage: str
    step: str
    reason: str


@dataclass(frozen=True)
class DeadlineUnknown:
    """A step's deadline field is empty or not a date: its tasks have no due time."""

    stage: str
    step: str
    reason: str


@dataclass(frozen=True)
class RoundStarted:
    round: int


@dataclass(frozen=True)
class StageOpened:
    round: int
    stage: str


@dataclass(frozen=True)
class StageSkipped:
    round: int
    stage: str
    reason: str


@dataclass(frozen=True)
class StageFinished:
    round: int
    stage: str


@dataclass(frozen=True)
class StepSkipped:
    round: int
    stage: str
    step: str
    reason: str


@dataclass(frozen=True)
class StepFinished:
    round: int
    stage: str
    step: str


@dataclass(frozen=True)
class ProcessReturned:
    round: int
    stage: str
    step: str
    task_id: str
    comment: str


@dataclass(frozen=True)
class ProcessSentBack:
    """A decider sent the process back to the earlier stage ``to_stage``: round
    ``round`` ended at ``stage``; a new round starts at ``to_stage``."""

    round: int
    stage: str
    step: str
    task_id: str
    to_stage: str
    comment: str


@dataclass(frozen=True)
class DeadlineMoved:
    """An open task's deadline moved: by a changed working calendar
    (``Reschedule``) or by hand (``EditStep``, ``by`` names who; ``was`` is None
    when the task had no deadline). The task's row and timers follow from the
    state; the assignee is told."""

    task_id: str
    participant: Participant
    was: datetime | None
    now: datetime
    by: str = ""


@dataclass(frozen=True)
class ProcessFinished:
    status: str


Effect = (
    OpenTask
    | CarryOver
    | ApprovalWithdrawn
    | CloseTask
    | SetTimer
    | CancelTimer
    | Notify
    | SetStatus
    | SetFields
    | RunAction
    | ReportUnresolved
    | DeadlineUnknown
    | RoundStarted
    | StageOpened
    | StageSkipped
    | StageFinished
    | StepSkipped
    | StepFinished
    | ProcessReturned
    | ProcessSentBack
    | ProcessFinished
    | DeadlineMoved
)
