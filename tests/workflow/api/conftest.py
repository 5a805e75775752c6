"""Workflow API helpers: a published two-stage route and a started process."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sogla.documents.models import Document
from sogla.orgs.models import User
from sogla.workflow.models import Process, RouteTemplate, Task, TaskState
from tests.api.conftest import ApiClient, token_client
from tests.conftest import Tenant
from tests.workflow.conftest import (
    approve,
    make_document,
    person,
    publish,
    route,
    stage,
)

# The department head of the initiator, then the lawyer (by username).
DEFINITION = route(
    stage("manager", approve("head", {"department_head": "initiator"})),
    stage("legal", approve("lawyer", {"user": "alpha-lawyer"})),
    on_return={"restart": "first_stage", "reask": "all"},
)


@dataclass
class Flow:
    tenant: Tenant
    head: User
    lawyer: User
    template: RouteTemplate
    document: Document
    initiator: ApiClient
    head_api: ApiClient
    lawyer_api: ApiClient
    admin_api: ApiClient

    def start(self) -> Process:
        response = self.initiator.post(
            f"/documents/{self.document.pk}/process", {"route": self.template.key}
        )
        assert response.status_code == 201, response.json()
        return Process.objects.get(pk=response.json()["id"])

    def open_task(self, user: User) -> Task:
        return Task.objects.get(assignee=user, state=TaskState.OPEN)


@pytest.fixture
def flow(tenant_a: Tenant, tenant_b: Tenant) -> Flow:
    head = User.objects.get(username="alpha-head")
    lawyer = person(tenant_a, "lawyer", first_name="Lev", last_name="Yurist")
    template = publish(tenant_a, DEFINITION, key="contract-route")
    return Flow(
        tenant=tenant_a,
        head=head,
        lawyer=lawyer,
        template=template,
        document=make_document(tenant_a),
        initiator=token_client(tenant_a.initiator),
        head_api=token_client(head),
        lawyer_api=token_client(lawyer),
        admin_api=token_client(tenant_a.admin),
    )
