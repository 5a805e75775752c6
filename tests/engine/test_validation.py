"""Every semantic check of ``validate_route``, with its path, message and order."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.engine.validation import OrgFacts, validate_route

FACTS = OrgFacts(
    roles=frozenset({"lawyer"}),
    usernames=frozenset({"ivanov"}),
    departments=frozenset({"fin"}),
    statuses=frozenset({"signed"}),
    fields={
        "amount": "money",
        "end_date": "date",
        "curator": "user",
        "team": "users",
        "email": "string",
        "unit": "choice",
    },
)


def route_with(*steps: dict[str, Any], **route: Any) -> dict[str, Any]:
    return {"key": "r", "stages": [{"key": "s", "steps": list(steps)}], **route}


def problems_of(data: dict[str, Any]) -> list[str]:
    return [str(p) for p in validate_route(data, FACTS)]


LAWYER = {"role": "lawyer"}
P = "stages[0].steps[0]"


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            {"key": "a", "assignee": LAWYER, "when": {"field": "nope", "op": "empty"}},
            [f'{P}.when: no field "nope" in this document type'],
        ),
        (
            {
                "key": "a",
                "kind": "consult",
                "assignee": LAWYER,
                "outcomes": ["approve"],
            },
            [f'{P}.outcomes[0]: a consult step cannot end with "approve"'],
        ),
        (
            {"key": "a", "assignee": LAWYER, "outcomes": ["return"]},
            [
                f"{P}.outcomes: the step could never finish: "
                "add an outcome that completes it"
            ],
        ),
        (
            {"key": "a", "assignee": {"guests": ["a@x.test"]}, "quorum": 2},
            [f"{P}.quorum: the quorum is 2 but only 1 named"],
        ),
        ({"key": "a"}, [f"{P}.assignee: a person must be assigned"]),
        (
            {"key": "a", "kind": "wait", "wait_for": {"hours": 1}, "assignee": LAWYER},
            [f"{P}.assignee: a wait step has no assignee"],
        ),
        (
            {"key": "a", "assignee": LAWYER, "quorum": 0},
            [f"{P}.quorum: the quorum must be at least 1"],
        ),
        (
            {"key": "a", "kind": "wait"},
            [
                f"{P}.wait_until: a wait step needs either a date field (wait_until) "
                "or a length of time (wait_for)"
            ],
        ),
        (
            {"key": "a", "kind": "wait", "wait_until": "amount"},
            [f'{P}.wait_until: field "amount" is not of kind date'],
        ),
        (
            {"key": "a", "assignee": LAWYER, "wait_offset_days": 2},
            [f"{P}.wait_until: only a wait step waits"],
        ),
        (
            {"key": "a", "kind": "system"},
            [f"{P}.actions: a system step needs at least one action"],
        ),
        (
            {
                "key": "a",
                "kind": "request_info",
                "assignee": LAWYER,
                "fields": ["amount", "missing"],
                "required_fields": ["end_date"],
            },
            [
                f'{P}.fields[1]: no field "missing" in this document type',
                f'{P}.required_fields[0]: "end_date" is not among the step\'s fields',
            ],
        ),
        (
            {
                "key": "a",
                "assignee": {"guests": ["g@partner.test"]},
                "guest_fields": ["amount", "deleted"],
            },
            [f'{P}.guest_fields[1]: no field "deleted" in this document type'],
        ),
        (
            {"key": "a", "assignee": LAWYER, "due": {"field": "email"}},
            [f'{P}.due.field: field "email" is not of kind date'],
        ),
        (
            {
                "key": "a",
                "assignee": LAWYER,
                "due": {"working_days": 2, "remind_before": {"working_days": 2}},
            },
            [
                f"{P}.due.remind_before: the reminder would come before the task "
                "opens: make it shorter than the deadline"
            ],
        ),
        (
            {
                "key": "a",
                "kind": "system",
                "actions": [{"notify": ["initiator"]}],
                "due": {"hours": 1},
            },
            [f"{P}.due: a system step has no deadline"],
        ),
        (
            {"key": "a", "assignee": {"user": "petrov"}},
            [f'{P}.assignee.user: no user "petrov" in this organisation'],
        ),
        (
            {"key": "a", "assignee": {"role": "cfo"}},
            [f'{P}.assignee.role: no role "cfo" in this organisation'],
        ),
        (
            {"key": "a", "assignee": {"department_head": "hr"}},
            [f'{P}.assignee.department_head: no department "hr" in this organisation'],
        ),
        ({"key": "a", "assignee": {"department_head": "initiator"}}, []),
        ({"key": "a", "assignee": {"department_head_field": "unit"}}, []),
        (
            {"key": "a", "assignee": {"department_head_field": "email"}},
            [
                f'{P}.assignee.department_head_field: field "email" is not of kind choice'
            ],
        ),
        (
            {"key": "a", "assignee": {"department_head_field": "dept"}},
            [
                f'{P}.assignee.department_head_field: no field "dept" in this document type'
            ],
        ),
        (
            {"key": "a", "assignee": {"manager_of": "team"}},
            [f'{P}.assignee.manager_of: field "team" is not of kind user'],
        ),
        ({"key": "a", "assignee": {"manager_of": "curator"}}, []),
        (
            {"key": "a", "assignee": {"user_field": "amount"}},
            [f'{P}.assignee.user_field: field "amount" is not of kind user'],
        ),
        ({"key": "a", "assignee": {"users_field": "team"}}, []),
        (
            {"key": "a", "assignee": {"users_field": "email"}},
            [f'{P}.assignee.users_field: field "email" is not of kind user/users'],
        ),
        (
            {"key": "a", "assignee": {"guest_field": "end_date"}},
            [f'{P}.assignee.guest_field: field "end_date" is not of kind string'],
        ),
        (
            {"key": "a", "assignee": {"guests": ["a@x.test", "@x.test", "b@", "c"]}},
            [
                f'{P}.assignee.guests[1]: "@x.test" is not an e-mail address',
                f'{P}.assignee.guests[2]: "b@" is not an e-mail address',
                f'{P}.assignee.guests[3]: "c" is not an e-mail address',
            ],
        ),
        (
            {
                "key": "a",
                "kind": "system",
                "actions": [
                    {"set_status": "lost"},
                    {"set_field": {"amount": 1, "nope": 2}},
                    {"remind": {"before_field": "amount"}},
                ],
            },
            [
                f'{P}.actions[0].set_status: no status "lost" in this document type',
                f'{P}.actions[1].set_field.nope: no field "nope" in this document type',
                f'{P}.actions[2].remind.before_field: field "amount" is not of kind date',
            ],
        ),
    ],
)
def test_each_check_names_its_path(step: dict[str, Any], expected: list[str]) -> None:
    assert problems_of(route_with(step)) == expected


def test_keys_written_twice_and_the_route_level_parts() -> None:
    data = {
        "key": "r",
        "stages": [
            {
                "key": "s",
                "when": {"field": "ghost", "op": "empty"},
                "steps": [
                    {"key": "a", "assignee": LAWYER},
                    {"key": "a", "assignee": LAWYER},
                ],
            },
            {"key": "s", "steps": [{"key": "b", "assignee": LAWYER}]},
        ],
        "on_finish": [{"set_status": "signed"}, {"set_status": "gone"}],
    }
    assert problems_of(data) == [
        'stages[0].when: no field "ghost" in this document type',
        'stages[0].steps[1].key: step "a" appears twice in the stage',
        'stages[1].key: stage "s" appears twice',
        'on_finish[1].set_status: no status "gone" in this document type',
    ]


def test_problems_of_one_step_come_in_the_order_of_its_parts() -> None:
    step = {
        "key": "a",
        "kind": "consult",
        "when": {"field": "ghost", "op": "empty"},
        "outcomes": ["approve"],
        "quorum": 0,
        "wait_for": {"hours": 1},
        "fields": ["ghost"],
        "required_fields": ["other"],
        "due": {"field": "amount"},
        "actions": [{"set_field": {"ghost": 1}}],
    }
    assert problems_of(route_with(step)) == [
        f'{P}.when: no field "ghost" in this document type',
        f'{P}.outcomes[0]: a consult step cannot end with "approve"',
        f"{P}.assignee: a person must be assigned",
        f"{P}.quorum: the quorum must be at least 1",
        f"{P}.wait_until: only a wait step waits",
        f'{P}.fields[0]: no field "ghost" in this document type',
        f'{P}.required_fields[0]: "other" is not among the step\'s fields',
        f'{P}.due.field: field "amount" is not of kind date',
        f'{P}.actions[0].set_field.ghost: no field "ghost" in this document type',
    ]


def test_a_status_is_not_checked_when_the_statuses_are_not_known() -> None:
    data = route_with(
        {"key": "a", "kind": "system", "actions": [{"set_status": "any"}]}
    )
    assert [str(p) for p in validate_route(data, OrgFacts())] == []


def test_a_status_is_checked_when_the_type_has_none() -> None:
    """Known to have no statuses (an empty set) is not the same as not known (None):
    publishing a route over a type without statuses names every ``set_status``."""
    data = route_with(
        {"key": "a", "kind": "system", "actions": [{"set_status": "approved"}]}
    )
    problems = [str(p) for p in validate_route(data, OrgFacts(statuses=frozenset()))]
    assert problems == [
        f'{P}.actions[0].set_status: no status "approved" in this document type'
    ]
