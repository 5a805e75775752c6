"""Re-approval after a corrected version: the three ways a new round asks again,
the initiator's choice when resubmitting, and withdrawing a carried approval."""

from __future__ import annotations

import pytest

from sogla.engine import effects as fx
from sogla.engine.definition import RouteDefinition
from sogla.engine.errors import (
    CommentRequired,
    NotCarriedOver,
    ProcessNotRunning,
    ReaskNotAllowed,
)
from sogla.engine.states import ProcessStatus, StepState, TaskState
from sogla.engine.validation import OrgFacts, validate_route
from tests.engine.builders import (
    Directory,
    Harness,
    approve,
    route,
    seq,
    stage,
    step,
)

CHANGED = "not_approved_even_if_changed"


def three(**on_return: object) -> Harness:
    return Harness(route(*seq("s1", "s2", "s3"), on_return=on_return))


def returned_with_new_files(h: Harness) -> None:
    h.start()
    h.decide("s1")
    h.decide("s2", "return", comment="fix 4.2")
    h.files = "v2"


def test_even_if_changed_carries_approvals_over_new_files_and_tells_the_person() -> (
    None
):
    h = three(reask=CHANGED)
    returned_with_new_files(h)
    h.resubmit()
    carried = h.s.tasks[h.s.steps["2:s1:s1"].task_ids[0]]
    assert carried.state is TaskState.CARRIED_OVER
    assert carried.files_sha256 == "v1"  # the files it was given on
    [effect] = h.of(fx.CarryOver)
    assert effect.files_changed is True
    assert fx.Notify("approval_carried", ("user:s1",), task_id=carried.id) in (
        h.effects
    )
    assert h.only().participant.id == "s2"


def test_even_if_changed_does_not_notify_when_the_files_are_the_same() -> None:
    h = three(reask=CHANGED)
    h.start()
    h.decide("s1")
    h.decide("s2", "return")
    h.resubmit()
    [effect] = h.of(fx.CarryOver)
    assert effect.files_changed is False
    assert not [n for n in h.of(fx.Notify) if n.kind == "approval_carried"]


def test_not_approved_still_needs_the_same_files() -> None:
    h = three(reask="not_approved")
    returned_with_new_files(h)
    h.resubmit()
    assert h.of(fx.CarryOver) == []
    assert h.only().participant.id == "s1"


def test_a_signature_is_never_carried_over_to_changed_files() -> None:
    h = Harness(
        route(
            stage("sig", step("sig", "sign", "user:boss")),
            *seq("s2"),
            on_return={"reask": CHANGED},
        )
    )
    h.start()
    h.decide("boss")
    h.decide("s2", "return")
    h.files = "v2"
    h.resubmit()
    assert h.only().participant.id == "boss"


def test_the_initiator_may_choose_the_mode_when_the_route_allows() -> None:
    h = three(reask="all", initiator_may_choose_reask=True)
    returned_with_new_files(h)
    h.resubmit(reask=CHANGED)
    assert h.s.reask == CHANGED
    assert h.only().participant.id == "s2"
    # The choice holds for the whole round: a later return asks again by it.
    h.decide("s2", "return")
    h.resubmit()
    assert h.s.reask is None
    assert h.only().participant.id == "s1"


def test_the_initiator_may_choose_to_ask_everyone_again() -> None:
    h = three(reask=CHANGED, initiator_may_choose_reask=True)
    returned_with_new_files(h)
    h.resubmit(reask="all")
    assert h.only().participant.id == "s1"


def test_a_choice_the_route_does_not_allow_is_refused() -> None:
    h = three(reask="all")
    returned_with_new_files(h)
    with pytest.raises(ReaskNotAllowed):
        h.resubmit(reask=CHANGED)
    h.resubmit(reask="all")  # the route's own mode is always fine
    assert h.s.round == 2


def test_an_unknown_mode_is_refused() -> None:
    h = three(reask="all", initiator_may_choose_reask=True)
    returned_with_new_files(h)
    with pytest.raises(ReaskNotAllowed):
        h.resubmit(reask="some")


