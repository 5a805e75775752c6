"""task_decide: evidence, idempotency, refusals that change nothing, delegation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sogla.core.errors import NotFound, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.documents.models import FieldKind
from sogla.orgs.models import Delegation, User
from sogla.workflow.errors import TaskClosed, WorkflowError
from sogla.workflow.models import Process, StepRun, Task, TaskState
from tests.conftest import Tenant
from tests.factories import add_field
from tests.workflow.conftest import (
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


def snapshot(process: Process) -> tuple[Any, ...]:
    """Everything a refused command must leave as it was (its refusal is audited
    on its own, as ``task.decision_refused``)."""
    return (
        Process.objects.filter(pk=process.pk).values_list("version", "status").get(),
        list(Task.objects.filter(process=process).order_by("id").values()),
        AuditEvent.objects.filter(organisation_id=process.organisation_id)
        .exclude(verb="task.decision_refused")
        .count(),
    )


@pytest.fixture
def running(tenant_a: Tenant, people: dict[str, User]) -> Process:
    template = publish(
        tenant_a,
        route(
            stage(
                "checks",
                approve("lawyer", {"user": people["lawyer"].username}),
                approve("cfo", {"user": people["cfo"].username}),
            ),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
        ),
    )
    return start(tenant_a, template, make_document(tenant_a))


def test_decision_records_evidence_and_audit(
    running: Process, people: dict[str, User]
) -> None:
    task = decide(
        people["lawyer"],
        open_task(running, people["lawyer"]),
        "approve_with_remarks",
        comment="Fix clause 4",
        channel="api",
    )
    assert (task.state, task.outcome, task.comment) == (
        "done",
        "approve_with_remarks",
        "Fix clause 4",
    )
    assert task.decided_by == people["lawyer"]
    assert task.channel == "api"
    assert len(task.files_sha256) == 64
    event = AuditEvent.objects.filter(verb="task.decided").get()
    assert event.actor == people["lawyer"]
    assert event.ip == "203.0.113.7"
    assert event.user_agent == "pytest-browser/1.0"
    assert event.payload["outcome"] == "approve_with_remarks"
    assert event.payload["comment"] == "Fix clause 4"
    assert event.payload["files_sha256"] == task.files_sha256
    assert event.payload["task"] == task.pk
    assert event.payload["channel"] == "api"


def test_repeat_with_the_same_request_id_is_harmless(
    running: Process, people: dict[str, User]
) -> None:
    task = open_task(running, people["lawyer"])
    first = decide(people["lawyer"], task, request_id="click-1")
    before = snapshot(running)
    again = decide(people["lawyer"], task, request_id="click-1")
    assert again.pk == first.pk
    assert (again.state, again.outcome, again.decided_at) == (
        first.state,
        first.outcome,
        first.decided_at,
    )
    assert snapshot(running) == before
    with pytest.raises(TaskClosed):
        decide(people["lawyer"], task, "reject", comment="changed my mind")
    assert snapshot(running) == before


def test_closed_task_names_who_decided(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    from sogla.orgs.models import Role

    role = Role.objects.create(
        organisation=tenant_a.org, key="lawyer", name_ru="Юрист", name_en="Lawyer"
    )
    role.members.add(people["lawyer"], people["cfo"])
    template = publish(
        tenant_a,
        route(
            stage("legal", approve("l", {"role": "lawyer"})),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
        ),
    )
    process = start(tenant_a, template, make_document(tenant_a))
    other = open_task(process, people["cfo"])
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    with pytest.raises(TaskClosed) as caught:
        decide(people["cfo"], other)
    assert str(caught.value.message).startswith("Task already closed")
    assert people["lawyer"].short_name in str(caught.value.message)


def test_refusals_name_the_field_and_change_nothing(
    running: Process, people: dict[str, User]
) -> None:
    task = open_task(running, people["lawyer"])
    before = snapshot(running)
    cases = [
        ({"outcome": "opinion"}, "outcome"),
        ({"outcome": "reject"}, "comment"),
        ({"outcome": "return", "comment": "  "}, "comment"),
        ({"outcome": "approve", "fields": {"subject": "x"}}, "subject"),
    ]
    for kwargs, field in cases:
        outcome = kwargs.pop("outcome")
        with pytest.raises(ValidationFailed) as caught:
            decide(people["lawyer"], task, outcome, **kwargs)
        assert [p.field for p in caught.value.problems] == [field]
        assert snapshot(running) == before


def test_other_peoples_and_other_tenants_tasks_are_not_found(
    running: Process, people: dict[str, User], tenant_b: Tenant
) -> None:
    task = open_task(running, people["lawyer"])
    before = snapshot(running)
    for stranger in (people["cfo"], tenant_b.admin, tenant_b.initiator):
        with pytest.raises(NotFound):
            decide(stranger, task)
    with pytest.raises(NotFound):
        decide(people["lawyer"], 10**12)
    assert snapshot(running) == before


def test_late_decision_after_the_process_finished_is_refused(
    tenant_a: Tenant, running: Process, people: dict[str, User]
) -> None:
    lawyer_task = open_task(running, people["lawyer"])
    decide(people["cfo"], open_task(running, people["cfo"]), "reject", comment="No")
    running.refresh_from_db()
    assert running.status == "rejected"
    before = snapshot(running)
    with pytest.raises(TaskClosed) as caught:
        decide(people["lawyer"], lawyer_task)
    assert "rejected" in str(caught.value.message)
    assert snapshot(running) == before


def test_request_info_answers_are_validated_written_and_steer_the_route(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    add_field(tenant_a.contract, "needs_ceo", FieldKind.BOOL)
    template = publish(
        tenant_a,
        route(
            stage(
                "ask",
                {
                    "key": "q",
                    "kind": "request_info",
                    "assignee": {"user": people["lawyer"].username},
                    "fields": ["needs_ceo", "end_date"],
                    "required_fields": ["needs_ceo"],
                },
            ),
            stage(
                "ceo",
                approve("ceo", {"user": people["ceo"].username}),
                when={"field": "needs_ceo", "op": "eq", "value": True},
            ),
        ),
    )
    process = start(tenant_a, template, make_document(tenant_a))
    task = open_task(process, people["lawyer"])
    with pytest.raises(ValidationFailed) as missing:
        decide(people["lawyer"], task, "done", fields={"end_date": "2030-01-31"})
    assert [p.field for p in missing.value.problems] == ["needs_ceo"]
    with pytest.raises(ValidationFailed) as bad:
        decide(
            people["lawyer"],
            task,
            "done",
            fields={"needs_ceo": True, "end_date": "soon"},
        )
    assert [p.field for p in bad.value.problems] == ["end_date"]
    decide(
        people["lawyer"],
        task,
        "done",
        fields={"needs_ceo": False, "end_date": "2030-01-31"},
    )
    process.refresh_from_db()
    assert process.status == "approved"
    process.document.refresh_from_db()
    assert process.document.fields["needs_ceo"] is False
    assert process.document.fields["end_date"] == "2030-01-31"


def test_delegation_gives_the_task_to_the_stand_in(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    today = timezone.localdate()
    Delegation.objects.create(
        organisation=tenant_a.org,
        from_user=people["lawyer"],
        to_user=tenant_a.colleague,
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=5),
    )
    template = publish(
        tenant_a,
        route(stage("legal", approve("l", {"user": people["lawyer"].username}))),
    )
    process = start(tenant_a, template, make_document(tenant_a))
    task = Task.objects.get(process=process, state=TaskState.OPEN)
    assert (task.assignee, task.on_behalf_of) == (tenant_a.colleague, people["lawyer"])
    decided = decide(tenant_a.colleague, task)
    assert decided.decided_by == tenant_a.colleague
    event = AuditEvent.objects.get(verb="task.decided")
    assert event.payload["on_behalf_of"] == str(people["lawyer"].pk)


def test_unresolved_assignee_is_reported_not_skipped_and_can_be_resolved(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    from sogla.notifications.models import Notification
    from sogla.orgs.models import Role
    from sogla.workflow import services

    Role.objects.create(
        organisation=tenant_a.org, key="auditor", name_ru="Аудитор", name_en="Auditor"
    )
    owner = people["cfo"]
    template = publish(
        tenant_a,
        route(
            stage("audit", approve("a", {"role": "auditor"})),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
        ),
        owner=owner,
    )
    process = start(tenant_a, template, make_document(tenant_a))
    run = StepRun.objects.get(process=process, step_key="a")
    assert run.state == "failed"
    assert "auditor" in run.reason
    process.refresh_from_db()
    assert (process.status, process.stage_index) == ("running", 0)
    assert AuditEvent.objects.filter(verb="process.step_unresolved").count() == 1
    assert Notification.objects.filter(
        kind="workflow.step_unresolved", recipient_user=owner
    ).exists()
    with pytest.raises(NotFound):
        services.step_resolve(
            actor=tenant_a.colleague,
            process=process,
            stage="audit",
            step="a",
            users=[people["lawyer"]],
        )
    services.step_resolve(
        actor=owner, process=process, stage="audit", step="a", users=[people["lawyer"]]
    )
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    assert open_task(process, people["ceo"])


def test_reassign_by_the_route_owner(tenant_a: Tenant, people: dict[str, User]) -> None:
    from sogla.workflow import services

    template = publish(
        tenant_a,
        route(stage("legal", approve("l", {"user": people["lawyer"].username}))),
        owner=people["cfo"],
    )
    process = start(tenant_a, template, make_document(tenant_a))
    task = open_task(process, people["lawyer"])
    with pytest.raises(NotFound):
        services.task_reassign(
            actor=tenant_a.colleague, task_id=task.pk, to_user=people["ceo"]
        )
    new = services.task_reassign(
        actor=people["cfo"], task_id=task.pk, to_user=people["ceo"]
    )
    assert new.assignee == people["ceo"]
    task.refresh_from_db()
    assert (task.state, task.closed_reason) == ("cancelled", "reassigned")
    with pytest.raises(TaskClosed):
        decide(people["lawyer"], task)
    decide(people["ceo"], new)
    process.refresh_from_db()
    assert process.status == "approved"


def test_cancel_needs_a_reason_and_the_initiator_or_an_admin(
    tenant_a: Tenant, running: Process, people: dict[str, User]
) -> None:
    from sogla.core.errors import PermissionDenied
    from sogla.workflow import services

    with pytest.raises(ValidationFailed) as caught:
        services.process_cancel(actor=tenant_a.initiator, process=running, reason=" ")
    assert caught.value.problems[0].field == "reason"
    with pytest.raises(PermissionDenied):
        services.process_cancel(actor=people["lawyer"], process=running, reason="x")
    services.process_cancel(actor=tenant_a.admin, process=running, reason="Wrong type")
    running.refresh_from_db()
    assert running.status == "cancelled"
    assert not Task.objects.filter(process=running, state="open").exists()
    running.document.refresh_from_db()
    assert running.document.status.meaning == "draft"
    with pytest.raises(WorkflowError):
        services.process_cancel(actor=tenant_a.admin, process=running, reason="again")
