"""Helpers for workflow tests: publish a route, make a document, act as people, and
the processes several test modules start from."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from sogla.core.request_meta import RequestMeta
from sogla.documents.models import Document
from sogla.documents.services import document_create
from sogla.orgs.models import User
from sogla.workflow import services
from sogla.workflow.models import (
    Process,
    RouteTemplate,
    Task,
    TaskState,
)
from tests.conftest import Tenant
from tests.factories import UserFactory

META = RequestMeta(ip="203.0.113.7", user_agent="pytest-browser/1.0")


def approve(key: str, assignee: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {"key": key, "kind": "approve", "assignee": dict(assignee), **extra}


def stage(key: str, *steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"key": key, "steps": list(steps), **extra}


def route(*stages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"key": "r", "stages": list(stages), **extra}


def publish(
    tenant: Tenant,
    definition: Mapping[str, Any],
    *,
    key: str = "contract-route",
    owner: User | None = None,
    suggest_when: Mapping[str, Any] | None = None,
    order: int = 0,
) -> RouteTemplate:
    template = services.route_template_create(
        actor=tenant.admin,
        doc_type=tenant.contract,
        key=key,
        name_ru="Маршрут",
        name_en="Route",
        owner=owner,
        suggest_when=suggest_when,
        order=order,
    )
    version = services.route_version_save_draft(
        actor=tenant.admin, template=template, definition=definition
    )
    services.route_version_publish(actor=tenant.admin, version=version)
    return template


def make_document(tenant: Tenant, **values: Any) -> Document:
    data = {"subject": "Supply", "amount": "1000.00", **values}
    return document_create(
        actor=tenant.initiator, doc_type=tenant.contract, values=data
    )


def start(tenant: Tenant, template: RouteTemplate, document: Document) -> Process:
    return services.process_start(
        actor=tenant.initiator, document=document, template=template, meta=META
    )


def open_task(process: Process, user: User) -> Task:
    return Task.objects.get(process=process, assignee=user, state=TaskState.OPEN)


def decide(
    user: User, task: Task | int, outcome: str = "approve", **kwargs: Any
) -> Task:
    kwargs.setdefault("request_id", uuid.uuid4().hex)
    kwargs.setdefault("meta", META)
    return services.task_decide(
        actor=user,
        task_id=task if isinstance(task, int) else task.pk,
        outcome=outcome,
        **kwargs,
    )


def person(tenant: Tenant, username: str, **extra: Any) -> User:
    user: User = UserFactory(
        organisation=tenant.org, username=f"{tenant.org.slug}-{username}", **extra
    )
    return user


@pytest.fixture
def people(tenant_a: Tenant) -> dict[str, User]:
    return {
        "head": User.objects.get(username="alpha-head"),
        "lawyer": person(tenant_a, "lawyer"),
        "cfo": person(tenant_a, "cfo"),
        "ceo": person(tenant_a, "ceo"),
    }


def checks(people: dict[str, User]) -> dict[str, Any]:
    """A stage where the lawyer and the CFO approve side by side."""
    return stage(
        "checks",
        approve("lawyer", {"user": people["lawyer"].username}),
        approve("cfo", {"user": people["cfo"].username}),
    )


def three_stages(people: dict[str, User]) -> dict[str, Any]:
    return route(
        stage("manager", approve("m", {"manager_of": "initiator"})),
        checks(people),
        stage("ceo", approve("ceo", {"user": people["ceo"].username})),
    )


def lawyer_alone(
    tenant: Tenant, people: dict[str, User], *, owner: User | None = None
) -> Process:
    """Started: one stage, one step, the lawyer's."""
    template = publish(
        tenant,
        route(stage("legal", approve("l", {"user": people["lawyer"].username}))),
        owner=owner,
    )
    return start(tenant, template, make_document(tenant))


@pytest.fixture
def running(tenant_a: Tenant, people: dict[str, User]) -> Process:
    """Just started: the lawyer and the CFO, then the CEO."""
    template = publish(
        tenant_a,
        route(
            checks(people),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
        ),
    )
    return start(tenant_a, template, make_document(tenant_a))


def begin(tenant: Tenant, definition: dict[str, Any], **values: Any) -> Process:
    """Publish ``definition`` and start it on a new contract with ``values``."""
    template = publish(tenant, definition)
    document = document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": "Supply", "amount": "1000.00", **values},
    )
    return services.process_start(
        actor=tenant.initiator, document=document, template=template, meta=META
    )


@pytest.fixture
def returned(tenant_a: Tenant, people: dict[str, User]) -> Process:
    """A one-step approval the lawyer returned for revision (owner: the admin)."""
    process = lawyer_alone(tenant_a, people, owner=tenant_a.admin)
    decide(
        people["lawyer"], open_task(process, people["lawyer"]), "return", comment="x"
    )
    process.refresh_from_db()
    return process


@pytest.fixture
def half_decided(tenant_a: Tenant, people: dict[str, User]) -> Process:
    """The lawyer and the CFO in one stage; the CFO has decided, the lawyer not."""
    template = publish(tenant_a, route(checks(people)))
    process = start(tenant_a, template, make_document(tenant_a))
    decide(people["cfo"], open_task(process, people["cfo"]))
    return process
