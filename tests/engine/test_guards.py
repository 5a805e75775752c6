"""Refused commands raise a typed EngineError with a code and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from sogla.engine.commands import (
    Cancel,
    Decide,
    Reassign,
    ResolveStep,
    Resubmit,
    Start,
    TimerFired,
)
from sogla.engine.errors import EngineError, ProcessNotStarted, RequestIdReused
from sogla.engine.run import Context, handle
from sogla.engine.states import Participant
from tests.engine.builders import (
    INITIATOR,
    T0,
    Harness,
    approve,
    ask,
    route,
    seq,
    stage,
)

ADM = Participant.user("adm")


def fresh() -> Harness:
    h = Harness(
        route(
            stage(
                "s",
                approve("a"),
                ask("info", "user:i", ["answer"]),
                {"key": "ack", "kind": "acknowledge", "assignee": {"user": "k"}},
            ),
            *seq("b"),
        )
    )
    h.start()
    return h


def task_id(h: Harness, who: str) -> str:
    return h.task_of(who).id


def decided(h: Harness) -> Harness:
    h.decide("a", request_id="first")
    return h


def returned(h: Harness) -> Harness:
    h.decide("a", "return")
    return h


def rejected(h: Harness) -> Harness:
    h.decide("a", "reject")
    return h


def cancelled(h: Harness) -> Harness:
    h.cancel()
    return h


def same(h: Harness) -> Harness:
    return h


Case = tuple[str, Callable[[Harness], Harness], Callable[[Harness], object], str]

CASES: list[Case] = [
    ("start twice", same, lambda _h: Start(INITIATOR), "process_already_started"),
    ("unknown task", same, lambda _h: Decide("nope", ADM, "approve"), "task_not_found"),
    (
        "outcome of another kind",
        same,
        lambda h: Decide(task_id(h, "a"), ADM, "done"),
        "outcome_not_allowed",
    ),
    (
        "acknowledge cannot reject",
        same,
        lambda h: Decide(task_id(h, "k"), ADM, "reject", "x"),
        "outcome_not_allowed",
    ),
    (
        "return without comment",
        same,
        lambda h: Decide(task_id(h, "a"), ADM, "return", "  "),
        "comment_required",
    ),
    (
        "reject without comment",
        same,
        lambda h: Decide(task_id(h, "a"), ADM, "reject"),
        "comment_required",
    ),
    (
        "remarks without comment",
        same,
        lambda h: Decide(task_id(h, "a"), ADM, "approve_with_remarks"),
        "comment_required",
    ),
    (
        "request_info without answer",
        same,
        lambda h: Decide(task_id(h, "i"), ADM, "done"),
        "fields_required",
    ),
    (
        "request_info with empty answer",
        same,
        lambda h: Decide(task_id(h, "i"), ADM, "done", fields={"answer": ""}),
        "fields_required",
    ),
    (
        "a field the step does not fill",
        same,
        lambda h: Decide(task_id(h, "a"), ADM, "approve", fields={"amount": 1}),
        "field_not_allowed",
    ),
    (
        "second vote on a decided task",
        decided,
        lambda _h: Decide("r1:s:a:1", ADM, "reject", "x", "other"),
        "task_not_open",
    ),
    (
        "same request id, other outcome",
        decided,
        lambda _h: Decide("r1:s:a:1", ADM, "reject", "x", "first"),
        "request_id_reused",
    ),
    (
        "vote while in revision",
        returned,
        lambda _h: Decide("r1:s:ack:3", ADM, "acknowledge"),
        "process_not_running",
    ),
    (
        "vote on the revision task",
        returned,
        lambda h: Decide(h.only().id, ADM, "approve"),
        "process_not_running",
    ),
    (
        "vote after reject",
        rejected,
        lambda _h: Decide("r1:s:ack:3", ADM, "acknowledge"),
        "process_not_running",
    ),
    (
        "vote after cancel",
        cancelled,
        lambda _h: Decide("r1:s:ack:3", ADM, "acknowledge"),
        "process_not_running",
    ),
    (
        "resubmit while running",
        same,
        lambda _h: Resubmit(INITIATOR),
        "process_not_in_revision",
    ),
    (
        "resubmit after reject",
        rejected,
        lambda _h: Resubmit(INITIATOR),
        "process_not_in_revision",
    ),
    (
        "cancel after reject",
        rejected,
        lambda _h: Cancel(INITIATOR),
        "process_not_running",
    ),
    (
        "reassign in revision",
        returned,
        lambda h: Reassign(h.only().id, ADM, ADM),
        "process_not_running",
    ),
    (
        "reassign a decided task",
        decided,
        lambda _h: Reassign("r1:s:a:1", ADM, ADM),
        "task_not_open",
    ),
    (
        "reassign after cancel",
        cancelled,
        lambda _h: Reassign("r1:s:ack:3", ADM, ADM),
        "process_not_running",
    ),
    (
        "resolve a step that did not fail",
        same,
        lambda _h: ResolveStep("s", "a", ADM, [ADM]),
        "step_not_failed",
    ),
    (
        "resolve a step of another stage",
        same,
        lambda _h: ResolveStep("b", "b", ADM, [ADM]),
        "step_not_found",
    ),
    (
        "resolve after cancel",
        cancelled,
        lambda _h: ResolveStep("s", "a", ADM, [ADM]),
        "process_not_running",
    ),
]


@pytest.mark.parametrize(
    ("_case", "given", "command", "code"), CASES, ids=[c[0] for c in CASES]
)
def test_refused_commands_change_nothing(
    _case: str,
    given: Callable[[Harness], Harness],
    command: Callable[[Harness], object],
    code: str,
) -> None:
    h = given(fresh())
    before = h.s.to_dict()
    cmd = command(h)
    with pytest.raises(EngineError) as info:
        handle(h.definition, h.s, cmd, h.ctx())  # type: ignore[arg-type]
    assert info.value.code == code
    assert info.value.message
    assert h.s.to_dict() == before


def test_a_positive_control_for_the_guarded_decisions() -> None:
    h = fresh()
    h.decide("i", "done", fields={"answer": "yes"})
    h.decide("k", "acknowledge")
    h.decide("a", "approve_with_remarks", comment="ok")
    assert h.only().participant.id == "b"


def test_commands_before_start_are_refused() -> None:
    definition = route(*seq("a"))
    with pytest.raises(ProcessNotStarted) as info:
        handle(definition, None, Cancel(INITIATOR), Context(now=T0))
    assert info.value.code == "process_not_started"


def test_a_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        handle(
            route(*seq("a")),
            None,
            Start(INITIATOR),
            Context(now=datetime(2025, 1, 1)),  # noqa: DTZ001
        )


def test_the_same_decision_repeated_is_a_harmless_no_op() -> None:
    h = Harness(route(*seq("a", "b")))
    h.start()
    a = h.only()
    h.decide(a, request_id="click-1")
    after = h.s.to_dict()
    result = h.decide(a, request_id="click-1")
    assert result.effects == ()
    assert h.s.to_dict() == after


def test_a_repeat_after_the_process_finished_is_still_harmless() -> None:
    h = Harness(route(*seq("a")))
    h.start()
    a = h.only()
    h.decide(a, "reject", comment="no", request_id="r")
    assert h.decide(a, "reject", comment="no", request_id="r").effects == ()
    with pytest.raises(RequestIdReused):
        h.decide(a, "approve", request_id="r")


def test_a_timer_that_is_not_pending_is_a_no_op() -> None:
    h = Harness(route(*seq("a")))
    h.start()
    before = h.s.to_dict()
    assert h.fire("due:nothing").effects == ()
    assert h.s.to_dict() == before
    assert (
        handle(
            h.definition,
            h.s,
            TimerFired("x"),
            Context(now=datetime(2030, 1, 1, tzinfo=UTC)),
        ).state
        is h.s
    )
