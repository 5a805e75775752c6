"""The start form's preview, and the state's JSON snapshot."""

from __future__ import annotations

import json

import pytest

from sogla.engine.run import preview
from sogla.engine.states import SCHEMA_VERSION, Participant, ProcessState
from tests.engine.builders import (
    Directory,
    Harness,
    approve,
    ask,
    eq,
    route,
    seq,
    stage,
    wait,
)

PEOPLE = Directory(roles={"lawyer": ["lena"]})


def test_preview_lists_who_would_be_asked_and_why_steps_are_skipped() -> None:
    definition = route(
        stage("m", approve("m", "manager")),
        stage(
            "full",
            approve("law", "role:lawyer"),
            approve("acc", "role:accountant"),
            when=eq("type", "full"),
        ),
        stage("short", approve("gd"), when=eq("type", "short")),
        stage("w", wait("until", "end_date")),
    )
    PEOPLE.facts = {"type": "full"}
    stages = preview(definition, {"type": "full"}, PEOPLE)
    assert [(s.key, s.runs, s.reason) for s in stages] == [
        ("m", True, ""),
        ("full", True, ""),
        ("short", False, 'condition not met: type is "short"'),
        ("w", True, ""),
    ]
    full = stages[1].steps
    assert full[0].participants == (Participant.user("lena"),)
    assert (full[1].unresolved, full[1].reason) == (
        True,
        'nobody holds the role "accountant"',
    )
    assert full[0].quorum == "any"
    assert stages[3].steps[0].unresolved is True
    assert stages[3].steps[0].reason == 'the date field "end_date" is empty'


def test_preview_marks_conditions_that_depend_on_answers_given_later() -> None:
    definition = route(
        stage("cfo", ask("q", "user:cfo", ["exec_needed"])),
        stage("exec", approve("ed"), when=eq("exec_needed", True)),
    )
    stages = preview(definition, {}, Directory())
    assert stages[1].runs is False
    assert stages[1].tentative is True
    assert stages[0].tentative is False


def test_preview_of_a_stage_with_all_steps_skipped() -> None:
    definition = route(stage("x", approve("a", when=eq("f", 1))))
    (only,) = preview(definition, {"f": 2}, Directory())
    assert (only.runs, only.reason) == (False, "every step is skipped")
    assert only.steps[0].reason == "condition not met: f is 1"


def test_the_snapshot_is_plain_json_and_round_trips() -> None:
    h = Harness(route(*seq("a"), stage("b", approve("b", due={"hours": 5}))))
    h.start()
    h.decide("a", "approve_with_remarks", comment="ok")
    data = h.s.to_dict()
    text = json.dumps(data, sort_keys=True)
    again = ProcessState.from_dict(json.loads(text))
    assert again == h.s
    assert again.open_tasks == h.s.open_tasks
    assert data["schema_version"] == SCHEMA_VERSION


def test_an_unknown_schema_version_is_refused() -> None:
    h = Harness(route(*seq("a")))
    h.start()
    data = h.s.to_dict() | {"schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(ValueError, match="schema version"):
        ProcessState.from_dict(data)


def test_a_delegated_participant_round_trips() -> None:
    person = Participant.user("deputy", on_behalf_of=Participant.user("boss"))
    assert Participant.from_dict(person.to_dict()) == person
    assert person.seat == "user:boss"
    assert Participant.guest(" Rep@Partner.Test ").ref == "guest:rep@partner.test"
