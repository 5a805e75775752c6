"""A tiny DSL for routes, a fake directory of people and a harness that drives a run.

    route(seq("legal"), par("cfo", "ceo"), stage("pay", approve("acc", who="role:acc")))

Assignees are written as strings: ``"user:ivan"``, ``"role:lawyer"``,
``"field:fund_controllers"`` (a users field), ``"manager"`` (the initiator's manager),
``"initiator"``, ``"guests:a@x.test,b@x.test"``, ``"contacts"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sogla.engine.calendar import WorkCalendar
from sogla.engine.commands import (
    Cancel,
    Command,
    Decide,
    Reassign,
    ResolveStep,
    Resubmit,
    RoundChanges,
    Start,
    TimerFired,
    Withdraw,
)
from sogla.engine.definition import Assignee, RouteDefinition
from sogla.engine.effects import Effect
from sogla.engine.run import Context, Result, Unresolved, handle
from sogla.engine.states import Participant, ProcessState, TaskRun

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # a Monday
INITIATOR = Participant.user("ini")

COMMENTS = {"approve_with_remarks", "return", "reject", "opinion"}


def who(text: str) -> dict[str, Any]:
    kind, _, value = text.partition(":")
    if kind == "user":
        return {"user": value}
    if kind == "role":
        return {"role": value}
    if kind == "field":
        return {"users_field": value}
    if kind == "manager":
        return {"manager_of": "initiator"}
    if kind == "initiator":
        return {"initiator": True}
    if kind == "guests":
        return {"guests": value.split(",")}
    if kind == "contacts":
        return {"counterparty_contacts": True}
    raise ValueError(text)


def step(
    key: str,
    kind: str = "approve",
    who_: str | None = None,
    *,
    quorum: str | int | None = None,
    when: Mapping[str, Any] | None = None,
    due: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {"key": key, "kind": kind, **extra}
    if kind not in ("wait", "system"):
        data["assignee"] = who(who_ or f"user:{key}")
    if quorum is not None:
        data["quorum"] = quorum
    if when is not None:
        data["when"] = dict(when)
    if due is not None:
        data["due"] = dict(due)
    return data


def approve(key: str, who: str | None = None, **kw: Any) -> dict[str, Any]:
    return step(key, "approve", who, **kw)


def consult(key: str, who: str | None = None, **kw: Any) -> dict[str, Any]:
    return step(key, "consult", who, **kw)


def task(key: str, who: str | None = None, **kw: Any) -> dict[str, Any]:
    return step(key, "task", who, **kw)


def ask(key: str, who: str | None, fields: list[str], **kw: Any) -> dict[str, Any]:
    """A request_info step filling ``fields`` (all required)."""
    kw.setdefault("required_fields", fields)
    return step(key, "request_info", who, fields=fields, **kw)


def wait(key: str, until: str, **kw: Any) -> dict[str, Any]:
    return step(key, "wait", wait_until=until, **kw)


def system(key: str, *actions: Mapping[str, Any], **kw: Any) -> dict[str, Any]:
    return step(key, "system", actions=[dict(a) for a in actions], **kw)


def stage(
    key: str, *steps: Mapping[str, Any], when: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"key": key, "steps": [dict(s) for s in steps]}
    if when is not None:
        data["when"] = dict(when)
    return data


def seq(*keys: str) -> list[dict[str, Any]]:
    """One stage per key, each with one approve step by the user of that name."""
    return [stage(k, approve(k)) for k in keys]


def par(*keys: str, name: str | None = None) -> dict[str, Any]:
    """One stage whose steps (approve, by the user of each name) run in parallel."""
    return stage(name or "_".join(keys), *(approve(k) for k in keys))


def eq(field_: str, value: Any) -> dict[str, Any]:
    return {"field": field_, "op": "eq", "value": value}


def route(
    *stages: Mapping[str, Any] | list[dict[str, Any]], **options: Any
) -> RouteDefinition:
    flat: list[dict[str, Any]] = []
    for item in stages:
        if isinstance(item, list):
            flat.extend(item)
        else:
            flat.append(dict(item))
    return RouteDefinition.model_validate({"key": "r", "stages": flat, **options})


@dataclass
class Directory:
    """Resolves assignees the way the caller would, from plain dictionaries."""

    roles: dict[str, list[str]] = field(default_factory=dict)
    managers: dict[str, str] = field(default_factory=lambda: {"ini": "boss"})
    contacts: list[str] = field(default_factory=list)
    delegations: dict[str, str] = field(default_factory=dict)  # absent -> stand-in
    facts: Mapping[str, Any] = field(default_factory=dict)

    def person(self, user_id: str) -> Participant:
        if user_id in self.delegations:
            return Participant.user(
                self.delegations[user_id], on_behalf_of=Participant.user(user_id)
            )
        return Participant.user(user_id)

    def __call__(self, assignee: Assignee) -> Sequence[Participant] | Unresolved:
        if assignee.user:
            return [self.person(assignee.user)]
        if assignee.role:
            holders = self.roles.get(assignee.role)
            if not holders:
                return Unresolved(f'nobody holds the role "{assignee.role}"')
            return [self.person(u) for u in holders]
        if assignee.users_field or assignee.user_field:
            value = self.facts.get(assignee.users_field or assignee.user_field or "")
            ids = value if isinstance(value, list) else [value] if value else []
            if not ids:
                return Unresolved("the field is empty")
            return [self.person(str(u)) for u in ids]
        if assignee.manager_of:
            boss = self.managers.get("ini")
            return [self.person(boss)] if boss else Unresolved("no manager")
        if assignee.initiator:
            return [INITIATOR]
        if assignee.guests:
            return [Participant.guest(e) for e in assignee.guests]
        if assignee.counterparty_contacts:
            if not self.contacts:
                return Unresolved("the counterparty has no contacts")
            return [Participant.guest(e) for e in self.contacts]
        return Unresolved("unsupported assignee")


class Harness:
    """Drives one process: keeps the state, the clock and the facts.

    Every state is round-tripped through ``to_dict``/``from_dict`` before the next
    command, so serialisation is tested on every path.
    """

    def __init__(
        self,
        definition: RouteDefinition,
        facts: Mapping[str, Any] | None = None,
        directory: Directory | None = None,
        calendar: WorkCalendar | None = None,
        zones: Mapping[str, tzinfo] | None = None,
        files: str | None = "v1",
    ) -> None:
        self.definition = definition
        self.facts: dict[str, Any] = dict(facts or {})
        self.directory = directory or Directory()
        self.calendar = calendar or WorkCalendar()
        self.zones = dict(zones or {})
        self.now = T0
        self.files = files
        self.state: ProcessState | None = None
        self.effects: tuple[Effect, ...] = ()
        self.log: list[Effect] = []
        self._request = 0

    def ctx(self) -> Context:
        self.directory.facts = self.facts
        return Context(
            now=self.now,
            facts=self.facts,
            calendar=self.calendar,
            resolve=self.directory,
            files_sha256=self.files,
            zone=lambda person: self.zones.get(person.id),
        )

    def run(self, command: Command) -> Result:
        before = self.state.to_dict() if self.state else None
        result = handle(self.definition, self.state, command, self.ctx())
        if self.state is not None:
            assert self.state.to_dict() == before, "the input state was changed"
        data = result.state.to_dict()
        again = ProcessState.from_dict(data)
        assert again == result.state
        assert again.to_dict() == data
        assert again.open_tasks == result.state.open_tasks
        self.state = again
        self.effects = result.effects
        self.log.extend(result.effects)
        return result

    @property
    def s(self) -> ProcessState:
        assert self.state is not None
        return self.state

    def start(self) -> Result:
        return self.run(Start(INITIATOR))

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def open(self, step_key: str | None = None) -> list[TaskRun]:
        tasks = self.s.open_task_runs()
        return [t for t in tasks if step_key is None or t.step == step_key]

    def only(self, step_key: str | None = None) -> TaskRun:
        tasks = self.open(step_key)
        assert len(tasks) == 1, tasks
        return tasks[0]

    def task_of(self, user_id: str, step_key: str | None = None) -> TaskRun:
        for t in self.open(step_key):
            if t.participant.id == user_id:
                return t
        raise AssertionError(f"no open task for {user_id}: {self.open()}")

    def decide(
        self,
        target: str | TaskRun,
        outcome: str = "approve",
        comment: str | None = None,
        fields: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> Result:
        t = target if isinstance(target, TaskRun) else self.task_of(target)
        if comment is None:
            comment = "because" if outcome in COMMENTS else ""
        self._request += 1
        return self.run(
            Decide(
                task_id=t.id,
                actor=t.participant,
                outcome=outcome,
                comment=comment,
                request_id=request_id or f"req-{self._request}",
                files_sha256=self.files,
                fields=dict(fields or {}),
            )
        )

    def resubmit(self, changes: RoundChanges | None = None, reask: str = "") -> Result:
        return self.run(
            Resubmit(INITIATOR, "fixed", changes or RoundChanges(), reask=reask)
        )

    def withdraw(self, task_: TaskRun, comment: str = "v2 changes 4.2") -> Result:
        return self.run(Withdraw(task_.id, task_.participant, comment))

    def cancel(self) -> Result:
        return self.run(Cancel(INITIATOR, "no longer needed"))

    def reassign(self, task_: TaskRun, to: str) -> Result:
        return self.run(
            Reassign(task_.id, Participant.user(to), Participant.user("adm"))
        )

    def resolve(self, stage_: str, step_: str, *users: str) -> Result:
        people = [Participant.user(u) for u in users] if users else None
        return self.run(ResolveStep(stage_, step_, Participant.user("adm"), people))

    def fire(self, timer_id: str) -> Result:
        return self.run(TimerFired(timer_id))

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.effects]

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.effects if isinstance(e, kind)]

    def task_states(self, step_key: str, round_: int | None = None) -> list[str]:
        run = self.s.step_run(self.stage_of(step_key), step_key, round_)
        assert run is not None
        return [self.s.tasks[t].state.value for t in run.task_ids]

    def stage_of(self, step_key: str) -> str:
        for st in self.definition.stages:
            if any(s.key == step_key for s in st.steps):
                return st.key
        raise KeyError(step_key)
