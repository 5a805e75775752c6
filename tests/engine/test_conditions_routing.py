"""Conditions are evaluated when a stage opens, against the facts of that moment."""

from __future__ import annotations

from sogla.engine import effects as fx
from sogla.engine.conditions import describe, parse_condition
from sogla.engine.states import ProcessStatus, StageState, StepState
from tests.engine.builders import Harness, approve, ask, eq, route, seq, stage


def test_a_stage_whose_condition_fails_is_skipped_with_the_reason() -> None:
    h = Harness(
        route(
            *seq("a"),
            stage("full", approve("lawyer"), when=eq("type", "full")),
            *seq("gd"),
        ),
        facts={"type": "short"},
    )
    h.start()
    h.decide("a")
    assert fx.StageSkipped(1, "full", 'condition not met: type is "full"') in h.effects
    assert h.s.stages["1:full"].state is StageState.SKIPPED
    assert h.only().participant.id == "gd"


def test_step_conditions_skip_single_steps() -> None:
    h = Harness(
        route(
            stage(
                "extra",
                approve("eng", when=eq("initiator.department", "engineering")),
                approve("exec", when=eq("initiator.department", "sales")),
            )
        ),
        facts={"initiator.department": "sales"},
    )
    h.start()
    assert h.only().participant.id == "exec"
    assert h.s.steps["1:extra:eng"].state is StepState.SKIPPED
    assert (
        h.s.steps["1:extra:eng"].reason
        == 'condition not met: initiator.department is "engineering"'
    )
    assert (
        fx.StepSkipped(1, "extra", "eng", h.s.steps["1:extra:eng"].reason) in h.effects
    )


def test_a_stage_whose_steps_are_all_skipped_is_skipped() -> None:
    h = Harness(
        route(
            stage("extra", approve("eng", when=eq("dep", "engineering"))),
            *seq("gd"),
        ),
        facts={"dep": "sales"},
    )
    h.start()
    assert fx.StageSkipped(1, "extra", "every step is skipped") in h.effects
    assert fx.StageOpened(1, "extra") not in h.effects
    assert h.s.steps["1:extra:eng"].state is StepState.SKIPPED
    assert h.only().participant.id == "gd"


def test_every_stage_skipped_approves_at_start() -> None:
    h = Harness(route(stage("x", approve("a"), when=eq("never", True))))
    h.start()
    assert h.s.status is ProcessStatus.APPROVED


def test_a_request_info_answer_steers_a_later_stage() -> None:
    """S3: the CFO answers whether the executive director must approve."""
    definition = route(
        stage("cfo", ask("q", "user:cfo", ["needs_exec"])),
        stage("exec", approve("exec"), when=eq("needs_exec", True)),
        *seq("acc"),
    )
    yes = Harness(definition)
    yes.start()
    yes.decide("cfo", "done", fields={"needs_exec": True})
    assert (
        fx.SetFields(yes.s.tasks["r1:cfo:q:1"].id, {"needs_exec": True}) in yes.effects
    )
    assert yes.only().participant.id == "exec"

    no = Harness(definition)
    no.start()
    no.decide("cfo", "done", fields={"needs_exec": False})
    assert no.only().participant.id == "acc"


def test_facts_are_read_when_the_stage_opens_not_at_start() -> None:
    h = Harness(route(*seq("a"), stage("b", approve("b"), when=eq("amount_big", True))))
    h.start()
    h.facts["amount_big"] = True  # the document changed meanwhile
    h.decide("a")
    assert h.only().participant.id == "b"


def test_describe_turns_conditions_into_sentences() -> None:
    cond = parse_condition(
        {
            "all": [
                {"field": "amount", "op": "gt", "value": 100000},
                {
                    "any": [
                        {"field": "type", "value": "full"},
                        {"field": "x", "op": "empty"},
                    ]
                },
                {"not": {"field": "tags", "op": "in", "value": ["a", "b"]}},
                {"field": "urgent", "value": True},
            ]
        }
    )
    assert describe(cond) == (
        'amount is greater than 100000 and (type is "full" or x is empty) and '
        'not (tags is one of "a", "b") and urgent is yes'
    )
