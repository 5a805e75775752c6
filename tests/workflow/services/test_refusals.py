"""Refused decisions and process commands leave evidence (T23): who tried what,
when, from where, and why it was refused; nothing else changes."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.orgs.models import User
from sogla.workflow import services
from sogla.workflow.errors import TaskClosed, WorkflowError
from sogla.workflow.models import Process, Task
from tests.conftest import Tenant, make_tenant
from tests.workflow.conftest import (
    META,
    approve,
    begin,
    decide,
    lawyer_alone,
    open_task,
    route,
    stage,
)

pytestmark = pytest.mark.django_db


def test_a_refused_decision_leaves_one_audit_event_and_nothing_else(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    process = begin(tenant_a, route(stage("ok", approve("ok", {"user": "alpha-head"}))))
    head = User.objects.get(username="alpha-head")
    task = open_task(process, head)
    tasks_before = list(Task.objects.filter(process=process).values())
    version_before = Process.objects.get(pk=process.pk).version
    with pytest.raises(ValidationFailed):
        decide(head, task, "reject")  # no comment
    event = AuditEvent.objects.get(verb="task.decision_refused")
    assert event.actor_id == head.pk
    assert event.target_id == str(task.pk)
    assert event.document_id is None  # not on the card's history
    assert event.payload["document"] == process.document_id
    assert (event.ip, event.user_agent) == (META.ip, META.user_agent)
    assert event.payload["code"] == "invalid"
    assert event.payload["fields"] == ["comment"]
    assert event.payload["task"] == task.pk
    assert list(Task.objects.filter(process=process).values()) == tasks_before
    assert Process.objects.get(pk=process.pk).version == version_before
    # Someone else's task, another organisation, an unknown id: no trace.
    for stranger, task_id in [
        (tenant_a.colleague, task.pk),
        (tenant_b.admin, task.pk),
        (head, 10**9),
    ]:
        with pytest.raises(NotFound):
            decide(stranger, task_id, "approve")
    assert AuditEvent.objects.filter(verb="task.decision_refused").count() == 1
    decide(head, task)
    with pytest.raises(TaskClosed):
        decide(head, task, "reject", comment="late")
    late = AuditEvent.objects.filter(verb="task.decision_refused").order_by("seq")
    assert [e.payload["code"] for e in late] == ["invalid", "task_closed"]


def refusals() -> list[dict[str, Any]]:
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
    process = lawyer_alone(tenant_a, people, owner=tenant_a.admin)
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


def test_a_refused_resolve_is_recorded_as_the_other_commands_are(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = lawyer_alone(tenant_a, people, owner=tenant_a.admin)
    with pytest.raises(WorkflowError) as refused:
        services.step_resolve(  # the step started: nothing to resolve
            actor=tenant_a.admin,
            process=process,
            stage="legal",
            step="l",
            users=[people["cfo"]],
            meta=META,
        )
    (recorded,) = refusals()
    assert (recorded["command"], recorded["code"], recorded["actor"]) == (
        "resolve",
        refused.value.code,
        tenant_a.admin.pk,
    )
    assert recorded["code"] == "step_not_failed"
    assert recorded["ip"] == META.ip
    assert open_task(process, people["lawyer"]) is not None
