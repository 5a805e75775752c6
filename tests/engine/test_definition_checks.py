"""Semantic checks the engine relies on."""

from __future__ import annotations

from sogla.engine.definition import OrgFacts, validate_route

FACTS = OrgFacts(roles=frozenset({"lawyer"}))


def route_with(step: dict[str, object]) -> dict[str, object]:
    return {"key": "r", "stages": [{"key": "s", "steps": [step]}]}


def test_a_step_without_a_completing_outcome_is_a_problem() -> None:
    problems = validate_route(
        route_with(
            {
                "key": "a",
                "assignee": {"role": "lawyer"},
                "outcomes": ["return", "reject"],
            }
        ),
        FACTS,
    )
    assert [str(p) for p in problems] == [
        "stages[0].steps[0].outcomes: the step could never finish: add an outcome that completes it"
    ]


def test_a_quorum_above_the_named_guests_is_a_problem() -> None:
    problems = validate_route(
        route_with({"key": "a", "assignee": {"guests": ["a@x.test"]}, "quorum": 2}),
        FACTS,
    )
    assert [str(p) for p in problems] == [
        "stages[0].steps[0].quorum: the quorum is 2 but only 1 named"
    ]


def test_a_valid_step_has_no_problems() -> None:
    assert (
        validate_route(route_with({"key": "a", "assignee": {"role": "lawyer"}}), FACTS)
        == []
    )
