"""A route's ``file_to``: the placeholders of the path and the counterparty's
folder, created once and remembered."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.core.models import AuditEvent
from sogla.documents.models import Counterparty, FieldKind, Folder
from sogla.documents.services import document_create
from sogla.orgs.models import User
from sogla.workflow import services
from tests.conftest import Tenant
from tests.factories import (
    CounterpartyFactory,
    DepartmentFactory,
    add_field,
)
from tests.workflow.conftest import (
    approve,
    begin,
    decide,
    open_task,
    person,
    publish,
    route,
    stage,
)

pytestmark = pytest.mark.django_db


def filing_route(path: str) -> dict[str, Any]:
    return route(
        stage("ok", approve("ok", {"user": "alpha-head"})),
        on_finish=[{"file_to": path}],
    )


def test_file_to_renders_department_counterparty_and_a_persons_department(
    tenant_a: Tenant,
) -> None:
    add_field(tenant_a.contract, "responsible", FieldKind.USER)
    legal = DepartmentFactory(organisation=tenant_a.org, name="Legal", code="legal")
    responsible = person(tenant_a, "resp", department=legal)
    party = CounterpartyFactory(organisation=tenant_a.org, name="Romashka")
    process = begin(
        tenant_a,
        filing_route(
            "{department}/{responsible.department}/{counterparty}/{subject} {number}"
        ),
        counterparty=party.pk,
        responsible=responsible.pk,
    )
    head = User.objects.get(username="alpha-head")
    decide(head, open_task(process, head))
    document = process.document
    document.refresh_from_db()
    assert document.folder is not None
    assert document.folder.path == (f"Sales/Legal/Romashka/Supply {document.number}")
    party.refresh_from_db()
    assert party.folder is not None
    assert party.folder.path == "Sales/Legal/Romashka"
    filed = AuditEvent.objects.get(verb="process.filed")
    assert filed.payload["counterparty_folder"] == "Sales/Legal/Romashka"


def test_the_counterparty_folder_is_created_once_and_remembered(
    tenant_a: Tenant,
) -> None:
    party = CounterpartyFactory(organisation=tenant_a.org, name="Romashka")
    template = publish(
        tenant_a, filing_route("{department}/Counterparties/{counterparty}")
    )
    head = User.objects.get(username="alpha-head")

    def approve_one() -> Any:
        document = document_create(
            actor=tenant_a.initiator,
            doc_type=tenant_a.contract,
            values={"subject": "S", "amount": "1", "counterparty": party.pk},
        )
        process = services.process_start(
            actor=tenant_a.initiator, document=document, template=template
        )
        decide(head, open_task(process, head))
        document.refresh_from_db()
        return document

    first = approve_one()
    party.refresh_from_db()
    remembered = party.folder
    assert remembered is not None
    assert first.folder_id == remembered.pk
    assert remembered.path == "Sales/Counterparties/Romashka"
    # Renamed later: its documents still go into the remembered folder.
    Counterparty.objects.filter(pk=party.pk).update(name="Romashka Plus")
    second = approve_one()
    assert second.folder_id == remembered.pk
    assert Folder.objects.filter(organisation=tenant_a.org).count() == 3
    party.refresh_from_db()
    assert party.folder_id == remembered.pk
