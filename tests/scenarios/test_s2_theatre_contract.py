"""S2. Theatre contracts (SCENARIOS.md): approvers by type, subject and funding
source; every controller of the commercial director's fund must approve before the
general director signs the contract and the invoice."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.orgs.models import Organisation
from tests.scenarios.conftest import Story, begin, party, pdf

pytestmark = pytest.mark.django_db


def theatre_contract(**values: Any) -> Story:
    return begin(
        initiator="manager",
        doc_type="theatre_contract",
        route="theatre-contract",
        values={"amount": "480000.00", "counterparty": party("Невский").pk, **values},
        files=[pdf("contract_file", "contract.pdf")],
    )


def test_every_controller_of_the_commercial_fund_must_approve(
    argo: Organisation,
) -> None:
    story = theatre_contract(
        direction="expense",
        contract_type="materials",
        subject="Ткани для декораций",
        funding_source="commercial_fund",
    )
    # Expense, materials: the lawyer, the CFO, the chief accountant and the chief
    # engineer review in parallel.
    assert story.new_tasks() == [
        ("review", "lawyer", "lawyer"),
        ("review", "cfo", "cfo"),
        ("review", "chief_accountant", "chief-accountant"),
        ("review", "chief_engineer", "engineer"),
    ]
    for username in ("lawyer", "cfo", "chief-accountant"):
        story.decide(username)
        assert story.new_tasks() == []
    story.decide("engineer")
    # Every member of the fund's role gets a task (quorum "all").
    assert story.new_tasks() == [
        ("fund", "commercial_fund", "cfo"),
        ("fund", "commercial_fund", "chief-accountant"),
        ("fund", "commercial_fund", "commercial"),
    ]
    story.decide("cfo")
    story.decide("commercial")
    # two of three approved: the invoice is not signed yet
    assert story.new_tasks() == []
    assert story.open_tasks() == [("fund", "commercial_fund", "chief-accountant")]
    assert story.process.stage_index == 1
    story.decide("chief-accountant")
    assert story.new_tasks() == [("invoice", "ceo", "director")]
    story.decide("director")

    assert story.process.status == "approved"
    assert story.status() == "signed"
    assert story.notifications() == [
        ("workflow.task_assigned", "lawyer"),
        ("workflow.task_assigned", "cfo"),
        ("workflow.task_assigned", "chief-accountant"),
        ("workflow.task_assigned", "engineer"),
        ("workflow.task_assigned", "cfo"),
        ("workflow.task_assigned", "chief-accountant"),
        ("workflow.task_assigned", "commercial"),
        ("workflow.task_assigned", "director"),
        ("workflow.approved", "manager"),
    ]
    assert story.verbs() == [
        "document.created",
        "document.file_version_added",
        "process.started",
        *["task.decided"] * 8,
        "process.finished",
    ]


def test_an_income_tour_contract_has_no_fund_stage(argo: Organisation) -> None:
    story = theatre_contract(
        direction="income", contract_type="tours", subject="Гастроли в Томске"
    )
    assert story.new_tasks() == [
        ("review", "lawyer", "lawyer"),
        ("review", "commercial", "commercial"),
        ("review", "executive", "executive"),
    ]
    for username in ("lawyer", "commercial", "executive"):
        story.decide(username)
    assert story.new_tasks() == [("invoice", "ceo", "director")]
    story.decide("director")
    assert story.process.status == "approved"
    assert story.status() == "signed"
