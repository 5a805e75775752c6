"""When a step and a stage are done: the quorum, in one place.

- A step's quorum is ``"any"`` (one decision is enough), ``"all"`` (every person
  asked) or a number. Without one in the route, ``StepDef.effective_quorum`` takes
  the assignee's default: one of a role's holders, all of several named people.
- What counts towards it (``counts``): a positive decision (``POSITIVE``) or a
  consult's opinion, decided in this round or carried over from the last one.
  Cancelled tasks (a reassigned person) are left out of "all".
- A stage is done when its blocking steps are done (``stage_complete``); consult
  steps block only a stage made of consults alone.

``run._Run.after_step_change`` applies these after every decision; a quorum that
cannot be reached with the people found fails the step (``unreachable``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from sogla.engine.definition import POSITIVE, Outcome, StepDef, StepKind
from sogla.engine.states import StepRun, StepState, TaskRun, TaskState

# Outcomes that count towards a step's quorum (a consult's opinion counts for it).
COUNTING = POSITIVE | {Outcome.OPINION}

Quorum = Literal["any", "all"] | int


def counts(task: TaskRun) -> bool:
    """Whether a task counts towards its step's quorum in its round."""
    if task.state is TaskState.CARRIED_OVER:
        return True
    return task.state is TaskState.DONE and task.outcome in COUNTING


def quorum_met(quorum: Quorum, tasks: Iterable[TaskRun]) -> bool:
    """Enough of the step's live tasks count (and the step has any)."""
    live = [t for t in tasks if t.state is not TaskState.CANCELLED]
    positive = sum(1 for t in live if counts(t))
    if quorum == "any":
        needed = 1
    elif quorum == "all":
        needed = len(live)
    else:
        needed = quorum
    return bool(live) and positive >= needed


def unreachable(quorum: Quorum, people: int) -> str | None:
    """Why ``people`` assignees can never reach the quorum; None when they can."""
    if isinstance(quorum, int) and quorum > people:
        return f"the quorum is {quorum} but only {people} people are assigned"
    return None


def stage_complete(steps: Sequence[tuple[StepDef, StepRun]]) -> bool:
    """All blocking steps done; consult steps block only a consult-only stage."""
    active = [(step, run) for step, run in steps if run.state is not StepState.SKIPPED]
    blocking = [r for s, r in active if s.kind is not StepKind.CONSULT] or [
        r for _, r in active
    ]
    return all(run.state is StepState.DONE for run in blocking)
