"""Property tests: random valid routes driven by random command sequences.

After every command the invariants below must hold, and the state must survive a
round trip through ``to_dict``/``from_dict`` (the harness checks that).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sogla.engine import effects as fx
from sogla.engine.definition import POSITIVE
from sogla.engine.errors import EngineError
from sogla.engine.run import COUNTING
from sogla.engine.states import (
    REVISION_STEP,
    Participant,
    ProcessStatus,
    StepRun,
    StepState,
    TaskRun,
    TaskState,
)
from tests.engine.builders import COMMENTS, Directory, Harness, route

ROLES = {"r0": ["a"], "r1": ["a", "b"], "r2": ["b", "c", "d"]}  # r3: nobody
KINDS = ["approve", "approve", "acknowledge", "consult", "task"]


@st.composite
def steps(draw: st.DrawFn, key: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    who = draw(st.sampled_from(["r0", "r1", "r2", "r2", "r3", "user"]))
    data: dict[str, Any] = {
        "key": key,
        "kind": kind,
        "assignee": {"user": draw(st.sampled_from("abcde"))}
        if who == "user"
        else {"role": who},
    }
    quorum = draw(st.sampled_from([None, None, "any", "all", 1, 2]))
    if quorum is not None:
        data["quorum"] = quorum
    if draw(st.booleans()):
        data["due"] = {"hours": draw(st.integers(1, 72))}
    if draw(st.integers(0, 4)) == 0:
        data["when"] = {"field": draw(st.sampled_from(["f0", "f1"])), "value": True}
    return data


@st.composite
def routes(draw: st.DrawFn) -> dict[str, Any]:
    stages = []
    for s in range(draw(st.integers(1, 6))):
        stage: dict[str, Any] = {
            "key": f"s{s}",
            "steps": [draw(steps(f"t{t}")) for t in range(draw(st.integers(1, 3)))],
        }
        if draw(st.integers(0, 4)) == 0:
            stage["when"] = {
                "field": draw(st.sampled_from(["f0", "f1"])),
                "value": True,
            }
        if draw(st.integers(0, 6)) == 0:
            stage["steps"].append(
                {
                    "key": "w",
                    "kind": "wait",
                    "wait_until": draw(st.sampled_from(["d", "nodate"])),
                }
            )
        stages.append(stage)
    data: dict[str, Any] = {
        "key": "prop",
        "stages": stages,
        "on_return": {
            "restart": draw(st.sampled_from(["first_stage", "same_stage"])),
            "reask": draw(st.sampled_from(["all", "not_approved"])),
        },
    }
    if draw(st.booleans()):
        data["stall_alert"] = {"hours": 24}
    return data


def check_invariants(h: Harness) -> None:
    s = h.s
    opened = Counter(
        (e.round, e.stage)
        for e in h.log
        if isinstance(e, fx.StageOpened | fx.StageSkipped)
    )
    assert max(opened.values(), default=0) <= 1, "a stage ran twice in a round"
    open_tasks = [s.tasks[t] for t in s.open_tasks]
    assert sorted(s.open_tasks) == sorted(
        t.id for t in s.tasks.values() if t.state is TaskState.OPEN
    )
    current = h.definition.stages[s.stage_index].key
    if s.status is ProcessStatus.RUNNING:
        failed = [
            r for r in s.steps.values()
            if r.round == s.round and r.stage == current and r.state is StepState.FAILED
        ]  # fmt: skip
        assert open_tasks or s.timers or failed, "a running process waits on nothing"
        assert all(t.round == s.round and t.stage == current for t in open_tasks)
        assert all(t.step != REVISION_STEP for t in open_tasks)
    elif s.status is ProcessStatus.REVISION:
        assert [t.step for t in open_tasks] == [REVISION_STEP]
        assert not s.timers
    else:
        assert not open_tasks, "a finished process has an open task"
        assert not s.timers, "a finished process has a pending timer"
    for run in s.steps.values():
        tasks = [s.tasks[t] for t in run.task_ids]
        assert all(t.round == run.round for t in tasks), (
            "a task counted in another round"
        )
        live = [t for t in tasks if t.state is not TaskState.CANCELLED]
        counting = [
            t for t in live
            if t.state is TaskState.CARRIED_OVER
            or (t.state is TaskState.DONE and t.outcome in COUNTING)
        ]  # fmt: skip
        if run.kind == "wait":
            assert not tasks
        elif run.state is StepState.DONE:
            if run.quorum == "all":
                assert len(counting) == len(live) > 0
            else:
                # Several approvals may carry over at once (earlier rounds, earlier
                # stages merged), and a task shared by merging may be decided after
                # the step is done; decisions made in the step stop at the quorum.
                required = 1 if run.quorum == "any" else int(run.quorum)
                assert len(counting) >= required
                made_here = [
                    t for t in counting
                    if t.state is TaskState.DONE and t.step == run.step
                    and not any(
                        t.id in other.task_ids
                        for other in s.steps.values()
                        if other is not run
                    )
                ]  # fmt: skip
                assert len(made_here) <= required
        elif run.state is StepState.OPEN and s.status is ProcessStatus.RUNNING:
            needed = {"any": 1, "all": len(live)}.get(str(run.quorum), run.quorum)
            assert len(counting) < int(needed) or not live
        for t in tasks:
            source = s.tasks.get(t.carried_from or "")
            if t.state is TaskState.CARRIED_OVER and source and source.round == t.round:
                # ``duplicates: merge``: a decision of an earlier stage of the round
                assert h.definition.duplicates == "merge"
                assert source.seat == t.seat
                assert source.kind == t.kind
                assert source.stage != t.stage
                assert source.state is TaskState.CARRIED_OVER or (
                    source.state is TaskState.DONE and source.outcome in POSITIVE
                )
            elif t.state is TaskState.CARRIED_OVER:
                assert run.round > 1
                previous = s.steps[f"{run.round - 1}:{run.stage}:{run.step}"]
                sources = [
                    s.tasks[p] for p in previous.task_ids if s.tasks[p].seat == t.seat
                ]
                assert any(
                    (
                        p.state is TaskState.CARRIED_OVER
                        or (p.state is TaskState.DONE and p.outcome in POSITIVE)
                    )
                    and p.files_sha256 == t.files_sha256
                    for p in sources
                ), "carried over without a positive decision on the same files"
    for effect in h.effects:
        if isinstance(effect, fx.CarryOver):
            assert s.tasks[effect.task_id].files_sha256 == h.files
    decided = Counter(
        e.task_id for e in h.log if isinstance(e, fx.CloseTask) and e.state == "done"
    )
    assert max(decided.values(), default=0) <= 1, "a task was decided twice"


# What the drawn actions pick from: open human tasks, decided, closed, failed steps.
_Choices = tuple[list[TaskRun], list[TaskRun], list[TaskRun], list[StepRun]]


@settings(  # max_examples: the Hypothesis profile (tests/conftest.py)
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), route_data=routes(), f0=st.booleans(), f1=st.booleans())
def test_random_routes_keep_the_invariants(
    data: st.DataObject, route_data: dict[str, Any], f0: bool, f1: bool
) -> None:
    h = Harness(
        route(
            *route_data["stages"],
            **{k: v for k, v in route_data.items() if k not in ("key", "stages")},
        ),
        facts={"f0": f0, "f1": f1, "d": "2025-03-10"},
        directory=Directory(roles={k: list(v) for k, v in ROLES.items()}),
    )
    h.start()
    check_invariants(h)
    after_end = 0
    for _ in range(data.draw(st.integers(1, 60), label="length")):
        s = h.s
        after_end += s.is_finished
        if after_end > 3:
            break
        finished = s.is_finished
        before = s.to_dict()
        human = [t for t in s.open_task_runs() if t.step != REVISION_STEP]
        decided = [t for t in s.tasks.values() if t.request_id]
        closed = [t for t in s.tasks.values() if t.state is not TaskState.OPEN]
        failed = [
            r for r in s.steps.values()
            if r.round == s.round and r.state is StepState.FAILED
        ]  # fmt: skip
        options = ["fire"] if s.timers else []
        options += ["decide"] * 6 if human else []
        options += ["reassign"] if human else []
        options += ["repeat"] if decided else []
        options += ["late"] if closed else []
        options += ["resolve"] if failed else []
        options += (
            ["resubmit", "resubmit"] if s.status is ProcessStatus.REVISION else []
        )
        if data.draw(st.integers(0, 24), label="cancel?") == 0:
            options += ["cancel"]
        if not options:
            break
        action = data.draw(st.sampled_from(options), label="action")
        event(action)
        try:
            _act(h, data, action, (human, decided, closed, failed), before)
        except EngineError as error:
            refused = error.code
            assert h.s.to_dict() == before, f"refused {action} changed the state"
            assert refused in {
                "already_assigned",
                "step_not_found",
                "process_not_running",
            }
        if finished:
            assert h.s.to_dict() == before, "a finished process changed"
        check_invariants(h)
    event(f"final status {h.s.status}")
    if any(t.state is TaskState.CARRIED_OVER for t in h.s.tasks.values()):
        event("carried over")


def _act(
    h: Harness,
    data: st.DataObject,
    action: str,
    choices: _Choices,
    before: dict[str, Any],
) -> None:
    """Run one drawn ``action`` on the harness (the property test's step)."""
    s = h.s
    human, decided, closed, failed = choices
    if action == "decide":
        t = data.draw(st.sampled_from(human), label="task")
        step = h.definition.stage(t.stage)
        outcomes = next(x for x in step.steps if x.key == t.step).allowed_outcomes()
        weight = {"return": 2, "reject": 1}
        weighted = [o for o in outcomes for _ in range(weight.get(o, 5))]
        outcome = str(data.draw(st.sampled_from(weighted), label="outcome"))
        h.decide(t, outcome, comment="c" if outcome in COMMENTS else "")
    elif action == "repeat":
        t = data.draw(st.sampled_from(decided), label="task")
        assert t.outcome is not None
        assert t.request_id is not None
        result = h.decide(t, t.outcome, comment="c", request_id=t.request_id)
        assert result.effects == ()
        assert h.s.to_dict() == before
    elif action == "late":
        t = data.draw(st.sampled_from(closed), label="task")
        with pytest.raises(EngineError) as late:
            h.decide(t, "approve", request_id="late")
        assert late.value.code in {"task_not_open", "process_not_running"}
        assert h.s.to_dict() == before
    elif action == "reassign":
        t = data.draw(st.sampled_from(human), label="task")
        h.reassign(t, data.draw(st.sampled_from(["a", "b", "z"]), label="to"))
    elif action == "fire":
        h.fire(data.draw(st.sampled_from(sorted(s.timers)), label="timer"))
    elif action == "resolve":
        run = data.draw(st.sampled_from(failed), label="step")
        kind = run.kind
        people = None if kind == "wait" else [Participant.user("fixer")]
        if kind == "wait":
            h.facts["nodate"] = "2025-04-01"
        h.resolve(run.stage, run.step, *([p.id for p in people] if people else []))
    elif action == "resubmit":
        if data.draw(st.integers(0, 3), label="new files") == 0:
            h.files = f"v{h.s.round + 1}"
        h.resubmit()
    else:
        h.cancel()
