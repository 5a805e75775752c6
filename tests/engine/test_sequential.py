"""Stages run in order; the last one approves the process and runs on_finish."""

from __future__ import annotations

from sogla.engine import effects as fx
from sogla.engine.definition import Action
from sogla.engine.states import ProcessStatus, StageState, StepState, TaskState
from tests.engine.builders import INITIATOR, T0, Harness, approve, route, seq, stage


def test_start_opens_the_first_stage_with_exact_effects() -> None:
    h = Harness(route(*seq("legal", "cfo")))
    h.start()
    assert h.effects == (
        fx.RoundStarted(1),
        fx.SetStatus(meaning="active"),
        fx.StageOpened(1, "legal"),
        fx.OpenTask(
            "r1:legal:legal:1", 1, "legal", "legal", "approve",
            h.s.tasks["r1:legal:legal:1"].participant, None, None,
        ),
    )  # fmt: skip
    assert h.s.status is ProcessStatus.RUNNING
    assert h.s.initiator == INITIATOR
    assert h.s.started_at == T0
    assert [t.participant.id for t in h.open()] == ["legal"]


def test_approvals_move_stage_by_stage_to_approved() -> None:
    h = Harness(
        route(
            *seq("legal", "cfo"),
            on_finish=[{"set_status": "approved"}, {"generate": "contract.docx"}],
        )
    )
    h.start()
    h.decide("legal")
    assert h.kinds() == [
        "CloseTask", "StepFinished", "StageFinished", "StageOpened", "OpenTask",
    ]  # fmt: skip
    assert h.only().participant.id == "cfo"
    h.later(hours=1)
    h.decide("cfo")
    assert h.s.status is ProcessStatus.APPROVED
    assert h.s.finished_at == h.now
    assert h.effects[-6:] == (
        fx.StageFinished(1, "cfo"),
        fx.ProcessFinished("approved"),
        fx.SetStatus(meaning="success"),
        fx.RunAction(Action(set_status="approved")),
        fx.RunAction(Action(generate="contract.docx")),
        fx.Notify("approved", ("initiator",)),
    )
    assert h.s.open_tasks == []
    assert h.s.timers == {}
    assert h.s.stages["1:legal"].state is StageState.DONE
    assert h.s.steps["1:cfo:cfo"].state is StepState.DONE


def test_decision_records_who_when_and_on_which_files() -> None:
    h = Harness(route(*seq("legal", "cfo")), files="sha-abc")
    h.start()
    t = h.only()
    h.later(minutes=5)
    h.decide(t, "approve_with_remarks", comment="fix the date later")
    done = h.s.tasks[t.id]
    assert done.state is TaskState.DONE
    assert done.outcome == "approve_with_remarks"
    assert done.comment == "fix the date later"
    assert done.decided_at == T0.replace(minute=5)
    assert done.decided_by == "user:legal"
    assert done.files_sha256 == "sha-abc"
    assert h.effects[0] == fx.CloseTask(
        t.id, "done", outcome="approve_with_remarks", comment="fix the date later",
        decided_by="user:legal", files_sha256="sha-abc", request_id="req-1",
    )  # fmt: skip


def test_a_system_step_runs_its_actions_and_completes_at_once() -> None:
    h = Harness(
        route(
            stage(
                "sys", {"key": "s", "kind": "system", "actions": [{"set_status": "x"}]}
            ),
            *seq("legal"),
        )
    )
    h.start()
    assert fx.RunAction(Action(set_status="x"), "sys", "s") in h.effects
    assert fx.StageFinished(1, "sys") in h.effects
    assert h.only().participant.id == "legal"


def test_a_route_of_only_system_steps_approves_on_start() -> None:
    h = Harness(
        route(
            stage(
                "sys",
                {"key": "s", "kind": "system", "actions": [{"notify": ["initiator"]}]},
            )
        )
    )
    h.start()
    assert h.s.status is ProcessStatus.APPROVED
    assert h.s.open_tasks == []


def test_acknowledge_and_task_steps_block_until_done() -> None:
    h = Harness(
        route(
            stage(
                "s1",
                approve("a"),
                {"key": "ack", "kind": "acknowledge", "assignee": {"user": "k"}},
            ),
            stage("s2", {"key": "pay", "kind": "task", "assignee": {"user": "acc"}}),
        )
    )
    h.start()
    h.decide("a")
    assert h.s.stage_index == 0
    h.decide("k", "acknowledge")
    assert h.s.stage_index == 1
    h.decide("acc", "done")
    assert h.s.status is ProcessStatus.APPROVED
