"""The API's route map says the engine's skip reasons and the resolver's reasons in
the request's language, as the card does (issue 12, item 7): conditions with the
fields' labels, departments by their names (``name_en`` under English), never the
engine's English sentences over codes."""

from __future__ import annotations

import pytest

from sogla.orgs.models import Department
from tests.api.conftest import token_client
from tests.conftest import Tenant
from tests.workflow.conftest import approve, make_document, publish, route, stage, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def legal(tenant_a: Tenant) -> Department:
    return Department.objects.create(
        organisation=tenant_a.org,
        code="legal",
        name="Юридический отдел",
        name_en="Legal department",
    )


def reasons(tenant: Tenant, language: str) -> list[str]:
    template = publish(
        tenant,
        route(
            stage("legal_head", approve("h", {"department_head": "legal"})),
            stage(
                "lawyers",
                approve("l", {"user": tenant.colleague.username}),
                when={"field": "initiator.department", "op": "eq", "value": "legal"},
            ),
        ),
        key="by-department",
    )
    document = make_document(tenant)
    start(tenant, template, document)
    answer = token_client(tenant.initiator).get(
        f"/documents/{document.pk}/process", headers={"Accept-Language": language}
    )
    assert answer.status_code == 200, answer.json()
    said = []
    for found in answer.json()["stages"]:
        said += [found["reason"], *(s["reason"] for s in found["steps"])]
    return [r for r in said if r]


def test_the_route_map_reasons_are_english_with_english_names(
    tenant_a: Tenant, legal: Department
) -> None:
    said = " | ".join(reasons(tenant_a, "en"))
    assert "Legal department" in said, said
    assert "“legal”" not in said
    assert '"legal"' not in said
    assert "Юридический" not in said


def test_the_route_map_reasons_are_russian_under_russian(
    tenant_a: Tenant, legal: Department
) -> None:
    said = " | ".join(reasons(tenant_a, "ru"))
    assert "«Юридический отдел»" in said, said
    assert "legal" not in said
    assert "has no head" not in said
    assert "skipped" not in said


@pytest.mark.parametrize(
    ("language", "skipped", "no_head"),
    [
        (
            "en",
            "will be skipped unless the initiator's department is “Legal department”",
            "the department “Legal department” has no head",
        ),
        ("ru", "«Юридический отдел»", "у подразделения «Юридический отдел» нет"),
    ],
)
def test_the_route_options_preview_says_its_reasons_in_the_request_language(
    tenant_a: Tenant, legal: Department, language: str, skipped: str, no_head: str
) -> None:
    publish(
        tenant_a,
        route(
            stage("legal_head", approve("h", {"department_head": "legal"})),
            stage(
                "lawyers",
                approve("l", {"user": tenant_a.colleague.username}),
                when={"field": "initiator.department", "op": "eq", "value": "legal"},
            ),
        ),
        key="by-department",
    )
    document = make_document(tenant_a)
    answer = token_client(tenant_a.initiator).get(
        f"/documents/{document.pk}/routes", headers={"Accept-Language": language}
    )
    assert answer.status_code == 200, answer.json()
    [option] = [o for o in answer.json() if o["key"] == "by-department"]
    said = " | ".join(
        r
        for found in option["preview"]
        for r in [found["reason"], *(s["reason"] for s in found["steps"])]
        if r
    )
    assert skipped in said, said
    assert no_head in said, said
    assert "“legal”" not in said
    assert '"legal"' not in said
