"""Route definitions: the JSON an administrator writes, as typed, frozen models.

A route is a list of stages run in order; the steps of a stage run in parallel; a
stage finishes when its steps reach their quorum (``quorum``). Checking a definition
(``parse_route``, ``validate_route``, ``Problem``, ``OrgFacts``) lives in
``validation``; the names are still importable from here, where callers have always
found them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sogla.engine.conditions import Condition


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
    # Send the process back to an earlier stage the step lists (``return_to``): a
    # new round starts there, without the initiator's revision.
    RETURN_TO_STAGE = "return_to_stage"
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
# Kinds whose decision is the same act wherever it is asked: with ``duplicates:
# merge`` one decision of a person counts for every such step of the same kind in
# the round. Signing, consulting and filling fields are asked each time.
MERGED_KINDS = frozenset({StepKind.APPROVE, StepKind.ACKNOWLEDGE})
# Outcomes that count towards a step's quorum.
POSITIVE = frozenset(
    {Outcome.APPROVE, Outcome.APPROVE_WITH_REMARKS, Outcome.ACKNOWLEDGE, Outcome.DONE}
)
COMMENT_REQUIRED = frozenset(
    {
        Outcome.APPROVE_WITH_REMARKS,
        Outcome.RETURN,
        Outcome.RETURN_TO_STAGE,
        Outcome.REJECT,
        Outcome.OPINION,
    }
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
    # The head of the department chosen in this choice field (its values are codes).
    department_head_field: str | None = None
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
                "user", "role", "manager_of", "department_head",
                "department_head_field", "user_field", "users_field", "guests",
                "guest_field",
            )
            if getattr(self, name) is not None
        ] + [name for name in ("initiator", "counterparty_contacts") if getattr(self, name)]  # fmt: skip
        if len(chosen) != 1:
            msg = "choose exactly one of user, role, manager_of, department_head, department_head_field, user_field, users_field, initiator, guests, guest_field, counterparty_contacts"
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


class Invite(_Frozen):
    """A calendar invitation (an RFC 5545 ``.ics``) attached to the action's notice.

    The event starts at a document's date field plus a time ("HH:MM": a fixed
    ``time`` or a string field ``time_field``), or at ``start_field``, a string field
    holding "YYYY-MM-DD HH:MM"; the time is in the organisation's zone. The people
    the action notifies (``notify``) are its attendees.
    """

    date_field: str | None = None
    time_field: str | None = None
    time: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    start_field: str | None = None
    duration_minutes: int = Field(default=60, ge=5, le=24 * 60)
    summary: Text = Text()
    location: str = Field(default="", max_length=500)
    location_field: str | None = None

    @model_validator(mode="after")
    def _one_start(self) -> Invite:
        if (self.start_field is None) == (self.date_field is None):
            msg = "choose one of start_field, date_field"
            raise ValueError(msg)
        if self.date_field is not None and (self.time is None) == (
            self.time_field is None
        ):
            msg = "choose one of time, time_field"
            raise ValueError(msg)
        return self


class Action(_Frozen):
    """A system action: on a system step or when the route finishes."""

    set_status: str | None = None
    set_field: dict[str, Any] | None = None
    notify: list[str] | None = None  # "initiator", "role:<key>", "field:<key>"
    file_to: str | None = None
    remind: Remind | None = None
    generate: str | None = None
    invite: Invite | None = None  # with ``notify``: an .ics attached to the notice


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
    # Run when the step is done (its quorum reached): a signing step sets the
    # document's status, e.g. {"set_status": "signed"}.
    on_done: Action | None = None
    confirm: Literal["otp"] | None = None
    # The document fields a guest of this step sees on the guest page (nothing else).
    guest_fields: list[str] = []
    # The earlier stages a decider may send the document back to (outcome
    # "return_to_stage"); empty: the step offers no such outcome.
    return_to: list[str] = []

    def allowed_outcomes(self) -> tuple[Outcome, ...]:
        found = tuple(self.outcomes) if self.outcomes else KIND_OUTCOMES[self.kind]
        if (
            self.return_to
            and Outcome.RETURN in KIND_OUTCOMES[self.kind]
            and Outcome.RETURN_TO_STAGE not in found
        ):
            found = (*found, Outcome.RETURN_TO_STAGE)
        return found

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


Reask = Literal["all", "not_approved_even_if_changed", "not_approved"]
"""Whom a new round asks after a return.

``all``: everyone again. ``not_approved_even_if_changed``: only those who had not
approved; earlier approvals carry over even when the files changed since (the
person is told and may withdraw it while the round runs; a signature is never
carried over to changed files). ``not_approved``: the same, but approvals carry
over only when the files are unchanged (the rule stored routes always had).
"""
REASK_MODES: tuple[str, ...] = ("all", "not_approved_even_if_changed", "not_approved")


class OnReturn(_Frozen):
    restart: Literal["first_stage", "same_stage"] = "first_stage"
    reask: Reask = "all"
    # The initiator picks one of the three modes when resubmitting.
    initiator_may_choose_reask: bool = False
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
    guest_link_days: int = Field(default=14, ge=1, le=30)  # a guest link's lifetime
    guests_see_names: bool = False  # the guest page names internal people
    on_return: OnReturn = OnReturn()
    # The same person named again in one round: "merge" asks them once (an earlier
    # approval carries over, parallel steps share one task); "keep" asks each time.
    duplicates: Literal["merge", "keep"] = "merge"
    # The initiator may add, remove and reschedule people while a round runs (the
    # route's owner and administrators always may).
    initiator_may_edit_running: bool = False
    stages: list[StageDef] = Field(min_length=1)
    on_finish: list[Action] = []

    def stage_index(self, key: str) -> int | None:
        """The position of stage ``key`` in the route, or None."""
        return next((i for i, s in enumerate(self.stages) if s.key == key), None)

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
