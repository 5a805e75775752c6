"""Guards: the read-only checks ``run.handle`` makes before anything changes.

``check`` refuses a command that may not run now by raising the ``EngineError``
subclass that says why, and tells a harmless repeat (a decision recorded under the
same request id, a timer fired twice or after the end) from a command to apply.
"""

from __future__ import annotations

from sogla.engine import errors
from sogla.engine.commands import (
    Cancel,
    Command,
    Decide,
    EditStep,
    Reassign,
    Reschedule,
    ResolveStep,
    Resubmit,
    TimerFired,
    Withdraw,
)
from sogla.engine.context import is_empty
from sogla.engine.definition import (
    COMMENT_REQUIRED,
    HUMAN_KINDS,
    POSITIVE,
    REASK_MODES,
    Outcome,
    RouteDefinition,
    StageDef,
    StepDef,
)
from sogla.engine.editing import check_edit
from sogla.engine.states import (
    REVISION_STEP,
    ProcessState,
    ProcessStatus,
    StepState,
    TaskRun,
    TaskState,
)


def check(definition: RouteDefinition, state: ProcessState, command: Command) -> bool:
    """True when the command has nothing to do; raise when it is refused.

    ``Start`` is checked by ``handle`` itself (it is the one command without a state).
    """
    if isinstance(command, TimerFired):
        return command.timer_id not in state.timers or state.is_finished
    if isinstance(command, Reschedule):
        return state.is_finished or not state.open_tasks
    if isinstance(command, Decide):
        return _check_decide(definition, state, command)
    if isinstance(command, Resubmit):
        _check_resubmit(definition, state, command)
    elif isinstance(command, Withdraw):
        _check_withdraw(state, command)
    elif isinstance(command, Cancel):
        if state.is_finished:
            raise errors.ProcessNotRunning(f"the process is already {state.status}")
    elif isinstance(command, Reassign):
        _check_reassign(state, command)
    elif isinstance(command, ResolveStep):
        _check_resolve(definition, state, command)
    elif isinstance(command, EditStep):
        check_edit(definition, state, command)
    return False


def current_step(stage: StageDef, key: str) -> StepDef:
    """The step ``key`` of the current stage, which a guard has already found."""
    step = stage.step(key)
    if step is None:  # pragma: no cover - the guards checked it
        raise errors.StepNotFound(f'no step "{key}" in stage "{stage.key}"')
    return step


def _require_running(state: ProcessState) -> None:
    if state.status is not ProcessStatus.RUNNING:
        raise errors.ProcessNotRunning(f"the process is {state.status}")


def _open_task(state: ProcessState, task_id: str) -> TaskRun:
    task = state.tasks.get(task_id)
    if task is None:
        raise errors.TaskNotFound(f'no task "{task_id}" in this process')
    _require_running(state)
    if task.state is not TaskState.OPEN:
        raise errors.TaskNotOpen(f"the task is {task.state}, not open")
    return task


def _check_decide(
    definition: RouteDefinition, state: ProcessState, command: Decide
) -> bool:
    """True for a harmless repeat of a recorded decision; raise when refused."""
    task = state.tasks.get(command.task_id)
    if (
        task is not None
        and command.request_id
        and task.request_id == command.request_id
    ):
        if task.outcome != command.outcome:
            raise errors.RequestIdReused(
                "this request id was already used for another decision"
            )
        return True
    task = _open_task(state, command.task_id)
    if task.step == REVISION_STEP:
        raise errors.TaskNotDecidable("a revision task ends by resubmitting")
    stage = definition.stages[state.stage_index]
    step = stage.step(task.step) if stage.key == task.stage else None
    if step is None:  # pragma: no cover - open tasks belong to the current stage
        raise errors.TaskNotOpen("the task is not part of the current stage")
    _check_answer(step, command)
    if command.outcome == Outcome.RETURN_TO_STAGE:
        _check_stage_back(definition, state, step, command.to_stage)
    return False


def _check_stage_back(
    definition: RouteDefinition, state: ProcessState, step: StepDef, to_stage: str
) -> None:
    """A "return_to_stage" decision names a stage the step lists, not a later one."""
    index = definition.stage_index(to_stage) if to_stage else None
    if to_stage not in step.return_to or index is None or index > state.stage_index:
        allowed = ", ".join(step.return_to) or "none"
        raise errors.StageNotAllowed(
            f'the process cannot be sent back to "{to_stage}"; allowed: {allowed}',
            fields=("to_stage",),
        )


