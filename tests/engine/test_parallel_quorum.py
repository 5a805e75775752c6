"""Steps of a stage run in parallel; each step closes at its quorum."""

from __future__ import annotations

import pytest

from sogla.engine import effects as fx
from sogla.engine.states import ProcessStatus, StepState
from tests.engine.builders import (
    Directory,
    Harness,
    approve,
    consult,
    par,
    route,
    seq,
    stage,
)

TEAM = Directory(roles={"team": ["a", "b", "c"]})


def test_parallel_steps_all_open_and_the_stage_waits_for_every_one() -> None:
    h = Harness(route(par("cfo", "ceo"), *seq("acc")))
    h.start()
    assert sorted(t.participant.id for t in h.open()) == ["ceo", "cfo"]
    h.decide("ceo")
    assert h.s.stage_index == 0
    assert h.s.steps["1:cfo_ceo:ceo"].state is StepState.DONE
    h.decide("cfo")
    assert h.only().participant.id == "acc"


def test_quorum_any_closes_the_others_on_the_first_positive_decision() -> None:
    h = Harness(
        route(stage("s", approve("t", "role:team")), *seq("next")), directory=TEAM
    )
    h.start()
    assert len(h.open("t")) == 3  # a role defaults to "any"
    h.decide("b")
    assert h.task_states("t") == ["closed_by_quorum", "done", "closed_by_quorum"]
    closed = [e for e in h.of(fx.CloseTask) if e.state == "closed_by_quorum"]
    assert [e.reason for e in closed] == ["quorum reached", "quorum reached"]
    assert fx.CancelTimer("due:r1:s:t:1") not in h.effects  # no due, no timers
    assert h.only().participant.id == "next"


def test_quorum_all_needs_every_participant() -> None:
    h = Harness(
        route(stage("s", approve("t", "role:team", quorum="all")), *seq("next")),
        directory=TEAM,
    )
    h.start()
    h.decide("a")
    h.decide("c")
    assert h.s.steps["1:s:t"].state is StepState.OPEN
    assert h.task_states("t") == ["done", "open", "done"]
    h.decide("b")
    assert h.s.steps["1:s:t"].state is StepState.DONE
    assert h.only().participant.id == "next"


@pytest.mark.parametrize(("quorum", "decisions_to_close"), [(1, 1), (2, 2), (3, 3)])
def test_quorum_n_closes_after_n_positive_decisions(
    quorum: int, decisions_to_close: int
) -> None:
    h = Harness(
        route(stage("s", approve("t", "role:team", quorum=quorum)), *seq("next")),
        directory=TEAM,
    )
    h.start()
    for n, who in enumerate(["a", "b", "c"][:decisions_to_close], start=1):
        assert h.s.steps["1:s:t"].state is StepState.OPEN
        h.decide(who)
        done = h.s.steps["1:s:t"].state is StepState.DONE
        assert done == (n == quorum)
    assert h.task_states("t").count("done") == quorum
    assert h.only().participant.id == "next"


def test_quorum_larger_than_the_people_found_fails_the_step() -> None:
    h = Harness(route(stage("s", approve("t", "role:team", quorum=5))), directory=TEAM)
    h.start()
    assert h.s.steps["1:s:t"].state is StepState.FAILED
    assert (
        fx.ReportUnresolved("s", "t", "the quorum is 5 but only 3 people are assigned")
        in h.effects
    )
    assert h.s.status is ProcessStatus.RUNNING


def test_a_users_field_defaults_to_all() -> None:
    h = Harness(
        route(stage("s", approve("fund", "field:fund_controllers"))),
        facts={"fund_controllers": ["x", "y"]},
    )
    h.start()
    h.decide("x")
    assert h.s.status is ProcessStatus.RUNNING
    h.decide("y")
    assert h.s.status is ProcessStatus.APPROVED


def test_the_same_person_twice_gets_one_task() -> None:
    h = Harness(
        route(stage("s", approve("fund", "field:fund_controllers"))),
        facts={"fund_controllers": ["x", "x"]},
    )
    h.start()
    assert len(h.open()) == 1


def test_consult_does_not_block_and_is_closed_when_the_stage_ends() -> None:
    h = Harness(route(stage("s", approve("lawyer"), consult("expert")), *seq("next")))
    h.start()
    expert = h.task_of("expert")
    h.decide("lawyer")
    assert h.s.tasks[expert.id].state.value == "cancelled"
    assert h.s.tasks[expert.id].closed_reason == "stage finished"
    assert h.s.steps["1:s:expert"].state is StepState.CLOSED
    assert fx.CloseTask(expert.id, "cancelled", reason="stage finished") in h.effects
    assert h.only().participant.id == "next"


def test_consult_answered_before_the_stage_ends_is_recorded() -> None:
    h = Harness(route(stage("s", approve("lawyer"), consult("expert"))))
    h.start()
    h.decide("expert", "opinion", comment="looks fine")
    assert h.s.steps["1:s:expert"].state is StepState.DONE
    assert h.s.status is ProcessStatus.RUNNING
    h.decide("lawyer")
    assert h.s.status is ProcessStatus.APPROVED


def test_a_consult_only_stage_waits_for_its_opinions() -> None:
    h = Harness(route(stage("s", consult("expert")), *seq("next")))
    h.start()
    assert h.only().participant.id == "expert"
    h.decide("expert", "opinion", comment="ok")
    assert h.only().participant.id == "next"
