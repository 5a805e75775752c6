"""Semantic checks the engine relies on."""

from __future__ import annotations

from typing import Any

from sogla.engine.validation import OrgFacts, validate_route

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


def test_impossible_deadline_settings_are_refused_with_their_paths() -> None:
    from sogla.engine.validation import OrgFacts, validate_route

    data: dict[str, Any] = {
        "key": "r",
        "stages": [
            {
                "key": "s",
                "steps": [
                    {
                        "key": "a",
                        "assignee": {"initiator": True},
                        "due": {"hours": 4, "remind_before": {"hours": 4}},
                    },
                    {
                        "key": "w",
                        "kind": "wait",
                        "wait_for": {"hours": 2},
                        "due": {"hours": 1},
                    },
                    {"key": "x", "assignee": {"initiator": True}, "due": {"hours": 0}},
                ],
            }
        ],
    }
    problems = {p.path: p.message for p in validate_route(data, OrgFacts())}
    assert "stages[0].steps[2].due.hours" in " ".join(problems)
    data["stages"][0]["steps"].pop()
    problems = {p.path: p.message for p in validate_route(data, OrgFacts())}
    assert problems["stages[0].steps[0].due.remind_before"].startswith(
        "the reminder would come before the task opens"
    )
    assert problems["stages[0].steps[1].due"] == "a wait step has no deadline"