def _check_answer(step: StepDef, command: Decide) -> None:
    """The outcome, the comment and the fields of a decision, against its step."""
    allowed = [str(o) for o in step.allowed_outcomes()]
    if command.outcome not in allowed:
        raise errors.OutcomeNotAllowed(
            f'"{command.outcome}" is not allowed here; allowed: {", ".join(allowed)}'
        )
    outcome = Outcome(command.outcome)
    if outcome in COMMENT_REQUIRED and not command.comment.strip():
        raise errors.CommentRequired(f'a comment is required to "{outcome}"')
    extra = sorted(set(command.fields) - set(step.fields))
    if extra:
        raise errors.FieldNotAllowed(
            "this step does not fill " + ", ".join(extra), fields=extra
        )
    if outcome in POSITIVE:
        missing = [f for f in step.required_fields if is_empty(command.fields.get(f))]
        if missing:
            raise errors.FieldsRequired(
                "required: " + ", ".join(missing), fields=missing
            )


def _check_resubmit(
    definition: RouteDefinition, state: ProcessState, command: Resubmit
) -> None:
    if state.status is not ProcessStatus.REVISION:
        raise errors.ProcessNotInRevision(f"the process is {state.status}")
    if command.reask and command.reask != definition.on_return.reask:
        if command.reask not in REASK_MODES:
            raise errors.ReaskNotAllowed(
                f'"{command.reask}" is not one of {", ".join(REASK_MODES)}'
            )
        if not definition.on_return.initiator_may_choose_reask:
            raise errors.ReaskNotAllowed(
                "this route does not let the initiator choose whom to ask again"
            )
    changes = command.changes
    if not changes:
        return
    if not definition.on_return.initiator_may_edit:
        raise errors.EditNotAllowed("this route does not let the initiator edit it")
    for ref in (*changes.add, *changes.remove, *changes.due):
        stage_key, _, step_key = ref.partition(".")
        try:
            step = definition.stage(stage_key).step(step_key)
        except KeyError:
            step = None
        if step is None or step.kind not in HUMAN_KINDS:
            raise errors.StepNotFound(f'no step "{ref}" with people in this route')


def _check_withdraw(state: ProcessState, command: Withdraw) -> None:
    task = state.tasks.get(command.task_id)
    if task is None:
        raise errors.TaskNotFound(f'no task "{command.task_id}" in this process')
    _require_running(state)
    merged = (task.carried_from or "").startswith(f"r{state.round}:")
    if task.state is not TaskState.CARRIED_OVER or task.round != state.round or merged:
        # (a decision of this round counted again, ``duplicates: merge``, is the
        # person's own decision of this round: nothing was carried to new files)
        raise errors.NotCarriedOver(
            "only an approval carried over to the running round can be withdrawn"
        )
    if not command.comment.strip():
        raise errors.CommentRequired("a comment is required to withdraw an approval")


def _check_reassign(state: ProcessState, command: Reassign) -> None:
    task = _open_task(state, command.task_id)
    step = state.steps[f"{task.round}:{task.stage}:{task.step}"]
    for task_id in step.task_ids:
        other = state.tasks[task_id]
        if task_id == command.task_id and other.participant.ref != command.to.ref:
            continue  # the same seat, another person: delegation moving the task
        if other.state is TaskState.OPEN and other.seat == command.to.seat:
            raise errors.AlreadyAssigned("this person already has a task in the step")


def _check_resolve(
    definition: RouteDefinition, state: ProcessState, command: ResolveStep
) -> None:
    _require_running(state)
    stage = definition.stages[state.stage_index]
    step = stage.step(command.step) if stage.key == command.stage else None
    if step is None:
        raise errors.StepNotFound(
            f'no step "{command.stage}.{command.step}" in the current stage'
        )
    run = state.step_run(command.stage, command.step)
    if run is None or run.state is not StepState.FAILED:
        raise errors.StepNotFailed("only a failed step can be resolved")
    if command.participants is not None:
        if step.kind not in HUMAN_KINDS:
            raise errors.NoParticipants(f"a {step.kind} step has no participants")
        if not command.participants:
            raise errors.NoParticipants("give at least one participant")
