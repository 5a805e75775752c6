"""Route templates and versions: validation with a path for every problem,
publication, who may change them, the routes offered for a document."""

from __future__ import annotations

import pytest

from sogla.orgs.models import User
from tests.conftest import Tenant
from tests.workflow.conftest import (
    approve,
    make_document,
    publish,
    route,
    stage,
    three_stages,
)

pytestmark = pytest.mark.django_db


def test_invalid_route_cannot_be_published_and_every_problem_has_a_path(
    tenant_a: Tenant,
) -> None:
    from sogla.core.errors import ValidationFailed
    from sogla.workflow import services

    template = services.route_template_create(
        actor=tenant_a.admin, doc_type=tenant_a.contract, key="bad", name_ru="Плохой"
    )
    version = services.route_version_save_draft(
        actor=tenant_a.admin,
        template=template,
        definition=route(
            stage("a", approve("x", {"role": "lawer"})),
            stage(
                "b",
                approve("y", {"user": "nobody"}),
                when={"field": "colour", "op": "eq", "value": 1},
            ),
        ),
    )
    with pytest.raises(ValidationFailed) as caught:
        services.route_version_publish(actor=tenant_a.admin, version=version)
    fields = {p.field for p in caught.value.problems}
    assert fields == {
        "stages[0].steps[0].assignee.role",
        "stages[1].steps[0].assignee.user",
        "stages[1].when",
    }
    version.refresh_from_db()
    assert version.status == "draft"


def test_published_version_is_immutable_and_a_new_draft_gets_the_next_number(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    from sogla.workflow import services
    from sogla.workflow.errors import WorkflowError
    from sogla.workflow.models import RouteVersion

    template = publish(tenant_a, three_stages(people))
    published = RouteVersion.objects.get(template=template)
    with pytest.raises(WorkflowError):
        services.route_version_publish(actor=tenant_a.admin, version=published)
    draft = services.route_version_save_draft(
        actor=tenant_a.admin, template=template, definition=three_stages(people)
    )
    assert (published.number, draft.number) == (1, 2)
    assert draft.pk != published.pk


def test_only_an_admin_edits_routes(tenant_a: Tenant) -> None:
    from sogla.core.errors import PermissionDenied
    from sogla.workflow import services

    with pytest.raises(PermissionDenied):
        services.route_template_create(
            actor=tenant_a.initiator,
            doc_type=tenant_a.contract,
            key="mine",
            name_ru="Мой",
        )


def test_routes_for_document_fit_the_values_and_the_first_is_suggested(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    from sogla.workflow.selectors import process_preview, routes_for_document

    big = {"field": "amount", "op": "gt", "value": 1000000}
    full = publish(tenant_a, three_stages(people), key="full", suggest_when=big)
    short = publish(
        tenant_a,
        route(stage("manager", approve("m", {"manager_of": "initiator"}))),
        key="short",
        order=5,
    )
    small_doc = make_document(tenant_a, amount="100.00")
    big_doc = make_document(tenant_a, amount="5000000.00")
    assert routes_for_document(user=tenant_a.initiator, document=small_doc) == [short]
    assert routes_for_document(user=tenant_a.initiator, document=big_doc) == [
        full,
        short,
    ]
    shown = process_preview(user=tenant_a.initiator, document=big_doc, template=full)
    assert [s.key for s in shown.stages] == ["manager", "checks", "ceo"]
    manager = shown.stages[0].steps[0].participants[0]
    assert shown.users[int(manager.id)] == people["head"]
