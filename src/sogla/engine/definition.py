"""Route definitions: the JSON an administrator writes, as typed, frozen models.

A route is a list of stages run in order; the steps of a stage run in parallel; a
stage finishes when its steps reach their quorum. ``validate_route`` returns every
problem with its path, e.g. ``stages[2].steps[0].assignee.role: no role "lawer"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sogla.engine.conditions import Condition, referenced_fields


class StepKind(StrEnum):
    APPROVE = "approve"
    CONSULT = "consult"
    SIGN = "sign"
    ACKNOWLEDGE = "acknowledge"
    REQUEST_INFO = "request_info"
    TASK = "task"
    WAIT = "wait"
    SYSTEM = "system"


class Outcome(StrEnum):
    APPROVE = "approve"
    APPROVE_WITH_REMARKS = "approve_with_remarks"
    RETURN = "return"
    REJECT = "reject"
    ACKNOWLEDGE = "acknowledge"
    DONE = "done"
    OPINION = "opinion"


# What each kind allows, and what it offers when the route does not say.
KIND_OUTCOMES: dict[StepKind, tuple[Outcome, ...]] = {
    StepKind.APPROVE: (
        Outcome.APPROVE, Outcome.APPROVE_WITH_REMARKS, Outcome.RETURN, Outcome.REJECT,
    ),
    StepKind.SIGN: (Outcome.APPROVE, Outcome.RETURN, Outcome.REJECT),
    StepKind.CONSULT: (Outcome.OPINION,),
    StepKind.ACKNOWLEDGE: (Outcome.ACKNOWLEDGE,),
    StepKind.REQUEST_INFO: (Outcome.DONE, Outcome.RETURN, Outcome.REJECT),
    StepKind.TASK: (Outcome.DONE, Outcome.RETURN, Outcome.REJECT),
    StepKind.WAIT: (),
    StepKind.SYSTEM: (),
}  # fmt: skip
HUMAN_KINDS = frozenset(k for k, outcomes in KIND_OUTCOMES.items() if outcomes)
# Outcomes that count towards a step's quorum.
POSITIVE = frozenset(
    {Outcome.APPROVE, Outcome.APPROVE_WITH_REMARKS, Outcome.ACKNOWLEDGE, Outcome.DONE}
)
COMMENT_REQUIRED = frozenset(
    {Outcome.APPROVE_WITH_REMARKS, Outcome.RETURN, Outcome.REJECT, Outcome.OPINION}
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Text(_Frozen):
    ru: str = ""
    en: str = ""

    def get(self, language: str) -> str:
        return (self.en if language == "en" else self.ru) or self.ru or self.en


class Assignee(_Frozen):
    """Exactly one way to find the people of a step."""

    user: str | None = None  # a username
    role: str | None = None
    manager_of: str | None = None  # "initiator" or a user field key
    levels: int = Field(default=1, ge=1, le=10)
    department_head: str | None = None  # "initiator" or a department code
    user_field: str | None = None
    users_field: str | None = None
    initiator: bool = False
    guests: list[str] | None = None  # e-mail addresses
    guest_field: str | None = None
    counterparty_contacts: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> Assignee:
        chosen = [
            name
            for name in (
                "user", "role", "manager_of", "department_head", "user_field",
                "users_field", "guests", "guest_field",
            )
            if getattr(self, name) is not None
        ] + [name for name in ("initiator", "counterparty_contacts") if getattr(self, name)]  # fmt: skip
        if len(chosen) != 1:
            msg = "choose exactly one of user, role, manager_of, department_head, user_field, users_field, initiator, guests, guest_field, counterparty_contacts"
            raise ValueError(msg)
        return self

    @property
    def is_guest(self) -> bool:
        return bool(self.guests or self.guest_field or self.counterparty_contacts)

    @property
    def default_quorum(self) -> Literal["any", "all"]:
        """Several named people all decide; one of a role's holders is enough."""
        return "any" if self.role else "all"


class Span(_Frozen):
    """A length of time: working days of the calendar, or hours."""

    working_days: int | None = Field(default=None, ge=1, le=365)
    hours: int | None = Field(default=None, ge=1, le=24 * 365)

    @model_validator(mode="after")
    def _one(self) -> Span:
        if (self.working_days is None) == (self.hours is None):
            msg = "choose one of working_days, hours"
            raise ValueError(msg)
        return self


