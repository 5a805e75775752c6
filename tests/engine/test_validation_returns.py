"""The checks of ``return_to`` (send back to an earlier stage) and of ``invite``."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.engine.validation import OrgFacts, validate_route

FACTS = OrgFacts(
    roles=frozenset({"lawyer"}),
    fields={"day": "date", "at": "string", "amount": "money", "room": "string"},
)
WHO = {"role": "lawyer"}


def problems(*stages: dict[str, Any]) -> list[str]:
    data = {"key": "r", "stages": list(stages)}
    return [str(p) for p in validate_route(data, FACTS)]


def st(key: str, *steps: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "steps": list(steps)}


def ap(key: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "assignee": WHO, **extra}


def test_an_earlier_stage_is_fine() -> None:
    assert problems(st("a", ap("x")), st("b", ap("y", return_to=["a"]))) == []


def test_a_later_stage_is_refused() -> None:
    assert problems(st("a", ap("x", return_to=["b"])), st("b", ap("y"))) == [
        'stages[0].steps[0].return_to[0]: stage "b" comes later: a step sends the '
        "document back only to an earlier stage"
    ]


def test_an_unknown_stage_is_refused() -> None:
    assert problems(st("a", ap("x")), st("b", ap("y", return_to=["zz"]))) == [
        'stages[1].steps[0].return_to[0]: no stage "zz" in this route'
    ]


def test_its_own_stage_is_refused_where_the_step_is_alone() -> None:
    assert problems(st("a", ap("x")), st("b", ap("y", return_to=["b"]))) == [
        "stages[1].steps[0].return_to[0]: the step would send the document back "
        "to its own stage, where it is the only step"
    ]
    assert problems(st("b", ap("y", return_to=["b"]), ap("z"))) == []


def test_two_stages_sending_back_to_each_other_form_a_cycle_on_both_cards() -> None:
    found = problems(
        st("a", ap("x", return_to=["b"])), st("b", ap("y", return_to=["a"]))
    )
    assert found == [
        'stages[0].steps[0].return_to[0]: stages "a" and "b" send the document back '
        "to each other (a cycle)",
        'stages[1].steps[0].return_to[0]: stages "b" and "a" send the document back '
        "to each other (a cycle)",
    ]


def test_a_step_that_cannot_return_cannot_send_back() -> None:
    consult = {"key": "c", "kind": "consult", "assignee": WHO, "return_to": ["a"]}
    assert problems(st("a", ap("x")), st("b", consult)) == [
        "stages[1].steps[0].return_to: a consult step cannot send the document back"
    ]


def test_the_outcome_without_stages_is_refused() -> None:
    step = ap("y", outcomes=["approve", "return_to_stage"])
    assert problems(st("a", ap("x")), st("b", step)) == [
        'stages[1].steps[0].outcomes[1]: "return_to_stage" needs the stages to send '
        "back to (return_to)"
    ]


def sys(action: dict[str, Any]) -> dict[str, Any]:
    return {"key": "s", "kind": "system", "actions": [action]}


@pytest.mark.parametrize(
    ("invite", "notify", "expected"),
    [
        ({"date_field": "day", "time": "10:00"}, ["initiator"], []),
        ({"start_field": "at"}, ["initiator"], []),
        (
            {"date_field": "day", "time": "10:00"},
            None,
            ["stages[0].steps[0].actions[0].invite: an invitation is sent with a "
             "notice: add notify"],
        ),
        (
            {"date_field": "amount", "time_field": "nope", "location_field": "room"},
            ["initiator"],
            [
                'stages[0].steps[0].actions[0].invite.date_field: field "amount" is '
                "not of kind date",
                'stages[0].steps[0].actions[0].invite.time_field: no field "nope" in '
                "this document type",
            ],
        ),
    ],
)  # fmt: skip
def test_an_invitation_checks_its_fields(
    invite: dict[str, Any], notify: list[str] | None, expected: list[str]
) -> None:
    action: dict[str, Any] = {"invite": invite}
    if notify:
        action["notify"] = notify
    assert problems(st("x", sys(action))) == expected


@pytest.mark.parametrize(
    ("invite", "message"),
    [
        ({"time": "10:00"}, "choose one of start_field, date_field"),
        ({"date_field": "day"}, "choose one of time, time_field"),
        ({"date_field": "day", "time": "25:00"}, "String should match pattern"),
    ],
)
def test_an_invitation_needs_one_start(invite: dict[str, Any], message: str) -> None:
    found = problems(st("x", sys({"invite": invite, "notify": ["initiator"]})))
    assert len(found) == 1
    assert found[0].startswith("stages[0].steps[0].actions[0].invite")
    assert message in found[0]
