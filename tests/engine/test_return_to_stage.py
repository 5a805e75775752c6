"""Sending a process back to a chosen earlier stage (outcome "return_to_stage")."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.engine import effects as fx
from sogla.engine.commands import Decide
from sogla.engine.definition import Outcome, RouteDefinition
from sogla.engine.errors import CommentRequired, OutcomeNotAllowed, StageNotAllowed
from sogla.engine.states import ProcessStatus, StageState, TaskState
from tests.engine.builders import Harness, approve, route, stage


def back(h: Harness, user: str, to_stage: str, comment: str = "redo it") -> None:
    t = h.task_of(user)
    h.run(
        Decide(
            task_id=t.id,
            actor=t.participant,
            outcome="return_to_stage",
            comment=comment,
            request_id=f"back-{t.id}",
            files_sha256=h.files,
            to_stage=to_stage,
        )
    )


def three(**options: Any) -> RouteDefinition:
    return route(
        stage("draft", approve("a"), approve("b")),
        stage("check", approve("c")),
        stage("sign", approve("d", return_to=["draft", "check"])),
        **options,
    )


def test_the_outcome_is_offered_only_where_the_step_lists_stages() -> None:
    d = three()
    assert Outcome.RETURN_TO_STAGE in d.step("sign", "d").allowed_outcomes()  # type: ignore[union-attr]
    assert Outcome.RETURN_TO_STAGE not in d.step("check", "c").allowed_outcomes()  # type: ignore[union-attr]


def test_sending_back_starts_a_new_round_at_the_chosen_stage() -> None:
    h = Harness(three())
    h.start()
    h.decide("a")
    h.decide("b")
    h.decide("c")
    sender = h.task_of("d")
    back(h, "d", "draft", "the annex is missing")
    assert h.s.status is ProcessStatus.RUNNING
    assert h.s.round == 2
    assert h.s.sent_back_to == "draft"
    assert h.s.stages["1:sign"].state is StageState.CLOSED
    assert h.s.tasks[sender.id].outcome == "return_to_stage"
    assert {t.participant.id for t in h.open()} == {"a", "b"}
    assert all(t.round == 2 and t.stage == "draft" for t in h.open())
    assert (
        fx.ProcessSentBack(1, "sign", "d", sender.id, "draft", "the annex is missing")
        in h.effects
    )
    notices = [e for e in h.effects if isinstance(e, fx.Notify)]
    assert notices[0].kind == "sent_back"
    assert notices[0].recipients == ("initiator",)
    assert notices[0].stage == "draft"
    assert fx.RoundStarted(2) in h.effects
    assert not any(isinstance(e, fx.SetStatus) for e in h.effects)  # still active
    # the new round runs on through the stages after it
    h.decide("a")
    h.decide("b")
    h.decide("c")
    h.decide("d")
    assert h.s.status is ProcessStatus.APPROVED


def test_the_stage_sent_back_to_decides_anew_later_stages_follow_reask() -> None:
    """reask "not_approved": the chosen stage is asked again in full; the stages
    after it carry over the approvals given on the same files."""
    h = Harness(three(on_return={"reask": "not_approved"}))
    h.start()
    h.decide("a")
    h.decide("b")
    h.decide("c")
    back(h, "d", "draft")
    assert {t.participant.id for t in h.open()} == {"a", "b"}  # nobody carried
    h.decide("a")
    h.decide("b")
    carried = h.s.tasks["r2:check:c:7"]
    assert carried.state is TaskState.CARRIED_OVER
    assert h.only().participant.id == "d"  # check carried, sign asks again


def test_reask_all_asks_every_later_stage_again() -> None:
    h = Harness(three())
    h.start()
    for user in "abc":
        h.decide(user)
    back(h, "d", "check")
    assert h.only().participant.id == "c"
    assert h.s.stage_run("draft") is None  # the round starts at "check"
    h.decide("c")
    assert h.only().participant.id == "d"


def test_a_resubmitted_round_forgets_the_stage_sent_back_to() -> None:
    h = Harness(three(on_return={"reask": "not_approved"}))
    h.start()
    for user in "abc":
        h.decide(user)
    back(h, "d", "check")
    h.decide("c")
    h.decide("d", "return")
    h.resubmit()
    assert h.s.sent_back_to is None
    assert h.s.round == 3


def test_a_send_back_drops_the_initiators_choice_of_whom_to_ask_again() -> None:
    """The initiator chose "all" for the round they resubmitted; a later send-back
    starts a round without their revision, so the route's own mode applies again:
    the stage after the one sent back to carries its approval on the same files."""
    h = Harness(
        three(on_return={"reask": "not_approved", "initiator_may_choose_reask": True})
    )
    h.start()
    h.decide("a")
    h.decide("b", "return")
    h.resubmit(reask="all")
    assert h.s.reask == "all"
    for user in "abc":
        h.decide(user)
    back(h, "d", "draft")
    assert h.s.reask is None
    h.decide("a")
    h.decide("b")
    assert h.only().participant.id == "d"  # "check" carried over (the route's mode)


@pytest.mark.parametrize("to_stage", ["", "nowhere", "sign"])
def test_a_stage_the_step_does_not_list_is_refused(to_stage: str) -> None:
    h = Harness(three())
    h.start()
    for user in "abc":
        h.decide(user)
    before = h.s.to_dict()
    with pytest.raises(StageNotAllowed) as refused:
        back(h, "d", to_stage)
    assert refused.value.fields == ("to_stage",)
    assert h.s.to_dict() == before


def test_a_later_stage_is_refused_even_when_listed() -> None:
    d = route(
        stage("one", approve("a", return_to=["two"])),
        stage("two", approve("b")),
    )
    h = Harness(d)
    h.start()
    with pytest.raises(StageNotAllowed):
        back(h, "a", "two")


def test_the_outcome_needs_a_comment_and_a_step_that_offers_it() -> None:
    h = Harness(three())
    h.start()
    with pytest.raises(OutcomeNotAllowed):
        back(h, "a", "draft")
    h.decide("a")
    h.decide("b")
    h.decide("c")
    with pytest.raises(CommentRequired):
        back(h, "d", "draft", comment=" ")


def test_sending_back_to_its_own_stage_restarts_that_stage() -> None:
    d = route(
        stage("only", approve("a")),
        stage("board", approve("b", return_to=["board"]), approve("c")),
    )
    h = Harness(d)
    h.start()
    h.decide("a")
    h.decide("c")
    back(h, "b", "board")
    assert h.s.round == 2
    assert {t.participant.id for t in h.open()} == {"b", "c"}