class Due(_Frozen):
    """A step's deadline, its reminder before it and its escalation after it.

    Without ``remind_before`` the reminder comes one working day before the
    deadline, or after 80% of the time when that is later; ``reminder: false``
    turns it off. ``escalate_after`` (or the route's) tells the assignee's manager
    when the task is still open that long after the deadline.
    """

    working_days: int | None = Field(default=None, ge=0, le=365)
    hours: int | None = Field(default=None, ge=1, le=24 * 365)
    field: str | None = None  # a date field: due at the end of that day
    reminder: bool = True
    remind_before: Span | None = None
    escalate_after: Span | None = None

    @model_validator(mode="after")
    def _one(self) -> Due:
        if sum(v is not None for v in (self.working_days, self.hours, self.field)) != 1:
            msg = "choose one of working_days, hours, field"
            raise ValueError(msg)
        return self


class Remind(_Frozen):
    """A reminder ``days`` before a date field, to ``notify`` (route words).

    It outlives the process: a contract's renewal a month before its end date.
    """

    before_field: str
    days: int = Field(default=0, ge=0, le=3650)
    notify: list[str] = Field(default=["initiator"], min_length=1)


class Action(_Frozen):
    """A system action: on a system step or when the route finishes."""

    set_status: str | None = None
    set_field: dict[str, Any] | None = None
    notify: list[str] | None = None  # "initiator", "role:<key>", "field:<key>"
    file_to: str | None = None
    remind: Remind | None = None
    generate: str | None = None


class StepDef(_Frozen):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")
    kind: StepKind = StepKind.APPROVE
    name: Text = Text()
    assignee: Assignee | None = None
    quorum: Literal["any", "all"] | int | None = None
    when: Condition | None = None
    due: Due | None = None
    outcomes: list[Outcome] | None = None
    fields: list[str] = []  # request_info / task: fields the assignee fills
    required_fields: list[str] = []
    wait_until: str | None = None  # wait: until the end of a date field's day
    wait_offset_days: int = Field(default=0, ge=-3650, le=3650)  # ... plus N days
    wait_for: Span | None = None  # wait: this long from when the step opens
    actions: list[Action] = []  # system
    confirm: Literal["otp"] | None = None

    def allowed_outcomes(self) -> tuple[Outcome, ...]:
        return tuple(self.outcomes) if self.outcomes else KIND_OUTCOMES[self.kind]

    def effective_quorum(self) -> Literal["any", "all"] | int:
        if self.quorum is not None:
            return self.quorum
        return self.assignee.default_quorum if self.assignee else "all"


class StageDef(_Frozen):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")
    name: Text = Text()
    when: Condition | None = None
    steps: list[StepDef] = Field(min_length=1)

    def step(self, key: str) -> StepDef | None:
        """The step ``key`` of this stage, or None."""
        return next((s for s in self.steps if s.key == key), None)


class OnReturn(_Frozen):
    restart: Literal["first_stage", "same_stage"] = "first_stage"
    reask: Literal["all", "not_approved"] = "all"
    initiator_may_edit: bool = False


class StallAlert(_Frozen):
    hours: int = Field(ge=1)
    notify: list[str] = ["initiator"]


class RouteDefinition(_Frozen):
    key: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,59}$")
    name: Text = Text()
    stall_alert: StallAlert | None = None
    escalate_after: Span | None = None  # default for steps with a deadline
    bulk_allowed: bool = False  # approve steps may be approved from the inbox in bulk
    on_return: OnReturn = OnReturn()
    stages: list[StageDef] = Field(min_length=1)
    on_finish: list[Action] = []

    def stage(self, key: str) -> StageDef:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)

    def step(self, stage: str, step: str) -> StepDef | None:
        """The step ``step`` of stage ``stage``; None when either is not in the route."""
        for stage_def in self.stages:
            if stage_def.key == stage:
                return stage_def.step(step)
        return None


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class OrgFacts:
    """What a definition is checked against: the organisation's names and a type's fields.

    ``fields`` maps field key -> kind ("string", "date", "user", ...). Derived facts
    such as ``initiator.department`` are always known.
    """

    roles: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    fields: Mapping[str, str] = field(default_factory=dict)


