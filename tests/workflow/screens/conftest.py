"""The approval screens: a published three-stage route, people and signed-in clients."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from sogla.documents.models import Document
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import User, WorkingCalendar
from sogla.workflow.models import RouteTemplate
from sogla.workflow.services import calendar_cache_clear
from tests.conftest import MINIMAL_PDF, Tenant
from tests.workflow.conftest import approve, person, publish, route, stage


def signed_in(user: User, language: str = "en") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Flow:
    tenant: Tenant
    head: User
    lawyer: User
    ceo: User
    template: RouteTemplate


def contract_route(**extra: object) -> dict[str, object]:
    return route(
        stage(
            "manager",
            approve("manager", {"manager_of": "initiator"}, due={"working_days": 2}),
            name={"ru": "Руководитель", "en": "Manager"},
        ),
        stage(
            "lawyer",
            approve("lawyer", {"user": "alpha-lawyer"}, due={"working_days": 3}),
            name={"ru": "Юрист", "en": "Lawyer"},
        ),
        stage(
            "director",
            approve("ceo", {"user": "alpha-ceo"}),
            name={"ru": "Директор", "en": "Director"},
        ),
        on_return={
            "restart": "first_stage",
            "reask": "all",
            "initiator_may_edit": True,
        },
        **extra,
    )


@pytest.fixture
def flow(tenant_a: Tenant) -> Flow:
    # A saved calendar row: an unsaved default has string times (see the report).
    WorkingCalendar.objects.get_or_create(organisation=tenant_a.org)
    calendar_cache_clear()
    head = User.objects.get(username="alpha-head")
    tenant_a.initiator.manager = head
    tenant_a.initiator.save()
    lawyer = person(tenant_a, "lawyer", first_name="Pavel", last_name="Petrov")
    ceo = person(tenant_a, "ceo", first_name="Olga", last_name="Sidorova")
    template = publish(tenant_a, contract_route(), owner=tenant_a.admin)
    return Flow(tenant_a, head, lawyer, ceo, template)


def draft(tenant: Tenant, subject: str = "Equipment supply") -> Document:
    return document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": subject, "amount": "1250000"},
        files=[
            NewFile(
                bytes_upload("contract_file", "contract.pdf", MINIMAL_PDF),
                "contract_file",
            )
        ],
    )