def test_withdrawing_while_the_step_is_open_asks_the_person_again() -> None:
    h = Harness(
        route(
            stage("s", approve("a"), approve("b")),
            *seq("x"),
            on_return={"reask": CHANGED},
        )
    )
    h.start()
    h.decide("a")
    h.decide("b", "return")
    h.files = "v2"
    h.resubmit()
    carried = h.s.tasks[h.s.steps["2:s:a"].task_ids[0]]
    assert carried.state is TaskState.CARRIED_OVER
    h.withdraw(carried, "4.2 changed the price")
    assert h.s.tasks[carried.id].state is TaskState.CANCELLED
    assert h.s.tasks[carried.id].closed_reason == "withdrawn"
    again = h.task_of("a")
    assert again.round == 2
    assert (
        fx.ApprovalWithdrawn(carried.id, "user:a", "4.2 changed the price", again.id)
        in h.effects
    )
    assert h.s.status is ProcessStatus.RUNNING
    h.decide("a")
    h.decide("b")
    assert h.only().participant.id == "x"


def test_withdrawing_reopens_a_step_the_carried_approval_had_finished() -> None:
    h = Harness(
        route(
            stage("s", approve("t", "role:team"), approve("b")),
            *seq("x"),
            on_return={"reask": CHANGED},
        ),
        directory=Directory(roles={"team": ["m", "n"]}),
    )
    h.start()
    h.decide("m")
    h.decide("b", "return")
    h.files = "v2"
    h.resubmit()
    assert h.s.steps["2:s:t"].state is StepState.DONE
    carried = h.s.tasks[h.s.steps["2:s:t"].task_ids[0]]
    h.withdraw(carried)
    assert h.s.steps["2:s:t"].state is StepState.OPEN
    assert h.task_of("m").round == 2


def test_withdrawing_after_the_stage_finished_returns_the_document() -> None:
    h = three(reask=CHANGED)
    returned_with_new_files(h)
    h.resubmit()
    carried = h.s.tasks[h.s.steps["2:s1:s1"].task_ids[0]]
    h.withdraw(carried, "v2 breaks 4.2")
    assert h.s.status is ProcessStatus.REVISION
    assert h.s.returned_from == "s1"
    assert fx.ProcessReturned(2, "s1", "s1", carried.id, "v2 breaks 4.2") in h.effects
    assert h.only().step == "revision"
    assert h.s.tasks[carried.id].closed_reason == "withdrawn"
    # The withdrawn approval is not carried over again.
    h.resubmit()
    assert h.only().participant.id == "s1"


def test_only_a_carried_approval_of_the_running_round_can_be_withdrawn() -> None:
    h = three(reask=CHANGED)
    returned_with_new_files(h)
    h.resubmit()
    carried = h.s.tasks[h.s.steps["2:s1:s1"].task_ids[0]]
    with pytest.raises(CommentRequired):
        h.withdraw(carried, " ")
    with pytest.raises(NotCarriedOver):
        h.withdraw(h.only())
    h.decide("s2")
    h.decide("s3")
    with pytest.raises(ProcessNotRunning):
        h.withdraw(carried)


def test_stored_routes_keep_their_meaning() -> None:
    old = RouteDefinition.model_validate(
        {"key": "r", "on_return": {"reask": "not_approved"}, **_stages()}
    )
    assert old.on_return.reask == "not_approved"
    assert old.on_return.initiator_may_choose_reask is False


def _stages() -> dict[str, object]:
    return {
        "stages": [{"key": "s", "steps": [{"key": "a", "assignee": {"user": "a"}}]}]
    }


def test_validation_flags_a_reask_setting_no_step_can_use() -> None:
    definition = {
        "key": "r",
        "on_return": {"reask": CHANGED, "initiator_may_choose_reask": True},
        "stages": [
            {
                "key": "s",
                "steps": [
                    {"key": "a", "kind": "acknowledge", "assignee": {"user": "a"}}
                ],
            }
        ],
    }
    paths = {
        p.path for p in validate_route(definition, OrgFacts(usernames=frozenset({"a"})))
    }
    assert paths == {"on_return.reask", "on_return.initiator_may_choose_reask"}


def test_a_step_of_all_asks_those_not_carried_over() -> None:
    """Quorum "all": one approval carries over, the others are still asked (the
    carried one alone must not finish the step)."""
    h = Harness(
        route(
            stage("s", approve("t", "role:team", quorum="all")),
            *seq("x"),
            on_return={"reask": "not_approved"},
        ),
        directory=Directory(roles={"team": ["a", "b"]}),
    )
    h.start()
    h.decide("a")
    h.decide("b", "return")
    h.resubmit()
    assert sorted(h.task_states("t", 2)) == ["carried_over", "open"]
    assert h.task_of("b").round == 2
    h.decide("b")
    assert h.only().participant.id == "x"