DERIVED_FACTS = frozenset(
    {"initiator.department", "initiator.username", "counterparty.category", "doc_type"}
)


def _path(location: Iterable[Any]) -> str:
    text = ""
    for part in location:
        text += (
            f"[{part}]"
            if isinstance(part, int)
            else (f".{part}" if text else str(part))
        )
    return text


def parse_route(
    data: Mapping[str, Any],
) -> tuple[RouteDefinition | None, list[Problem]]:
    """The definition, or None with every structural problem and its path."""
    try:
        return RouteDefinition.model_validate(data), []
    except ValidationError as error:
        return None, [
            Problem(_path(e["loc"]), e["msg"].removeprefix("Value error, "))
            for e in error.errors()
        ]


def validate_route(data: Mapping[str, Any], facts: OrgFacts) -> list[Problem]:
    """Every problem of a definition: structure first, then names against ``facts``."""
    route, problems = parse_route(data)
    if route is None:
        return problems
    return _semantic_problems(route, facts)


def _semantic_problems(route: RouteDefinition, facts: OrgFacts) -> list[Problem]:
    problems: list[Problem] = []
    known_fields = set(facts.fields) | DERIVED_FACTS

    def check_condition(condition: Condition | None, path: str) -> None:
        if condition is None:
            return
        problems.extend(
            Problem(f"{path}.when", f'no field "{name}" in this document type')
            for name in sorted(referenced_fields(condition) - known_fields)
        )

    def check_field(name: str, path: str, kinds: set[str] | None = None) -> None:
        kind = facts.fields.get(name)
        if kind is None:
            problems.append(Problem(path, f'no field "{name}" in this document type'))
        elif kinds and kind not in kinds:
            problems.append(
                Problem(
                    path, f'field "{name}" is not of kind {"/".join(sorted(kinds))}'
                )
            )

    seen_stages: set[str] = set()
    for s_index, stage in enumerate(route.stages):
        s_path = f"stages[{s_index}]"
        if stage.key in seen_stages:
            problems.append(
                Problem(f"{s_path}.key", f'stage "{stage.key}" appears twice')
            )
        seen_stages.add(stage.key)
        check_condition(stage.when, s_path)
        seen_steps: set[str] = set()
        for t_index, step in enumerate(stage.steps):
            path = f"{s_path}.steps[{t_index}]"
            if step.key in seen_steps:
                problems.append(
                    Problem(
                        f"{path}.key", f'step "{step.key}" appears twice in the stage'
                    )
                )
            seen_steps.add(step.key)
            check_condition(step.when, path)
            allowed = KIND_OUTCOMES[step.kind]
            for o_index, outcome in enumerate(step.outcomes or []):
                if outcome not in allowed:
                    problems.append(
                        Problem(
                            f"{path}.outcomes[{o_index}]",
                            f'a {step.kind} step cannot end with "{outcome}"',
                        )
                    )
            if (
                step.outcomes
                and step.kind in HUMAN_KINDS
                and not any(
                    o in POSITIVE or o is Outcome.OPINION for o in step.outcomes
                )
            ):
                problems.append(
                    Problem(
                        f"{path}.outcomes",
                        "the step could never finish: add an outcome that completes it",
                    )
                )
            if (
                isinstance(step.quorum, int)
                and step.assignee is not None
                and step.assignee.guests is not None
                and step.quorum > len(step.assignee.guests)
            ):
                problems.append(
                    Problem(
                        f"{path}.quorum",
                        f"the quorum is {step.quorum} but only "
                        f"{len(step.assignee.guests)} named",
                    )
                )
            if step.kind in HUMAN_KINDS:
                if step.assignee is None:
                    problems.append(
                        Problem(f"{path}.assignee", "a person must be assigned")
                    )
                else:
                    problems.extend(
                        _assignee_problems(
                            step.assignee, f"{path}.assignee", facts, check_field
                        )
                    )
            elif step.assignee is not None:
                problems.append(
                    Problem(f"{path}.assignee", f"a {step.kind} step has no assignee")
                )
            if isinstance(step.quorum, int) and step.quorum < 1:
                problems.append(
                    Problem(f"{path}.quorum", "the quorum must be at least 1")
                )
            if step.kind == StepKind.WAIT:
                if bool(step.wait_until) == (step.wait_for is not None):
                    problems.append(
                        Problem(
                            f"{path}.wait_until",
                            "a wait step needs either a date field (wait_until) "
                            "or a length of time (wait_for)",
                        )
                    )
                elif step.wait_until:
                    check_field(step.wait_until, f"{path}.wait_until", {"date"})
            elif step.wait_until or step.wait_for or step.wait_offset_days:
                problems.append(Problem(f"{path}.wait_until", "only a wait step waits"))
            if step.kind == StepKind.SYSTEM and not step.actions:
                problems.append(
                    Problem(
                        f"{path}.actions", "a system step needs at least one action"
                    )
                )
            for f_index, name in enumerate(step.fields):
                check_field(name, f"{path}.fields[{f_index}]")
            for f_index, name in enumerate(step.required_fields):
                if name not in step.fields:
                    problems.append(
                        Problem(
                            f"{path}.required_fields[{f_index}]",
                            f'"{name}" is not among the step\'s fields',
                        )
                    )
            if step.due is not None and step.due.field:
                check_field(step.due.field, f"{path}.due.field", {"date"})
            if step.due is not None and _reminder_too_early(step.due):
                problems.append(
                    Problem(
                        f"{path}.due.remind_before",
                        "the reminder would come before the task opens: "
                        "make it shorter than the deadline",
                    )
                )
            if step.due is not None and step.kind not in HUMAN_KINDS:
                problems.append(
                    Problem(f"{path}.due", f"a {step.kind} step has no deadline")
                )
            for a_index, action in enumerate(step.actions):
                problems.extend(
                    _action_problems(
                        action, f"{path}.actions[{a_index}]", facts, check_field
                    )
                )
    for a_index, action in enumerate(route.on_finish):
        problems.extend(
            _action_problems(action, f"on_finish[{a_index}]", facts, check_field)
        )
    return problems


