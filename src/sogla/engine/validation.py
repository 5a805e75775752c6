"""Checking a route definition: its structure, then its names against the organisation.

``parse_route`` turns the JSON into a ``RouteDefinition`` or lists every structural
problem (pydantic's); ``validate_route`` adds what a valid structure can still get
wrong: a role, user, department, status or field the organisation does not have, a
key written twice, a step that could never finish, a deadline or a wait that cannot
work. Every problem carries its path, e.g.
``stages[2].steps[0].assignee.role: no role "lawer" in this organisation``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from sogla.engine.conditions import Condition, referenced_fields
from sogla.engine.definition import (
    HUMAN_KINDS,
    KIND_OUTCOMES,
    POSITIVE,
    Action,
    Assignee,
    Due,
    Outcome,
    RouteDefinition,
    StageDef,
    StepDef,
    StepKind,
)


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
    # None: the statuses are not known (a pure check); an empty set: the type has none,
    # so every ``set_status`` is a mistake.
    statuses: frozenset[str] | None = None
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
    return _Checks(facts).route(route)


class _Checks:
    """The semantic checks of one route, in the order its problems are listed."""

    def __init__(self, facts: OrgFacts) -> None:
        self.facts = facts
        self.known_fields = set(facts.fields) | DERIVED_FACTS
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def route(self, route: RouteDefinition) -> list[Problem]:
        seen: set[str] = set()
        for index, stage in enumerate(route.stages):
            path = f"stages[{index}]"
            if stage.key in seen:
                self.add(f"{path}.key", f'stage "{stage.key}" appears twice')
            seen.add(stage.key)
            self.stage(stage, path)
        for index, action in enumerate(route.on_finish):
            self.action(action, f"on_finish[{index}]")
        self.on_return(route)
        self.returns(route)
        return self.problems

    def on_return(self, route: RouteDefinition) -> None:
        """Whom a new round asks only matters if some step can return."""
        on_return = route.on_return
        can_return = any(
            {Outcome.RETURN, Outcome.RETURN_TO_STAGE} & set(step.allowed_outcomes())
            for stage in route.stages
            for step in stage.steps
        )
        if can_return:
            return
        if on_return.reask != "all":
            self.add(
                "on_return.reask",
                "no step can return the document, so nobody is ever asked again",
            )
        if on_return.initiator_may_choose_reask:
            self.add(
                "on_return.initiator_may_choose_reask",
                "no step can return the document, so nobody is ever asked again",
            )

    def stage(self, stage: StageDef, path: str) -> None:
        self.condition(stage.when, path)
        seen: set[str] = set()
        for index, step in enumerate(stage.steps):
            step_path = f"{path}.steps[{index}]"
            if step.key in seen:
                self.add(
                    f"{step_path}.key", f'step "{step.key}" appears twice in the stage'
                )
            seen.add(step.key)
            self.step(step, step_path)

    def step(self, step: StepDef, path: str) -> None:
        self.condition(step.when, path)
        self.outcomes(step, path)
        self.quorum_of_guests(step, path)
        self.people(step, path)
        if isinstance(step.quorum, int) and step.quorum < 1:
            self.add(f"{path}.quorum", "the quorum must be at least 1")
        self.wait(step, path)
        if step.kind == StepKind.SYSTEM and not step.actions:
            self.add(f"{path}.actions", "a system step needs at least one action")
        self.step_fields(step, path)
        if step.due is not None:
            self.due(step.due, step.kind, f"{path}.due")
        for index, action in enumerate(step.actions):
            self.action(action, f"{path}.actions[{index}]")
        if step.on_done is not None:
            self.action(step.on_done, f"{path}.on_done")

    # --- parts of a step -------------------------------------------------------------

    def outcomes(self, step: StepDef, path: str) -> None:
        allowed = KIND_OUTCOMES[step.kind]
        if Outcome.RETURN in allowed:
            allowed = (*allowed, Outcome.RETURN_TO_STAGE)
        for index, outcome in enumerate(step.outcomes or []):
            if outcome is Outcome.RETURN_TO_STAGE and not step.return_to:
                self.add(
                    f"{path}.outcomes[{index}]",
                    '"return_to_stage" needs the stages to send back to (return_to)',
                )
            elif outcome not in allowed:
                self.add(
                    f"{path}.outcomes[{index}]",
                    f'a {step.kind} step cannot end with "{outcome}"',
                )
        if (
            step.outcomes
            and step.kind in HUMAN_KINDS
            and not any(o in POSITIVE or o is Outcome.OPINION for o in step.outcomes)
        ):
            self.add(
                f"{path}.outcomes",
                "the step could never finish: add an outcome that completes it",
            )

    def quorum_of_guests(self, step: StepDef, path: str) -> None:
        guests = step.assignee.guests if step.assignee is not None else None
        quorum = step.quorum
        if isinstance(quorum, int) and guests is not None and quorum > len(guests):
            self.add(
                f"{path}.quorum", f"the quorum is {quorum} but only {len(guests)} named"
            )

    def people(self, step: StepDef, path: str) -> None:
        if step.kind not in HUMAN_KINDS:
            if step.assignee is not None:
                self.add(f"{path}.assignee", f"a {step.kind} step has no assignee")
        elif step.assignee is None:
            self.add(f"{path}.assignee", "a person must be assigned")
        else:
            self.assignee(step.assignee, f"{path}.assignee")

    def wait(self, step: StepDef, path: str) -> None:
        if step.kind != StepKind.WAIT:
            if step.wait_until or step.wait_for or step.wait_offset_days:
                self.add(f"{path}.wait_until", "only a wait step waits")
        elif bool(step.wait_until) == (step.wait_for is not None):
            self.add(
                f"{path}.wait_until",
                "a wait step needs either a date field (wait_until) "
                "or a length of time (wait_for)",
            )
        elif step.wait_until:
            self.field(step.wait_until, f"{path}.wait_until", {"date"})

    def step_fields(self, step: StepDef, path: str) -> None:
        for index, name in enumerate(step.fields):
            self.field(name, f"{path}.fields[{index}]")
        for index, name in enumerate(step.guest_fields):
            self.field(name, f"{path}.guest_fields[{index}]")
        for index, name in enumerate(step.required_fields):
            if name not in step.fields:
                self.add(
                    f"{path}.required_fields[{index}]",
                    f'"{name}" is not among the step\'s fields',
                )

    def due(self, due: Due, kind: StepKind, path: str) -> None:
        if due.field:
            self.field(due.field, f"{path}.field", {"date"})
        if _reminder_too_early(due):
            self.add(
                f"{path}.remind_before",
                "the reminder would come before the task opens: "
                "make it shorter than the deadline",
            )
        if kind not in HUMAN_KINDS:
            self.add(path, f"a {kind} step has no deadline")

    def assignee(self, assignee: Assignee, path: str) -> None:
        facts = self.facts
        if assignee.role and assignee.role not in facts.roles:
            self.add(f"{path}.role", f'no role "{assignee.role}" in this organisation')
        if assignee.user and assignee.user not in facts.usernames:
            self.add(f"{path}.user", f'no user "{assignee.user}" in this organisation')
        head = assignee.department_head
        if head and head != "initiator" and head not in facts.departments:
            self.add(
                f"{path}.department_head",
                f'no department "{head}" in this organisation',
            )
        if assignee.department_head_field:
            self.field(
                assignee.department_head_field,
                f"{path}.department_head_field",
                {"choice"},
            )
        if assignee.manager_of and assignee.manager_of != "initiator":
            self.field(assignee.manager_of, f"{path}.manager_of", {"user"})
        if assignee.user_field:
            self.field(assignee.user_field, f"{path}.user_field", {"user"})
        if assignee.users_field:
            self.field(assignee.users_field, f"{path}.users_field", {"users", "user"})
        if assignee.guest_field:
            self.field(assignee.guest_field, f"{path}.guest_field", {"string"})
        for index, email in enumerate(assignee.guests or []):
            if "@" not in email or email.startswith("@") or email.endswith("@"):
                self.add(
                    f"{path}.guests[{index}]", f'"{email}" is not an e-mail address'
                )

    def action(self, action: Action, path: str) -> None:
        statuses = self.facts.statuses
        if (
            action.set_status
            and statuses is not None
            and action.set_status not in statuses
        ):
            self.add(
                f"{path}.set_status",
                f'no status "{action.set_status}" in this document type',
            )
        for name in action.set_field or {}:
            self.field(name, f"{path}.set_field.{name}")
        if action.remind:
            self.field(
                action.remind.before_field, f"{path}.remind.before_field", {"date"}
            )
        if action.invite is not None:
            self.invite(action, f"{path}.invite")

    def invite(self, action: Action, path: str) -> None:
        invite = action.invite
        if invite is None:  # pragma: no cover - the caller checked
            return
        if not action.notify:
            self.add(path, "an invitation is sent with a notice: add notify")
        if invite.date_field:
            self.field(invite.date_field, f"{path}.date_field", {"date"})
        if invite.time_field:
            self.field(invite.time_field, f"{path}.time_field", {"string"})
        if invite.start_field:
            self.field(invite.start_field, f"{path}.start_field", {"string"})
        if invite.location_field:
            self.field(invite.location_field, f"{path}.location_field", {"string"})

    def returns(self, route: RouteDefinition) -> None:
        """``return_to``: earlier stages of this route, never a pair sending the
        document back to each other, never the step's own stage when it is alone."""
        index_of = {stage.key: i for i, stage in enumerate(route.stages)}
        targets = {
            stage.key: {t for step in stage.steps for t in step.return_to}
            for stage in route.stages
        }
        for si, stage in enumerate(route.stages):
            for ti, step in enumerate(stage.steps):
                path = f"stages[{si}].steps[{ti}].return_to"
                if step.return_to and Outcome.RETURN not in KIND_OUTCOMES[step.kind]:
                    self.add(path, f"a {step.kind} step cannot send the document back")
                    continue
                for index, key in enumerate(step.return_to):
                    where = f"{path}[{index}]"
                    self.return_target(route, stage, key, where, index_of, targets)

    def return_target(
        self,
        route: RouteDefinition,
        stage: StageDef,
        key: str,
        path: str,
        index_of: Mapping[str, int],
        targets: Mapping[str, set[str]],
    ) -> None:
        target = index_of.get(key)
        own = index_of[stage.key]
        if target is None:
            self.add(path, f'no stage "{key}" in this route')
        elif key != stage.key and stage.key in targets.get(key, set()):
            self.add(
                path,
                f'stages "{stage.key}" and "{key}" send the document back to '
                "each other (a cycle)",
            )
        elif target > own:
            self.add(
                path,
                f'stage "{key}" comes later: a step sends the document back '
                "only to an earlier stage",
            )
        elif target == own and len(route.stages[own].steps) == 1:
            self.add(
                path,
                "the step would send the document back to its own stage, "
                "where it is the only step",
            )

    # --- names -----------------------------------------------------------------------

    def condition(self, condition: Condition | None, path: str) -> None:
        if condition is None:
            return
        for name in sorted(referenced_fields(condition) - self.known_fields):
            self.add(f"{path}.when", f'no field "{name}" in this document type')

    def field(self, name: str, path: str, kinds: set[str] | None = None) -> None:
        kind = self.facts.fields.get(name)
        if kind is None:
            self.add(path, f'no field "{name}" in this document type')
        elif kinds and kind not in kinds:
            self.add(path, f'field "{name}" is not of kind {"/".join(sorted(kinds))}')


def _reminder_too_early(due: Due) -> bool:
    before = due.remind_before
    if before is None:
        return False
    if due.working_days is not None and before.working_days is not None:
        return before.working_days >= due.working_days
    if due.hours is not None and before.hours is not None:
        return before.hours >= due.hours
    return False
