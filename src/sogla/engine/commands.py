"""What a caller asks the engine to do with a process (imperative names)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sogla.engine.states import Participant


@dataclass(frozen=True)
class Start:
    """Start the route for a document; ``actor`` becomes the initiator."""

    actor: Participant


@dataclass(frozen=True)
class Decide:
    """A participant's decision on a task.

    ``request_id`` makes the decision idempotent: the same (task, request id) again
    is a harmless repeat. ``files_sha256`` is the hash of the files the decision was
    made on; ``fields`` are the answers of a request_info/task step (written to the
    document by the caller through the ``SetFields`` effect). ``to_stage`` is the
    earlier stage a "return_to_stage" decision sends the process back to.
    """

    task_id: str
    actor: Participant
    outcome: str
    comment: str = ""
    request_id: str = ""
    files_sha256: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    to_stage: str = ""


@dataclass(frozen=True)
class RoundChanges:
    """The initiator's edits for the next round, keyed by ``"stage.step"``.

    Allowed only where the route says ``on_return.initiator_may_edit``.
    """

    add: Mapping[str, Sequence[Participant]] = field(default_factory=dict)
    remove: Mapping[str, Sequence[str]] = field(default_factory=dict)  # seats (refs)
    due: Mapping[str, datetime] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.add or self.remove or self.due)


@dataclass(frozen=True)
class Resubmit:
    """The initiator sends a returned document again: round + 1."""

    actor: Participant
    comment: str = ""
    changes: RoundChanges = field(default_factory=RoundChanges)
    # Whom the new round asks (a ``definition.Reask`` value); "" keeps the route's.
    # Another mode than the route's needs ``on_return.initiator_may_choose_reask``.
    reask: str = ""


@dataclass(frozen=True)
class Withdraw:
    """A person takes back an approval carried over to this round.

    If its step is still open (or its stage still runs) they get an open task again;
    if the stage has finished, the document goes back to the initiator with
    ``comment``, as a return does.
    """

    task_id: str
    actor: Participant
    comment: str


@dataclass(frozen=True)
class Cancel:
    actor: Participant
    reason: str = ""


@dataclass(frozen=True)
class Reassign:
    """Give an open task to someone else (an administrator or the route owner)."""

    task_id: str
    to: Participant
    by: Participant


@dataclass(frozen=True)
class EditStep:
    """Change a step's people while the round runs (the route's owner, an
    administrator or, where the route allows it, the initiator; the caller checks
    who).

    In the open stage: ``add`` opens a task for each person, ``remove`` closes the
    pending tasks of these seats, ``due_at`` moves the deadline of the pending tasks
    of ``due_for`` (seats; empty: every pending task of the step). In a stage still
    to come the same edits are kept as the step's override and applied when the
    stage opens (``due_at`` then applies to the whole step).
    """

    stage: str
    step: str
    by: Participant
    add: Sequence[Participant] = ()
    remove: Sequence[str] = ()  # seats (refs)
    due_at: datetime | None = None
    due_for: Sequence[str] = ()  # seats (refs); empty: every pending task

    @property
    def is_empty(self) -> bool:
        return not (self.add or self.remove or self.due_at)


@dataclass(frozen=True)
class ResolveStep:
    """Fix a failed step of the current stage.

    With ``participants`` the step gets tasks for exactly these people; without, the
    engine tries again from the context (resolves the assignee anew, re-reads a wait
    step's date field).
    """

    stage: str
    step: str
    by: Participant
    participants: Sequence[Participant] | None = None


@dataclass(frozen=True)
class TimerFired:
    """The worker fired a timer; a timer that is no longer pending is a no-op."""

    timer_id: str


@dataclass(frozen=True)
class Reschedule:
    """The working calendar changed: recompute the deadlines, reminders and
    escalations of the open tasks (the context carries the new calendar)."""


Command = (
    Start
    | Decide
    | Resubmit
    | Withdraw
    | Cancel
    | Reassign
    | EditStep
    | ResolveStep
    | TimerFired
    | Reschedule
)
