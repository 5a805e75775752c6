"""The run side of the engine: the state of one process, as plain dataclasses.

The state is the aggregate the ``workflow`` app rebuilds from its rows (Process, Task,
Timer) and hands to :func:`sogla.engine.run.handle`. It is JSON-serialisable through
:meth:`ProcessState.to_dict` / :meth:`ProcessState.from_dict`; ``SCHEMA_VERSION`` is
written into every dictionary, and ``from_dict`` upgrades older dictionaries through
``upgrade_from_N`` functions (none yet: this is version 1).

Keys: a stage run is ``"{round}:{stage}"``, a step run ``"{round}:{stage}:{step}"``.
Task ids are ``"r{round}:{stage}:{step}:{n}"`` with ``n`` a counter in the state, so
ids are deterministic and never reused. Timer ids name their kind and target
(``"due:<task>"``, ``"remind:<task>"``, ``"wait:<step run>"``, ``"stall:<stage run>"``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

SCHEMA_VERSION = 1

REVISION_STEP = "revision"  # the pseudo step of the initiator's revision task


class ProcessStatus(StrEnum):
    RUNNING = "running"
    REVISION = "revision"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


FINISHED = frozenset(
    {ProcessStatus.APPROVED, ProcessStatus.REJECTED, ProcessStatus.CANCELLED}
)


class StageState(StrEnum):
    OPEN = "open"
    SKIPPED = "skipped"
    DONE = "done"
    CLOSED = "closed"  # the process was returned, rejected or cancelled while open


class StepState(StrEnum):
    NOT_STARTED = "not_started"
    SKIPPED = "skipped"
    OPEN = "open"
    DONE = "done"
    FAILED = "failed"  # unresolved assignee, empty wait date: waits for ResolveStep
    CLOSED = "closed"  # ended without reaching its quorum (stage or process ended)


class TaskState(StrEnum):
    OPEN = "open"
    DONE = "done"
    CLOSED_BY_QUORUM = "closed_by_quorum"
    CANCELLED = "cancelled"  # see TaskRun.closed_reason
    CARRIED_OVER = "carried_over"  # a positive decision of the previous round


class TimerKind(StrEnum):
    DUE = "due"  # a task's deadline: overdue notice
    REMINDER = "reminder"  # before a task's deadline
    WAIT = "wait"  # a wait step's date
    STALL = "stall"  # a stage open too long
    ESCALATE = "escalate"  # a task still open this long after its deadline


ParticipantKind = Literal["user", "guest"]


@dataclass(frozen=True)
class Participant:
    """A person as the engine sees them: a user id or a guest's e-mail.

    ``on_behalf_of`` is set by the caller when delegation applies: the task goes to
    this participant, acting for ``on_behalf_of`` (the *seat*).
    """

    kind: ParticipantKind
    id: str
    on_behalf_of: Participant | None = None

    @classmethod
    def user(
        cls, id: str | int, on_behalf_of: Participant | None = None
    ) -> Participant:
        return cls("user", str(id), on_behalf_of)

    @classmethod
    def guest(cls, email: str) -> Participant:
        return cls("guest", email.strip().lower())

    @property
    def ref(self) -> str:
        """``"user:42"`` or ``"guest:a@b.c"``: who it is, ignoring delegation."""
        return f"{self.kind}:{self.id}"

    @property
    def seat(self) -> str:
        """The ref of the person the task belongs to (the delegator when delegated)."""
        return self.on_behalf_of.ref if self.on_behalf_of else self.ref

    def bare(self) -> Participant:
        return Participant(self.kind, self.id)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "id": self.id}
        if self.on_behalf_of is not None:
            data["on_behalf_of"] = self.on_behalf_of.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Participant:
        obo = data.get("on_behalf_of")
        kind: ParticipantKind = "guest" if data["kind"] == "guest" else "user"
        return cls(kind, str(data["id"]), cls.from_dict(obo) if obo else None)


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


@dataclass
class TaskRun:
    id: str
    round: int
    stage: str
    step: str  # REVISION_STEP for the initiator's revision task
    kind: str  # a StepKind value, or "revision"
    participant: Participant
    on_behalf_of: Participant | None
    state: TaskState
    created_at: datetime
    due_at: datetime | None = None
    outcome: str | None = None
    comment: str = ""
    decided_at: datetime | None = None
    decided_by: str | None = None  # the ref of whoever acted
    files_sha256: str | None = None
    request_id: str | None = None
    closed_reason: str | None = None  # why a task ended without its own decision
    carried_from: str | None = None  # the task id whose decision was carried over
    overdue: bool = False

    @property
    def seat(self) -> str:
        return (self.on_behalf_of or self.participant).ref

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "round": self.round,
            "stage": self.stage,
            "step": self.step,
            "kind": self.kind,
            "participant": self.participant.to_dict(),
            "on_behalf_of": self.on_behalf_of.to_dict() if self.on_behalf_of else None,
            "state": self.state.value,
            "created_at": _dt(self.created_at),
            "due_at": _dt(self.due_at),
            "outcome": self.outcome,
            "comment": self.comment,
            "decided_at": _dt(self.decided_at),
            "decided_by": self.decided_by,
            "files_sha256": self.files_sha256,
            "request_id": self.request_id,
            "closed_reason": self.closed_reason,
            "carried_from": self.carried_from,
            "overdue": self.overdue,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskRun:
        obo = data.get("on_behalf_of")
        return cls(
            id=data["id"],
            round=int(data["round"]),
            stage=data["stage"],
            step=data["step"],
            kind=data["kind"],
            participant=Participant.from_dict(data["participant"]),
            on_behalf_of=Participant.from_dict(obo) if obo else None,
            state=TaskState(data["state"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            due_at=_parse_dt(data.get("due_at")),
            outcome=data.get("outcome"),
            comment=data.get("comment", ""),
            decided_at=_parse_dt(data.get("decided_at")),
            decided_by=data.get("decided_by"),
            files_sha256=data.get("files_sha256"),
            request_id=data.get("request_id"),
            closed_reason=data.get("closed_reason"),
            carried_from=data.get("carried_from"),
            overdue=bool(data.get("overdue", False)),
        )


@dataclass
class StepRun:
    round: int
    stage: str
    step: str
    kind: str
    state: StepState = StepState.NOT_STARTED
    reason: str = ""  # why skipped or failed
    quorum: Literal["any", "all"] | int = "all"
    task_ids: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.round}:{self.stage}:{self.step}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "stage": self.stage,
            "step": self.step,
            "kind": self.kind,
            "state": self.state.value,
            "reason": self.reason,
            "quorum": self.quorum,
            "task_ids": list(self.task_ids),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRun:
        return cls(
            round=int(data["round"]),
            stage=data["stage"],
            step=data["step"],
            kind=data["kind"],
            state=StepState(data["state"]),
            reason=data.get("reason", ""),
            quorum=data.get("quorum", "all"),
            task_ids=list(data.get("task_ids", [])),
        )


@dataclass
class StageRun:
    round: int
    stage: str
    index: int
    state: StageState
    reason: str = ""  # why skipped
    opened_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.round}:{self.stage}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "stage": self.stage,
            "index": self.index,
            "state": self.state.value,
            "reason": self.reason,
            "opened_at": _dt(self.opened_at),
            "finished_at": _dt(self.finished_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageRun:
        return cls(
            round=int(data["round"]),
            stage=data["stage"],
            index=int(data["index"]),
            state=StageState(data["state"]),
            reason=data.get("reason", ""),
            opened_at=_parse_dt(data.get("opened_at")),
            finished_at=_parse_dt(data.get("finished_at")),
        )


@dataclass(frozen=True)
class TimerRun:
    """A pending timer. Fired and cancelled timers leave the state."""

    id: str
    kind: TimerKind
    at: datetime
    target: str  # a task id, a step run key or a stage run key

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "at": _dt(self.at),
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimerRun:
        at = datetime.fromisoformat(data["at"])
        return cls(data["id"], TimerKind(data["kind"]), at, data["target"])


@dataclass(frozen=True)
class StepOverride:
    """The initiator's changes to one step for the next round (``Resubmit``)."""

    add: tuple[Participant, ...] = ()
    remove: tuple[str, ...] = ()  # seats (participant refs)
    due_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "add": [p.to_dict() for p in self.add],
            "remove": list(self.remove),
            "due_at": _dt(self.due_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepOverride:
        return cls(
            add=tuple(Participant.from_dict(p) for p in data.get("add", [])),
            remove=tuple(data.get("remove", [])),
            due_at=_parse_dt(data.get("due_at")),
        )


@dataclass
class ProcessState:
    """Everything the engine knows about one run of a route.

    ``tasks``, ``stages`` and ``steps`` keep the whole history (all rounds);
    ``timers`` holds only pending timers; ``open_tasks`` is an index of the open
    task ids, derived from ``tasks`` and not serialised.
    """

    status: ProcessStatus
    round: int
    stage_index: int
    initiator: Participant
    started_at: datetime
    finished_at: datetime | None = None
    returned_from: str | None = None  # the stage key that returned the process
    # The stage a "return_to_stage" decision sent this round back to: its people
    # are all asked again (no carried-over decisions); None in any other round.
    sent_back_to: str | None = None
    seq: int = 0  # task counter
    stages: dict[str, StageRun] = field(default_factory=dict)
    steps: dict[str, StepRun] = field(default_factory=dict)
    tasks: dict[str, TaskRun] = field(default_factory=dict)
    timers: dict[str, TimerRun] = field(default_factory=dict)
    overrides: dict[str, StepOverride] = field(default_factory=dict)  # "stage.step"
    open_tasks: list[str] = field(default_factory=list, compare=False)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    def open_task_runs(self) -> list[TaskRun]:
        return [self.tasks[task_id] for task_id in self.open_tasks]

    def step_run(
        self, stage: str, step: str, round: int | None = None
    ) -> StepRun | None:
        return self.steps.get(
            f"{self.round if round is None else round}:{stage}:{step}"
        )

    def stage_run(self, stage: str, round: int | None = None) -> StageRun | None:
        return self.stages.get(f"{self.round if round is None else round}:{stage}")

    def clone(self) -> ProcessState:
        """A copy whose containers may be changed without touching this state.

        The run objects inside are shared; the engine copies one before changing it
        (copy on write), so a call costs the size of the stage it touches plus one
        shallow copy of each index.
        """
        twin = copy.copy(self)
        twin.stages = dict(self.stages)
        twin.steps = dict(self.steps)
        twin.tasks = dict(self.tasks)
        twin.timers = dict(self.timers)
        twin.overrides = dict(self.overrides)
        twin.open_tasks = list(self.open_tasks)
        return twin

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "status": self.status.value,
            "round": self.round,
            "stage_index": self.stage_index,
            "initiator": self.initiator.to_dict(),
            "started_at": _dt(self.started_at),
            "finished_at": _dt(self.finished_at),
            "returned_from": self.returned_from,
            "sent_back_to": self.sent_back_to,
            "seq": self.seq,
            "stages": [s.to_dict() for s in self.stages.values()],
            "steps": [s.to_dict() for s in self.steps.values()],
            "tasks": [t.to_dict() for t in self.tasks.values()],
            "timers": [t.to_dict() for t in self.timers.values()],
            "overrides": {k: o.to_dict() for k, o in self.overrides.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessState:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            msg = f"unknown process state schema version {version!r}"
            raise ValueError(msg)
        stages = [StageRun.from_dict(s) for s in data.get("stages", [])]
        steps = [StepRun.from_dict(s) for s in data.get("steps", [])]
        tasks = [TaskRun.from_dict(t) for t in data.get("tasks", [])]
        timers = [TimerRun.from_dict(t) for t in data.get("timers", [])]
        return cls(
            status=ProcessStatus(data["status"]),
            round=int(data["round"]),
            stage_index=int(data["stage_index"]),
            initiator=Participant.from_dict(data["initiator"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            finished_at=_parse_dt(data.get("finished_at")),
            returned_from=data.get("returned_from"),
            sent_back_to=data.get("sent_back_to"),
            seq=int(data.get("seq", 0)),
            stages={s.key: s for s in stages},
            steps={s.key: s for s in steps},
            tasks={t.id: t for t in tasks},
            timers={t.id: t for t in timers},
            overrides={
                k: StepOverride.from_dict(v)
                for k, v in data.get("overrides", {}).items()
            },
            open_tasks=[t.id for t in tasks if t.state is TaskState.OPEN],
        )
