"""S4. Absence request (SCENARIOS.md).

The employee's manager approves; remote work ends there, a vacation goes to the
accountant ("add to the vacation schedule") and back to the employee ("sign the
application"). On success the people chosen in "notify" are told.
"""

from __future__ import annotations

from typing import Any

import pytest

from sogla.core.errors import ValidationFailed
from sogla.documents.models import DocumentType
from sogla.documents.services import document_create
from sogla.orgs.models import Organisation
from tests.scenarios.conftest import Story, begin, user

pytestmark = pytest.mark.django_db


def absence(reason: str, **values: Any) -> Story:
    story = begin(
        initiator="author",
        doc_type="absence",
        route="absence",
        values={
            "reason": reason,
            "date_from": "2026-04-06",
            "date_to": "2026-04-10",
            "notify": [user("seo").pk, user("designer").pk],
            **values,
        },
    )
    # the author has no manager of her own: the head of marketing approves
    assert story.new_tasks() == [("manager", "manager", "editor")]
    assert story.status() == "on_approval"
    return story


def test_remote_work_needs_a_justification(argo: Organisation) -> None:
    with pytest.raises(ValidationFailed) as refused:
        document_create(
            actor=user("author"),
            doc_type=DocumentType.objects.get(organisation=argo, key="absence"),
            values={
                "reason": "remote",
                "date_from": "2026-04-06",
                "date_to": "2026-04-10",
            },
        )
    assert [p.field for p in refused.value.problems] == ["justification"]


def test_remote_work_ends_with_the_managers_approval(argo: Organisation) -> None:
    story = absence("remote", justification="Ремонт в квартире, нужен доступ")
    story.decide("editor")
    assert story.new_tasks() == []
    assert story.process.status == "approved"
    assert story.status() == "approved"
    assert story.stages() == [
        ("manager", "done"),
        ("paperwork", "skipped"),
        ("signature", "skipped"),
    ]
    assert story.notifications() == [
        ("workflow.task_assigned", "editor"),
        ("workflow.route_notice", "seo"),
        ("workflow.route_notice", "designer"),
        ("workflow.approved", "author"),
    ]
    assert story.verbs() == [
        "document.created",
        "process.started",
        "task.decided",
        "process.finished",
    ]


def test_a_vacation_goes_to_the_accountant_and_back_to_the_employee(
    argo: Organisation,
) -> None:
    story = absence("vacation")
    story.decide("editor")
    assert story.new_tasks() == [("paperwork", "vacation_schedule", "accountant")]
    assert story.status() == "in_work"
    story.decide("accountant", "done")
    assert story.new_tasks() == [("signature", "sign_application", "author")]
    story.decide("author", "done")
    assert story.new_tasks() == []
    assert story.process.status == "approved"
    assert story.status() == "approved"
    assert story.stages() == [
        ("manager", "done"),
        ("paperwork", "done"),
        ("signature", "done"),
    ]
    assert story.notifications() == [
        ("workflow.task_assigned", "editor"),
        ("workflow.task_assigned", "accountant"),
        ("workflow.task_assigned", "author"),
        ("workflow.route_notice", "seo"),
        ("workflow.route_notice", "designer"),
        ("workflow.approved", "author"),
    ]
    assert story.verbs() == [
        "document.created",
        "process.started",
        *["task.decided"] * 3,
        "process.finished",
    ]


def test_the_manager_rejects(argo: Organisation) -> None:
    story = absence("unpaid")
    story.decide("editor", "reject", comment="В апреле нельзя")
    assert story.new_tasks() == []
    assert story.process.status == "rejected"
    assert story.status() == "rejected"
    # nobody in "notify" hears of a rejection
    assert story.notifications() == [
        ("workflow.task_assigned", "editor"),
        ("workflow.rejected", "author"),
    ]
