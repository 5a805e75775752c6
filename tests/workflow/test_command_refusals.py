"""Refused process commands leave evidence, as refused decisions do (T23): who tried
what, when, from where, and why it was refused; nothing else changes."""

from __future__ import annotations

import pytest

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.orgs.models import User
from sogla.workflow import services
from sogla.workflow.models import Process
from tests.conftest import Tenant, make_tenant
from tests.workflow.conftest import (
    META,
    approve,
    decide,
    make_document,
    open_task,
    publish,
    route,
    stage,
    start,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned(tenant_a: Tenant, people: dict[str, User]) -> Process:
    template = publish(
        tenant_a,
        route(stage("legal", approve("l", {"user": people["lawyer"].username}))),
        owner=tenant_a.admin,
    )
    process = start(tenant_a, template, make_document(tenant_a))
    decide(
        people["lawyer"], open_task(process, people["lawyer"]), "return", comment="x"
    )
    process.refresh_from_db()
    return process


def refusals() -> list[dict]:
    return [
        {**e.payload, "actor": e.actor_id, "ip": e.ip}
        for e in AuditEvent.objects.filter(verb="process.command_refused").order_by(
            "id"
        )
    ]


def test_resubmit_and_cancel_refusals_are_recorded(
    tenant_a: Tenant, returned: Process
) -> None:
    with pytest.raises(PermissionDenied):
        services.process_resubmit(actor=tenant_a.colleague, process=returned, meta=META)
    with pytest.raises(ValidationFailed):
        services.process_cancel(
            actor=tenant_a.initiator, process=returned, reason=" ", meta=META
        )
    first, second = refusals()
    assert (first["command"], first["code"], first["actor"]) == (
        "resubmit",
        "forbidden",
        tenant_a.colleague.pk,
    )
    assert first["ip"] == META.ip
    assert (second["command"], second["fields"]) == ("cancel", ["reason"])
    returned.refresh_from_db()
    assert (returned.status, returned.round) == ("revision", 1)


def test_reassign_refusal_is_recorded_and_another_tenant_leaves_no_trace(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    template = publish(
        tenant_a,
        route(stage("legal", approve("l", {"user": people["lawyer"].username}))),
        owner=tenant_a.admin,
    )
    process = start(tenant_a, template, make_document(tenant_a))
    task = open_task(process, people["lawyer"])
    people["ceo"].is_active = False
    people["ceo"].save()
    with pytest.raises(ValidationFailed):
        services.task_reassign(
            actor=tenant_a.admin, task_id=task.pk, to_user=people["ceo"], meta=META
        )
    (refused,) = refusals()
    assert (refused["command"], refused["fields"]) == ("reassign", ["to_user"])

    tenant_b = make_tenant("Beta")
    with pytest.raises(NotFound):
        services.process_cancel(
            actor=tenant_b.admin, process=process.pk, reason="mine", meta=META
        )
    assert len(refusals()) == 1