def _reminder_too_early(due: Due) -> bool:
    before = due.remind_before
    if before is None:
        return False
    if due.working_days is not None and before.working_days is not None:
        return before.working_days >= due.working_days
    if due.hours is not None and before.hours is not None:
        return before.hours >= due.hours
    return False


def _assignee_problems(
    assignee: Assignee, path: str, facts: OrgFacts, check_field: Any
) -> list[Problem]:
    problems: list[Problem] = []
    if assignee.role and assignee.role not in facts.roles:
        problems.append(
            Problem(f"{path}.role", f'no role "{assignee.role}" in this organisation')
        )
    if assignee.user and assignee.user not in facts.usernames:
        problems.append(
            Problem(f"{path}.user", f'no user "{assignee.user}" in this organisation')
        )
    if (
        assignee.department_head
        and assignee.department_head != "initiator"
        and assignee.department_head not in facts.departments
    ):
        problems.append(
            Problem(
                f"{path}.department_head",
                f'no department "{assignee.department_head}" in this organisation',
            )
        )
    if assignee.manager_of and assignee.manager_of != "initiator":
        check_field(assignee.manager_of, f"{path}.manager_of", {"user"})
    if assignee.user_field:
        check_field(assignee.user_field, f"{path}.user_field", {"user"})
    if assignee.users_field:
        check_field(assignee.users_field, f"{path}.users_field", {"users", "user"})
    if assignee.guest_field:
        check_field(assignee.guest_field, f"{path}.guest_field", {"string"})
    for index, email in enumerate(assignee.guests or []):
        if "@" not in email or email.startswith("@") or email.endswith("@"):
            problems.append(
                Problem(
                    f"{path}.guests[{index}]", f'"{email}" is not an e-mail address'
                )
            )
    return problems


def _action_problems(
    action: Action, path: str, facts: OrgFacts, check_field: Any
) -> list[Problem]:
    problems: list[Problem] = []
    if action.set_status and facts.statuses and action.set_status not in facts.statuses:
        problems.append(
            Problem(
                f"{path}.set_status",
                f'no status "{action.set_status}" in this document type',
            )
        )
    for name in action.set_field or {}:
        check_field(name, f"{path}.set_field.{name}")
    if action.remind:
        check_field(action.remind.before_field, f"{path}.remind.before_field", {"date"})
    return problems
