"""S1, S2 and S3 from SCENARIOS.md, written as the route JSON an administrator saves."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.engine import effects as fx
from sogla.engine.definition import Action
from sogla.engine.states import Participant, ProcessStatus, TaskState
from sogla.engine.validation import parse_route
from tests.engine.builders import Directory, Harness

FULL = {"field": "approval_type", "op": "eq", "value": "full"}

S1_CONTRACT: dict[str, Any] = {
    "key": "contract",
    "name": {"en": "Contract", "ru": "Договор"},
    "stall_alert": {"hours": 24, "notify": ["initiator"]},
    "on_return": {"restart": "first_stage", "reask": "not_approved"},
    "stages": [
        {"key": "manager", "when": FULL, "steps": [
            {"key": "m", "assignee": {"manager_of": "initiator"}, "due": {"working_days": 2}}]},
        {"key": "lawyer", "when": FULL, "steps": [
            {"key": "law", "assignee": {"role": "lawyer"}, "due": {"working_days": 2}}]},
        {"key": "accountant", "when": FULL, "steps": [
            {"key": "acc", "assignee": {"role": "accountant"}}]},
        {"key": "extra", "when": {"field": "approval_type", "op": "in", "value": ["full", "external"]},
         "steps": [
            {"key": "eng", "assignee": {"role": "chief_engineer"},
             "when": {"field": "initiator.department", "value": "engineering"}},
            {"key": "exec", "assignee": {"role": "executive_director"},
             "when": {"field": "initiator.department", "value": "sales"}},
            {"key": "mentor", "assignee": {"user_field": "mentor"},
             "when": {"all": [{"field": "initiator.department", "value": "trainees"},
                              {"field": "mentor", "op": "not_empty"}]}}]},
        {"key": "external", "when": {"field": "approval_type", "value": "external"}, "steps": [
            {"key": "cp", "assignee": {"counterparty_contacts": True}, "quorum": "any"}]},
        {"key": "deputy", "when": FULL, "steps": [
            {"key": "dgd", "assignee": {"role": "deputy_gd"}}]},
        {"key": "director", "steps": [{"key": "gd", "kind": "sign", "assignee": {"role": "ceo"}}]},
    ],
    "on_finish": [
        {"set_status": "approved"},
        {"generate": "contract.docx"},
        {"file_to": "{initiator.department}/Counterparties/{counterparty.name}"},
        {"remind": {"before_field": "end_date", "days": 30, "notify": ["field:responsible"]}},
    ],
}  # fmt: skip

PEOPLE = Directory(
    roles={
        "lawyer": ["lena"],
        "accountant": ["anna"],
        "chief_engineer": ["egor"],
        "executive_director": ["ed"],
        "deputy_gd": ["dima"],
        "ceo": ["gd"],
        "cfo": ["cfo"],
        "owner": ["owner"],
    },
    managers={"ini": "boss"},
    contacts=["rep@partner.test", "legal@partner.test"],
)


def s1(kind: str, department: str, **facts: Any) -> Harness:
    definition, problems = parse_route(S1_CONTRACT)
    assert problems == []
    assert definition is not None
    return Harness(
        definition,
        facts={"approval_type": kind, "initiator.department": department, **facts},
        directory=PEOPLE,
    )


def approve_chain(h: Harness, *people: str) -> list[str]:
    order = []
    while h.s.status is ProcessStatus.RUNNING:
        t = h.only()
        order.append(t.participant.id)
        h.decide(t)
        h.later(hours=3)
    assert order == list(people)
    return order


def test_s1_short_goes_straight_to_the_director() -> None:
    h = s1("short", "sales")
    h.start()
    approve_chain(h, "gd")
    assert h.s.status is ProcessStatus.APPROVED
    assert [e.action for e in h.of(fx.RunAction)] == [
        Action(set_status="approved"),
        Action(generate="contract.docx"),
        Action(file_to="{initiator.department}/Counterparties/{counterparty.name}"),
        Action(
            remind={
                "before_field": "end_date",
                "days": 30,
                "notify": ["field:responsible"],
            }
        ),
    ]


@pytest.mark.parametrize(
    ("department", "extra", "facts"),
    [
        ("engineering", ["egor"], {}),
        ("sales", ["ed"], {}),
        ("trainees", ["mentor_m"], {"mentor": "mentor_m"}),
        ("trainees", [], {}),  # the switchable branch: no mentor linked
        ("finance", [], {}),
    ],
)
def test_s1_full_adds_the_department_dependent_approver(
    department: str, extra: list[str], facts: dict[str, Any]
) -> None:
    h = s1("full", department, **facts)
    h.start()
    approve_chain(h, "boss", "lena", "anna", *extra, "dima", "gd")


def test_s1_external_joins_a_counterparty_representative_by_link() -> None:
    h = s1("external", "sales")
    h.start()
    h.decide("ed")
    guests = h.open()
    assert [t.participant for t in guests] == [
        Participant.guest("rep@partner.test"),
        Participant.guest("legal@partner.test"),
    ]
    h.decide(guests[1])
    assert h.task_states("cp") == ["closed_by_quorum", "done"]
    assert h.only().participant.id == "gd"


def test_s1_a_return_on_a_new_version_asks_everyone_again() -> None:
    h = s1("full", "finance")
    h.start()
    h.decide("boss")
    h.decide("lena")
    h.decide("anna", "return", comment="wrong bank details")
    assert h.s.status is ProcessStatus.REVISION
    h.files = "v2"  # the initiator uploads a new version
    h.resubmit()
    approve_chain(h, "boss", "lena", "anna", "dima", "gd")


def test_s1_a_return_without_new_files_keeps_the_approvals() -> None:
    h = s1("full", "finance")
    h.start()
    h.decide("boss")
    h.decide("lena")
    h.decide("anna", "return", comment="typo in the title, fixed in the fields")
    h.resubmit()
    approve_chain(h, "anna", "dima", "gd")
    assert [h.s.tasks[t].state for t in h.s.steps["2:manager:m"].task_ids] == [
        TaskState.CARRIED_OVER
    ]


S2_THEATRE: dict[str, Any] = {
    "key": "theatre-expense",
    "stages": [
        {"key": "owner", "steps": [
            {"key": "head", "assignee": {"manager_of": "initiator"}, "due": {"working_days": 2}}]},
        {"key": "fund", "when": {"field": "funding_source", "value": "commercial_fund"}, "steps": [
            {"key": "controllers", "assignee": {"users_field": "fund_controllers"},
             "quorum": "all", "due": {"working_days": 3}}]},
        {"key": "invoice", "steps": [{"key": "sign", "kind": "sign", "assignee": {"role": "ceo"}}]},
    ],
}  # fmt: skip


def test_s2_every_fund_controller_must_approve_before_the_invoice() -> None:
    definition, _ = parse_route(S2_THEATRE)
    assert definition is not None
    h = Harness(
        definition,
        facts={
            "funding_source": "commercial_fund",
            "fund_controllers": ["f1", "f2", "f3"],
        },
        directory=PEOPLE,
    )
    h.start()
    h.decide("boss")
    assert sorted(t.participant.id for t in h.open()) == ["f1", "f2", "f3"]
    assert all(t.due_at is not None for t in h.open())
    h.decide("f2")
    h.decide("f3")
    assert h.s.stage_index == 1
    h.decide("f1")
    assert h.only().participant.id == "gd"


def test_s2_a_returned_contract_is_approved_again_after_the_fixes() -> None:
    definition, _ = parse_route(S2_THEATRE)
    assert definition is not None
    h = Harness(
        definition,
        facts={"funding_source": "commercial_fund", "fund_controllers": ["f1", "f2"]},
        directory=PEOPLE,
    )
    h.start()
    h.decide("boss")
    h.decide("f1")
    h.decide("f2", "return", comment="attach the estimate")
    h.files = "v2"
    h.resubmit()
    h.decide("boss")
    assert sorted(t.participant.id for t in h.open()) == ["f1", "f2"]


S3_PAYMENT: dict[str, Any] = {
    "key": "payment",
    "stages": [
        {"key": "cfo", "steps": [
            {"key": "approve", "assignee": {"role": "cfo"}, "outcomes": ["approve", "reject"]}]},
        {"key": "cfo_question", "steps": [
            {"key": "needs_exec", "kind": "request_info", "assignee": {"role": "cfo"},
             "fields": ["exec_needed"], "required_fields": ["exec_needed"]}]},
        {"key": "exec", "when": {"field": "exec_needed", "value": True}, "steps": [
            {"key": "ed", "assignee": {"role": "executive_director"},
             "outcomes": ["approve", "reject"]}]},
        {"key": "invoice", "steps": [
            {"key": "tell_owner", "kind": "system", "actions": [{"notify": ["role:owner"]}]},
            {"key": "pay", "kind": "task", "assignee": {"role": "accountant"}}]},
        {"key": "act", "steps": [
            {"key": "provide_act", "kind": "task", "assignee": {"initiator": True}}]},
    ],
    "on_finish": [{"set_status": "paid"}],
}  # fmt: skip


def s3() -> Harness:
    definition, problems = parse_route(S3_PAYMENT)
    assert problems == []
    assert definition is not None
    return Harness(definition, facts={"amount": 1000}, directory=PEOPLE)


@pytest.mark.parametrize(("needed", "chain"), [(True, ["ed"]), (False, [])])
def test_s3_the_cfo_answer_decides_whether_the_executive_director_approves(
    needed: bool, chain: list[str]
) -> None:
    h = s3()
    h.start()
    h.decide("cfo")
    h.decide("cfo", "done", fields={"exec_needed": needed})
    for person in chain:
        h.decide(person)
    assert (
        fx.RunAction(Action(notify=["role:owner"]), "invoice", "tell_owner")
        in h.effects
    )
    h.decide("anna", "done")
    h.decide("ini", "done")
    assert h.s.status is ProcessStatus.APPROVED


def test_s3_a_cfo_rejection_closes_and_notifies_the_initiator() -> None:
    h = s3()
    h.start()
    h.decide("cfo", "reject", comment="not in budget")
    assert h.s.status is ProcessStatus.REJECTED
    assert (
        fx.Notify("rejected", ("initiator",), task_id="r1:cfo:approve:1") in h.effects
    )
