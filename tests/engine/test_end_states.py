"""Reject, cancel, reassign, delegation and unresolved assignees."""

from __future__ import annotations

import pytest

from sogla.engine import effects as fx
from sogla.engine.commands import Reassign, ResolveStep
from sogla.engine.errors import (
    AlreadyAssigned,
    NoParticipants,
    ProcessNotRunning,
    StepNotFailed,
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
from tests.engine.builders import Directory, Harness, approve, route, seq, stage


def test_reject_finishes_the_process_and_closes_everything() -> None:
    h = Harness(
        route(stage("s", approve("a", due={"hours": 8}), approve("b")), *seq("c"))
    )
    h.start()
    h.decide("a", "reject", comment="no budget")
    assert h.s.status is ProcessStatus.REJECTED
    assert h.s.open_tasks == []
    assert h.s.timers == {}
    assert h.s.tasks["r1:s:b:2"].closed_reason == "rejected"
    assert h.effects[-4:] == (
        fx.CloseTask("r1:s:b:2", "cancelled", reason="rejected"),
        fx.ProcessFinished("rejected"),
        fx.SetStatus(meaning="failure"),
        fx.Notify("rejected", ("initiator",), task_id="r1:s:a:1"),
    )
    assert h.s.stages["1:s"].state is StageState.CLOSED
    with pytest.raises(ProcessNotRunning):
        h.decide(h.s.tasks["r1:s:b:2"])


def test_cancel_closes_tasks_and_timers_and_tells_the_participants() -> None:
    h = Harness(route(stage("s", approve("a", due={"working_days": 1}))), facts={})
    h.start()
    assert set(h.s.timers) == {"due:r1:s:a:1", "remind:r1:s:a:1"}
    h.cancel()
    assert h.s.status is ProcessStatus.CANCELLED
    assert h.s.timers == {}
    assert h.s.open_tasks == []
    assert fx.CancelTimer("due:r1:s:a:1") in h.effects
    notify = h.of(fx.Notify)[0]
    assert notify.recipients == ("initiator", "user:a")
    with pytest.raises(ProcessNotRunning):
        h.cancel()


def test_cancel_during_revision_closes_the_revision_task() -> None:
    h = Harness(route(*seq("a")))
    h.start()
    h.decide("a", "return")
    h.cancel()
    assert h.s.status is ProcessStatus.CANCELLED
    assert h.s.open_tasks == []


def test_reassign_moves_an_open_task_keeping_its_deadline() -> None:
    h = Harness(route(stage("s", approve("a", due={"working_days": 2}))))
    h.start()
    old = h.only()
    h.reassign(old, "z")
    new = h.only()
    assert new.participant.id == "z"
    assert new.due_at == old.due_at
    assert h.s.tasks[old.id].state is TaskState.CANCELLED
    assert h.s.tasks[old.id].closed_reason == "reassigned"
    assert h.s.steps["1:s:a"].task_ids == [old.id, new.id]
    with pytest.raises(TaskNotOpen):
        h.decide(old)
    h.decide(new)
    assert h.s.status is ProcessStatus.APPROVED


def test_reassign_to_someone_already_in_the_step_is_refused() -> None:
    h = Harness(
        route(stage("s", approve("t", "role:team", quorum="all"))),
        directory=Directory(roles={"team": ["a", "b"]}),
    )
    h.start()
    with pytest.raises(AlreadyAssigned):
        h.reassign(h.task_of("a"), "b")


def test_reassign_of_a_closed_task_is_refused() -> None:
    h = Harness(route(*seq("a", "b")))
    h.start()
    a = h.only()
    h.decide(a)
    with pytest.raises(TaskNotOpen):
        h.reassign(a, "z")


def test_a_delegated_task_records_on_whose_behalf() -> None:
    h = Harness(
        route(*seq("boss")), directory=Directory(delegations={"boss": "deputy"})
    )
    h.start()
    t = h.only()
    assert t.participant == Participant.user("deputy")
    assert t.on_behalf_of == Participant.user("boss")
    assert t.seat == "user:boss"


def test_an_unresolvable_assignee_fails_the_step_and_waits_for_a_fix() -> None:
    h = Harness(route(stage("s", approve("law", "role:lawyer")), *seq("next")))
    h.start()
    assert h.s.status is ProcessStatus.RUNNING
    assert h.s.steps["1:s:law"].state is StepState.FAILED
    assert h.s.steps["1:s:law"].reason == 'nobody holds the role "lawyer"'
    assert (
        fx.ReportUnresolved("s", "law", 'nobody holds the role "lawyer"') in h.effects
    )
    assert h.open() == []
    h.resolve("s", "law", "lena")
    assert h.only().participant.id == "lena"
    assert h.s.steps["1:s:law"].state is StepState.OPEN
    h.decide("lena")
    assert h.only().participant.id == "next"


def test_resolving_again_from_the_context_after_the_role_is_filled() -> None:
    directory = Directory()
    h = Harness(route(stage("s", approve("law", "role:lawyer"))), directory=directory)
    h.start()
    h.resolve("s", "law")  # still nobody: reported again, still failed
    assert h.s.steps["1:s:law"].state is StepState.FAILED
    assert h.of(fx.ReportUnresolved)
    directory.roles["lawyer"] = ["lena"]
    h.resolve("s", "law")
    assert h.only().participant.id == "lena"


def test_resolve_step_guards() -> None:
    h = Harness(route(stage("s", approve("law", "role:lawyer"), approve("a"))))
    h.start()
    with pytest.raises(StepNotFailed):
        h.resolve("s", "a", "x")
    with pytest.raises(StepNotFound):
        h.resolve("other", "law", "x")
    with pytest.raises(NoParticipants):
        h.run(ResolveStep("s", "law", Participant.user("adm"), []))


def test_a_failed_consult_step_is_reported_but_does_not_block_the_stage() -> None:
    h = Harness(
        route(
            stage(
                "s",
                approve("a"),
                {"key": "exp", "kind": "consult", "assignee": {"role": "expert"}},
            ),
            *seq("next"),
        )
    )
    h.start()
    assert (
        fx.ReportUnresolved("s", "exp", 'nobody holds the role "expert"') in h.effects
    )
    h.decide("a")
    assert h.only().participant.id == "next"


def test_reassign_to_a_stand_in_keeps_the_seat() -> None:
    h = Harness(route(*seq("a")))
    h.start()
    boss = Participant.user("boss")
    h.run(
        Reassign(
            h.only().id,
            Participant.user("deputy", on_behalf_of=boss),
            Participant.user("adm"),
        )
    )
    t = h.only()
    assert (t.participant.id, t.on_behalf_of, t.seat) == ("deputy", boss, "user:boss")
