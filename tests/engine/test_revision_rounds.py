"""Return for revision, resubmission, rounds and carry-over of approvals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sogla.engine import effects as fx
from sogla.engine.commands import RoundChanges
from sogla.engine.errors import (
    EditNotAllowed,
    ProcessNotInRevision,
    StepNotFound,
    TaskNotOpen,
)
from sogla.engine.states import (
    Participant,
    ProcessStatus,
    StageState,
    StepState,
    TaskState,
)
from tests.engine.builders import (
    INITIATOR,
    Directory,
    Harness,
    approve,
    route,
    seq,
    stage,
)

TEAM = Directory(roles={"team": ["a", "b", "c"]})


def three_stages(**on_return: object) -> Harness:
    return Harness(route(*seq("s1", "s2", "s3"), on_return=on_return))


def test_return_puts_the_process_in_revision_with_a_task_for_the_initiator() -> None:
    h = Harness(route(stage("s", approve("a"), approve("b")), *seq("c")))
    h.start()
    returned = h.task_of("a")
    h.decide(returned, "return", comment="wrong amount")
    assert h.s.status is ProcessStatus.REVISION
    assert h.s.returned_from == "s"
    other = h.s.tasks["r1:s:b:2"]
    assert other.state is TaskState.CANCELLED
    assert other.closed_reason == "returned"
    revision = h.only()
    assert revision.participant == INITIATOR
    assert revision.step == "revision"
    assert fx.ProcessReturned(1, "s", "a", returned.id, "wrong amount") in h.effects
    assert fx.SetStatus(key="returned", meaning="draft") in h.effects
    assert h.s.stages["1:s"].state is StageState.CLOSED
    assert h.s.steps["1:s:b"].state is StepState.CLOSED


def test_resubmit_starts_round_two_from_the_first_stage_asking_everyone() -> None:
    h = three_stages()
    h.start()
    h.decide("s1")
    h.decide("s2", "return")
    h.resubmit()
    assert h.s.round == 2
    assert h.s.status is ProcessStatus.RUNNING
    assert h.effects[:4] == (
        fx.CloseTask(
            "r1:s2:revision:3",
            "done",
            outcome="resubmitted",
            comment="fixed",
            decided_by="user:ini",
        ),
        fx.RoundStarted(2),
        fx.SetStatus(meaning="active"),
        fx.StageOpened(2, "s1"),
    )
    t = h.only()
    assert (t.round, t.participant.id, t.state) == (2, "s1", TaskState.OPEN)
    assert h.s.tasks["r1:s2:revision:3"].comment == "fixed"


def test_reask_not_approved_carries_over_positive_decisions_on_the_same_files() -> None:
    h = three_stages(reask="not_approved")
    h.start()
    first = h.only()
    h.decide("s1")
    h.decide("s2", "return")
    h.resubmit()
    carried = h.s.tasks[h.s.steps["2:s1:s1"].task_ids[0]]
    assert carried.state is TaskState.CARRIED_OVER
    assert carried.carried_from == first.id
    assert carried.round == 2
    assert (
        fx.CarryOver(
            carried.id, first.id, 2, "s1", "s1", Participant.user("s1"), None, "approve"
        )
        in h.effects
    )
    assert h.only().participant.id == "s2"  # asked again: it did not approve
    assert h.s.stages["2:s1"].state is StageState.DONE


def test_a_carried_approval_with_remarks_keeps_its_remark() -> None:
    h = three_stages(reask="not_approved")
    h.start()
    h.decide("s1", "approve_with_remarks", comment="Check VAT")
    h.decide("s2", "return", comment="Fix 4.2")
    h.resubmit()
    carried = h.s.tasks[h.s.steps["2:s1:s1"].task_ids[0]]
    assert (carried.outcome, carried.comment) == ("approve_with_remarks", "Check VAT")


def test_new_files_mean_everyone_is_asked_again() -> None:
    h = three_stages(reask="not_approved")
    h.start()
    h.decide("s1")
    h.decide("s2", "return")
    h.files = "v2"
    h.resubmit()
    assert h.only().participant.id == "s1"
    assert h.of(fx.CarryOver) == []


def test_reask_all_asks_everyone_again() -> None:
    h = three_stages(reask="all")
    h.start()
    h.decide("s1")
    h.decide("s2", "return")
    h.resubmit()
    assert h.only().participant.id == "s1"


def test_carry_over_survives_several_rounds_and_points_at_the_original() -> None:
    h = three_stages(reask="not_approved")
    h.start()
    original = h.only().id
    h.decide("s1")
    h.decide("s2", "return")
    h.resubmit()
    h.decide("s2", "return")
    h.resubmit()
    assert h.s.round == 3
    carried = h.s.tasks[h.s.steps["3:s1:s1"].task_ids[0]]
    assert carried.carried_from == original


def test_same_stage_restart_reopens_the_returning_stage() -> None:
    h = three_stages(restart="same_stage")
    h.start()
    h.decide("s1")
    h.decide("s2", "return")
    h.resubmit()
    assert h.effects[3] == fx.StageOpened(2, "s2")
    assert "2:s1" not in h.s.stages
    h.decide("s2")
    h.decide("s3")
    assert h.s.status is ProcessStatus.APPROVED


def test_round_one_tasks_are_refused_in_round_two() -> None:
    h = Harness(
        route(stage("s", approve("t", "role:team", quorum="all"))), directory=TEAM
    )
    h.start()
    old_b = h.task_of("b")
    h.decide("a")
    h.decide("c", "return")
    h.resubmit()
    with pytest.raises(TaskNotOpen):
        h.decide(old_b)
    # round 2 counts round-2 votes only: a's round-1 approval does not count
    assert h.task_states("t", 2) == ["open", "open", "open"]
    h.decide("b")
    h.decide("c")
    assert h.s.status is ProcessStatus.RUNNING
    h.decide("a")
    assert h.s.status is ProcessStatus.APPROVED


def test_not_approved_with_any_quorum_skips_the_step_if_one_approval_carries() -> None:
    h = Harness(
        route(
            stage("s", approve("t", "role:team")),
            *seq("x"),
            on_return={"reask": "not_approved"},
        ),
        directory=TEAM,
    )
    h.start()
    h.decide("b")
    h.decide("x", "return")
    h.resubmit()
    assert h.task_states("t", 2) == ["carried_over"]
    assert h.only().participant.id == "x"


def test_the_initiator_may_add_and_remove_approvers_and_move_deadlines() -> None:
    h = Harness(
        route(
            stage(
                "s", approve("t", "role:team", quorum="all", due={"working_days": 2})
            ),
            on_return={"initiator_may_edit": True},
        ),
        directory=TEAM,
    )
    h.start()
    h.decide("a", "return")
    new_due = h.now + timedelta(days=10)
    h.resubmit(
        RoundChanges(
            add={"s.t": [Participant.user("d")]},
            remove={"s.t": ["user:b"]},
            due={"s.t": new_due},
        )
    )
    assert sorted(t.participant.id for t in h.open()) == ["a", "c", "d"]
    assert {t.due_at for t in h.open()} == {new_due}


def test_edits_are_refused_where_the_route_does_not_allow_them() -> None:
    h = three_stages()
    h.start()
    h.decide("s1", "return")
    before = h.s.to_dict()
    with pytest.raises(EditNotAllowed) as info:
        h.resubmit(RoundChanges(remove={"s1.s1": ["user:s1"]}))
    assert info.value.code == "edit_not_allowed"
    assert h.s.to_dict() == before


def test_edits_must_name_a_step_with_people() -> None:
    h = Harness(route(*seq("s1"), on_return={"initiator_may_edit": True}))
    h.start()
    h.decide("s1", "return")
    with pytest.raises(StepNotFound):
        h.resubmit(RoundChanges(remove={"s1.nope": ["user:s1"]}))


def test_resubmit_outside_revision_is_refused() -> None:
    h = three_stages()
    h.start()
    with pytest.raises(ProcessNotInRevision):
        h.resubmit()


def test_resubmit_comes_from_the_revision_task_only_once() -> None:
    h = three_stages()
    h.start()
    h.decide("s1", "return")
    h.resubmit()
    with pytest.raises(ProcessNotInRevision):
        h.resubmit()
