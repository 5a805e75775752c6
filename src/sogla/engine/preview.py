"""The start form's preview: which stages and steps would run for the values given,
and who would be asked, without starting anything (``preview``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sogla.engine.conditions import Condition, describe, evaluate, referenced_fields
from sogla.engine.context import Resolver, Unresolved, as_date
from sogla.engine.definition import (
    HUMAN_KINDS,
    RouteDefinition,
    StepDef,
    StepKind,
    Text,
)
from sogla.engine.states import Participant


@dataclass(frozen=True)
class PreviewStep:
    key: str
    name: Text
    kind: str
    runs: bool
    reason: str = ""  # why skipped, or why nobody can be assigned
    participants: tuple[Participant, ...] = ()
    unresolved: bool = False
    quorum: str | int = "all"
    tentative: bool = False  # its condition reads answers given later in the route


@dataclass(frozen=True)
class PreviewStage:
    key: str
    name: Text
    runs: bool
    reason: str = ""
    steps: tuple[PreviewStep, ...] = ()
    tentative: bool = False


def preview(
    definition: RouteDefinition, facts: Mapping[str, Any], resolve: Resolver
) -> list[PreviewStage]:
    """Which stages and steps would run for these values, and who would be asked.

    Conditions that read fields an earlier request_info or task step fills in are
    marked ``tentative``: the answer is not known when the process starts.
    """
    answered: set[str] = set()  # fields the route's own steps fill in
    stages: list[PreviewStage] = []

    def tentative(condition: Condition | None) -> bool:
        return condition is not None and bool(referenced_fields(condition) & answered)

    for stage in definition.stages:
        if stage.when is not None and not evaluate(stage.when, facts):
            reason = f"condition not met: {describe(stage.when)}"
            stages.append(
                PreviewStage(
                    stage.key, stage.name, False, reason, (), tentative(stage.when)
                )
            )
        else:
            steps = tuple(
                _preview_step(s, facts, resolve, tentative) for s in stage.steps
            )
            runs = any(s.runs for s in steps)
            stages.append(
                PreviewStage(
                    stage.key,
                    stage.name,
                    runs,
                    "" if runs else "every step is skipped",
                    steps,
                    tentative(stage.when),
                )
            )
        for step in stage.steps:
            if step.kind in (StepKind.REQUEST_INFO, StepKind.TASK):
                answered.update(step.fields)
    return stages


def _preview_step(
    step: StepDef,
    facts: Mapping[str, Any],
    resolve: Resolver,
    tentative: Callable[[Condition | None], bool],
) -> PreviewStep:
    def make(
        runs: bool,
        reason: str = "",
        participants: tuple[Participant, ...] = (),
        unresolved: bool = False,
    ) -> PreviewStep:
        return PreviewStep(
            step.key,
            step.name,
            str(step.kind),
            runs,
            reason,
            participants,
            unresolved,
            step.effective_quorum(),
            tentative(step.when),
        )

    if step.when is not None and not evaluate(step.when, facts):
        return make(False, f"condition not met: {describe(step.when)}")
    if step.kind is StepKind.WAIT:
        if as_date(facts.get(step.wait_until or "")) is None:
            return make(True, f'the date field "{step.wait_until}" is empty', (), True)
        return make(True)
    if step.kind not in HUMAN_KINDS:
        return make(True)
    found = (
        resolve(step.assignee)
        if step.assignee is not None
        else Unresolved("the step has no assignee")
    )
    if isinstance(found, Unresolved):
        return make(True, found.reason, (), True)
    if not found:
        return make(True, "nobody to assign", (), True)
    return make(True, "", tuple(found))
