"""An assignee "the head of the department chosen in a field" (issue 11, item 2):
``{"department_head_field": "<key of a department-choice field>"}``. The engine
checks the field exists and is a choice; the resolver asks the head of the chosen
department; an empty field, an unknown department or one without a head is the
step's usual "nobody to ask", its reason naming the department in the reader's
language."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.core.errors import ValidationFailed
from sogla.documents.models import FieldKind
from sogla.orgs.models import Department, User
from sogla.workflow.models import Task, TaskState
from tests.api.conftest import token_client
from tests.conftest import Tenant
from tests.factories import UserFactory, add_field
from tests.workflow.conftest import approve, make_document, publish, route, stage, start

pytestmark = pytest.mark.django_db

HEAD_OF_CHOSEN = route(
    stage("head", approve("h", {"department_head_field": "unit"})),
    key="by-unit",
)


@pytest.fixture
def units(tenant_a: Tenant) -> dict[str, Department]:
    """Legal (with a head) and Design (without), and the contract's choice field."""
    legal = Department.objects.create(
        organisation=tenant_a.org,
        code="legal",
        name="Юридический отдел",
        name_en="Legal department",
    )
    design = Department.objects.create(
        organisation=tenant_a.org, code="design", name="Дизайн", name_en="Design"
    )
    head: User = UserFactory(
        organisation=tenant_a.org, department=legal, username="alpha-legal-head"
    )
    legal.head = head
    legal.save()
    add_field(
        tenant_a.contract,
        "unit",
        FieldKind.CHOICE,
        choices=[
            {"value": "legal", "ru": "Юридический отдел", "en": "Legal department"},
            {"value": "design", "ru": "Дизайн", "en": "Design"},
            {"value": "gone", "ru": "Упразднён", "en": "Gone"},
        ],
    )
    add_field(tenant_a.contract, "note", FieldKind.STRING)
    return {"legal": legal, "design": design}


def test_the_head_of_the_chosen_department_is_asked(
    tenant_a: Tenant, units: dict[str, Department]
) -> None:
    template = publish(tenant_a, HEAD_OF_CHOSEN, key="by-unit")
    process = start(tenant_a, template, make_document(tenant_a, unit="legal"))
    [task] = Task.objects.filter(process=process, state=TaskState.OPEN)
    assert task.assignee == units["legal"].head


@pytest.mark.parametrize(
    ("assignee", "problem"),
    [
        ({"department_head_field": "nothing"}, 'no field "nothing"'),
        ({"department_head_field": "note"}, 'field "note" is not of kind choice'),
    ],
)
def test_publishing_refuses_a_field_that_is_missing_or_not_a_choice(
    tenant_a: Tenant,
    units: dict[str, Department],
    assignee: dict[str, Any],
    problem: str,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        publish(tenant_a, route(stage("head", approve("h", assignee))))
    assert problem in str(refused.value), refused.value


@pytest.mark.parametrize(
    ("unit", "language", "said"),
    [
        ("design", "en", "the department “Design” has no head"),
        ("design", "ru", "у подразделения «Дизайн» нет"),
        ("gone", "en", "no department “gone” in this organisation"),
        ("", "en", "is empty"),
    ],
)
def test_nobody_to_ask_says_why_naming_the_department(
    tenant_a: Tenant,
    units: dict[str, Department],
    unit: str,
    language: str,
    said: str,
) -> None:
    template = publish(tenant_a, HEAD_OF_CHOSEN, key="by-unit")
    values = {"unit": unit} if unit else {}
    document = make_document(tenant_a, **values)
    process = start(tenant_a, template, document)
    assert not Task.objects.filter(process=process, state=TaskState.OPEN).exists()
    answer = token_client(tenant_a.initiator).get(
        f"/documents/{document.pk}/process", headers={"Accept-Language": language}
    )
    assert answer.status_code == 200, answer.json()
    reasons = " | ".join(
        r
        for found in answer.json()["stages"]
        for r in [found["reason"], *(s["reason"] for s in found["steps"])]
        if r
    )
    assert said in reasons, reasons


def test_the_start_preview_names_the_head_of_the_chosen_department(
    tenant_a: Tenant, units: dict[str, Department]
) -> None:
    publish(tenant_a, HEAD_OF_CHOSEN, key="by-unit")
    chosen = make_document(tenant_a, unit="legal")
    headless = make_document(tenant_a, unit="design")
    client = token_client(tenant_a.initiator)

    def preview(document_pk: int) -> list[dict[str, Any]]:
        answer = client.get(
            f"/documents/{document_pk}/routes", headers={"Accept-Language": "en"}
        )
        assert answer.status_code == 200, answer.json()
        [option] = [o for o in answer.json() if o["key"] == "by-unit"]
        return list(option["preview"])

    head = units["legal"].head
    assert head is not None
    [step] = preview(chosen.pk)[0]["steps"]
    assert [p["user"]["id"] for p in step["participants"]] == [head.pk]
    assert not step["unresolved"]
    said = str(preview(headless.pk))
    assert "the department “Design” has no head" in said, said


def test_the_choice_field_is_checked_by_the_pure_engine() -> None:
    from sogla.engine.validation import OrgFacts, validate_route

    facts = OrgFacts(fields={"unit": "choice", "when": "date"})
    assert validate_route(HEAD_OF_CHOSEN, facts) == []
    wrong = route(stage("head", approve("h", {"department_head_field": "when"})))
    [problem] = validate_route(wrong, facts)
    assert problem.path == "stages[0].steps[0].assignee.department_head_field"
