"""Changing a round while it runs (``EditStep``) and asking a person once a round
(``duplicates: merge`` / ``keep``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sogla.engine import effects as fx
from sogla.engine.commands import EditStep, RoundChanges, TimerFired, Withdraw
from sogla.engine.errors import (
    AlreadyAssigned,
    DeadlinePassed,
    NoParticipants,
    NotCarriedOver,
    NotPending,
    ProcessNotRunning,
    QuorumUnreachable,
    StagePassed,
    StepNotFound,
)
from sogla.engine.states import (
    Participant,
    ProcessStatus,
    StepState,
    TaskState,
    TimerKind,
)
from tests.engine.builders import (
    Directory,
    Harness,
    approve,
    consult,
    route,
    seq,
    stage,
)

OWNER = Participant.user("owner")


def edit(h: Harness, stage_: str, step_: str, **kw: object) -> object:
    return h.run(EditStep(stage_, step_, OWNER, **kw))  # type: ignore[arg-type]


def u(name: str) -> Participant:
    return Participant.user(name)


# --- adding -----------------------------------------------------------------------------


def test_adding_a_person_to_the_open_step_opens_a_task_and_waits_for_them() -> None:
    h = Harness(route(stage("s", approve("a", due={"working_days": 2})), *seq("z")))
    h.start()
    edit(h, "s", "a", add=[u("x")])
    added = h.task_of("x", "a")
    assert added.due_at is not None  # the step's deadline, computed for them
    assert any(isinstance(e, fx.OpenTask) and e.task_id == added.id for e in h.effects)
    assert added.id in h.s.steps["1:s:a"].task_ids
    h.decide("a")
    assert h.s.steps["1:s:a"].state is StepState.OPEN  # "all": x is still asked
    h.decide("x")
    assert h.s.steps["1:s:a"].state is StepState.DONE
    assert h.only().participant.id == "z"


def test_adding_someone_already_in_the_step_is_refused_and_changes_nothing() -> None:
    h = Harness(route(*seq("a", "b")))
    h.start()
    before = h.s.to_dict()
    with pytest.raises(AlreadyAssigned):
        edit(h, "a", "a", add=[u("a")])
    assert h.s.to_dict() == before


def test_adding_to_a_later_stage_is_kept_and_applied_when_it_opens() -> None:
    h = Harness(route(*seq("a", "b")))
    h.start()
    edit(h, "b", "b", add=[u("x")])
    assert not h.open("b")
    assert [p.id for p in h.s.overrides["b.b"].add] == ["x"]
    h.decide("a")
    assert sorted(t.participant.id for t in h.open("b")) == ["b", "x"]
    with pytest.raises(AlreadyAssigned):
        edit(h, "b", "b", add=[u("x")])


def test_removing_from_a_later_stage_drops_the_person_when_it_opens() -> None:
    h = Harness(
        route(*seq("a"), stage("t", approve("team", "role:team"))),
        directory=Directory(roles={"team": ["p", "q"]}),
    )
    h.start()
    edit(h, "t", "team", remove=["user:p"])
    h.decide("a")
    assert [t.participant.id for t in h.open()] == ["q"]


def test_a_passed_stage_or_an_unknown_step_cannot_be_changed() -> None:
    h = Harness(route(*seq("a", "b")))
    h.start()
    h.decide("a")
    with pytest.raises(StagePassed):
        edit(h, "a", "a", add=[u("x")])
    with pytest.raises(StepNotFound):
        edit(h, "b", "nope", add=[u("x")])
    with pytest.raises(NoParticipants):
        edit(h, "b", "b")


def test_a_finished_process_cannot_be_changed() -> None:
    h = Harness(route(*seq("a")))
    h.start()
    h.decide("a")
    with pytest.raises(ProcessNotRunning):
        edit(h, "a", "a", add=[u("x")])


# --- removing ---------------------------------------------------------------------------


def test_removing_a_pending_person_closes_their_task_and_tells_them() -> None:
    h = Harness(route(stage("s", approve("t", "role:t")), *seq("z")),
                directory=Directory(roles={"t": ["p", "q"]}))  # fmt: skip
    h.start()
    task = h.task_of("p")
    edit(h, "s", "t", remove=["user:p"])
    closed = h.s.tasks[task.id]
    assert closed.state is TaskState.CANCELLED
    assert closed.closed_reason == "removed"
    assert f"due:{task.id}" not in h.s.timers
    told = [e for e in h.effects if isinstance(e, fx.Notify)]
    assert [(n.kind, n.recipients) for n in told] == [("task_removed", ("user:p",))]
    assert [t.participant.id for t in h.open()] == ["q"]


def test_removing_the_last_pending_person_finishes_the_step_by_quorum() -> None:
    h = Harness(route(stage("s", approve("a"), approve("b")), *seq("z")))
    h.start()
    edit(h, "s", "a", add=[u("x")])
    h.decide("a")
    h.decide("b")
    assert h.s.steps["1:s:a"].state is StepState.OPEN  # x is pending ("all")
    edit(h, "s", "a", remove=["user:x"])
    assert h.s.steps["1:s:a"].state is StepState.DONE
    assert h.only().participant.id == "z"  # the stage finished, the next opened


def test_a_removal_that_leaves_nobody_or_too_few_is_refused() -> None:
    h = Harness(route(stage("s", approve("a")), stage("t", approve("t", "role:t", quorum=2))),
                directory=Directory(roles={"t": ["p", "q"]}))  # fmt: skip
    h.start()
    before = h.s.to_dict()
    with pytest.raises(QuorumUnreachable):
        edit(h, "s", "a", remove=["user:a"])
    assert h.s.to_dict() == before
    h.decide("a")
    with pytest.raises(QuorumUnreachable):
        edit(h, "t", "t", remove=["user:p"])
    # with someone added in the same edit, the quorum of 2 stays reachable
    edit(h, "t", "t", remove=["user:p"], add=[u("r")])
    assert sorted(t.participant.id for t in h.open()) == ["q", "r"]


def test_only_a_pending_person_can_be_removed() -> None:
    h = Harness(route(stage("s", approve("a"), approve("b")), *seq("z")))
    h.start()
    edit(h, "s", "a", add=[u("x")])
    h.decide("a")
    with pytest.raises(NotPending):
        edit(h, "s", "a", remove=["user:a"])  # already decided
    with pytest.raises(NotPending):
        edit(h, "s", "a", remove=["user:nobody"])


# --- deadlines ---------------------------------------------------------------------------


def test_moving_a_pending_deadline_moves_its_timers_and_tells_the_assignee() -> None:
    h = Harness(route(stage("s", approve("a", due={"working_days": 3})), *seq("z")))
    h.start()
    task = h.task_of("a")
    assert task.due_at is not None
    new = task.due_at + timedelta(days=7)
    edit(h, "s", "a", due_at=new, due_for=["user:a"])
    assert h.s.tasks[task.id].due_at == new
    assert h.s.timers[f"due:{task.id}"].at == new
    moved = [e for e in h.effects if isinstance(e, fx.DeadlineMoved)]
    assert moved == [
        fx.DeadlineMoved(task.id, task.participant, task.due_at, new, OWNER.ref)
    ]


def test_a_deadline_without_one_before_gets_its_timer_and_an_overdue_one_is_lifted() -> (
    None
):
    h = Harness(route(stage("s", approve("a")), *seq("z")))
    h.start()
    task = h.task_of("a")
    new = h.now + timedelta(days=2)
    edit(h, "s", "a", due_at=new)
    assert h.s.timers[f"due:{task.id}"].kind is TimerKind.DUE
    h.now = new + timedelta(hours=1)
    h.run(TimerFired(f"due:{task.id}"))
    assert h.s.tasks[task.id].overdue
    later = h.now + timedelta(days=3)
    edit(h, "s", "a", due_at=later, due_for=["user:a"])
    assert not h.s.tasks[task.id].overdue


def test_a_deadline_in_the_past_is_refused() -> None:
    h = Harness(route(*seq("a")))
    h.start()
    with pytest.raises(DeadlinePassed):
        edit(h, "a", "a", due_at=h.now - timedelta(hours=1))


# --- duplicates ----------------------------------------------------------------------------


def test_merge_carries_an_earlier_approval_of_the_round_to_a_later_step() -> None:
    h = Harness(
        route(*seq("a", "b"), stage("c", approve("again", "user:a"), approve("c")))
    )
    h.start()
    first = h.task_of("a")
    h.decide("a")
    h.decide("b")
    run = h.s.steps["1:c:again"]
    assert run.state is StepState.DONE
    carried = h.s.tasks[run.task_ids[0]]
    assert carried.state is TaskState.CARRIED_OVER
    assert carried.carried_from == first.id
    assert carried.outcome == "approve"
    assert [t.participant.id for t in h.open()] == ["c"]


def test_an_approval_counted_again_this_round_is_not_withdrawn_as_carried() -> None:
    h = Harness(
        route(*seq("a", "b"), stage("c", approve("again", "user:a"), approve("c")))
    )
    h.start()
    h.decide("a")
    h.decide("b")
    carried = h.s.tasks[h.s.steps["1:c:again"].task_ids[0]]
    assert carried.state is TaskState.CARRIED_OVER
    with pytest.raises(NotCarriedOver):
        h.run(Withdraw(carried.id, u("a"), "changed my mind"))
    assert h.s.tasks[carried.id].state is TaskState.CARRIED_OVER


def test_keep_asks_the_person_again() -> None:
    h = Harness(
        route(*seq("a", "b"), stage("c", approve("again", "user:a")), duplicates="keep")
    )
    h.start()
    h.decide("a")
    h.decide("b")
    assert [t.participant.id for t in h.open()] == ["a"]


def test_merge_does_not_carry_onto_other_files_or_another_kind() -> None:
    h = Harness(route(*seq("a"), stage("c", consult("op", "user:a"), approve("c"))))
    h.start()
    h.decide("a")
    assert sorted(t.participant.id for t in h.open()) == ["a", "c"]  # consult: asked
    h2 = Harness(route(*seq("a", "b"), stage("c", approve("again", "user:a"))))
    h2.start()
    h2.decide("a")
    h2.files = "v2"  # a new version uploaded mid-round
    h2.decide("b")
    assert [t.participant.id for t in h2.open()] == ["a"]


def test_parallel_steps_naming_one_person_share_one_task() -> None:
    h = Harness(
        route(
            stage("s", approve("legal", "user:x"), approve("fin", "role:fin")),
            *seq("z"),
        ),
        directory=Directory(roles={"fin": ["x", "y"]}),
    )
    h.start()
    assert sorted(t.participant.id for t in h.open()) == ["x", "y"]  # one task for x
    shared = h.task_of("x")
    assert shared.id in h.s.steps["1:s:fin"].task_ids
    h.decide("y")  # "any" of fin: fin is done, x's task stays open for legal
    assert h.s.steps["1:s:fin"].state is StepState.DONE
    assert h.s.tasks[shared.id].state is TaskState.OPEN
    h.decide(shared)
    assert h.s.steps["1:s:legal"].state is StepState.DONE
    assert h.only().participant.id == "z"


def test_one_shared_decision_finishes_every_step_naming_the_person() -> None:
    h = Harness(
        route(stage("s", approve("a", "user:x"), approve("b", "user:x")), *seq("z"))
    )
    h.start()
    h.decide(h.only())
    assert h.s.steps["1:s:a"].state is StepState.DONE
    assert h.s.steps["1:s:b"].state is StepState.DONE
    assert h.only().participant.id == "z"


def test_reassigning_a_shared_task_keeps_it_shared() -> None:
    h = Harness(
        route(stage("s", approve("a", "user:x"), approve("b", "user:x")), *seq("z"))
    )
    h.start()
    h.reassign(h.only(), "w")
    new = h.only()
    assert new.id in h.s.steps["1:s:b"].task_ids
    h.decide(new)
    assert h.only().participant.id == "z"


def test_removing_a_shared_person_is_refused_when_another_step_needs_them() -> None:
    h = Harness(
        route(stage("s", approve("a", "user:x"), approve("b", "user:x")), *seq("z"))
    )
    h.start()
    with pytest.raises(QuorumUnreachable):
        edit(h, "s", "a", remove=["user:x"], add=[u("y")])  # b would have nobody


def test_round_changes_and_edits_share_the_override() -> None:
    h = Harness(route(*seq("a", "b"), on_return={"initiator_may_edit": True}))
    h.start()
    h.decide("a", "return")
    h.resubmit(RoundChanges(add={"b.b": [u("x")]}))
    edit(h, "b", "b", add=[u("y")])
    h.decide("a")
    assert sorted(t.participant.id for t in h.open()) == ["b", "x", "y"]
    assert h.s.status is ProcessStatus.RUNNING


def test_the_route_settings_are_validated_with_their_path() -> None:
    from sogla.engine.validation import parse_route

    definition, problems = parse_route(
        {
            "key": "r",
            "duplicates": "twice",
            "initiator_may_edit_running": "maybe",
            "stages": [
                {"key": "a", "steps": [{"key": "a", "assignee": {"user": "a"}}]}
            ],
        }
    )
    assert definition is None
    assert {p.path for p in problems} == {"duplicates", "initiator_may_edit_running"}
    definition, problems = parse_route(
        {
            "key": "r",
            "duplicates": "keep",
            "initiator_may_edit_running": True,
            "stages": [
                {"key": "a", "steps": [{"key": "a", "assignee": {"user": "a"}}]}
            ],
        }
    )
    assert problems == []
    assert definition is not None
    assert definition.duplicates == "keep"
    assert definition.initiator_may_edit_running
