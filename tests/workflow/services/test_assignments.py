"""Who works on a step: reassigning a task, resolving a step nobody could be
assigned to."""

from __future__ import annotations

import pytest

from sogla.core.errors import NotFound
from sogla.core.models import AuditEvent
from sogla.orgs.models import User
from sogla.workflow.errors import TaskClosed
from sogla.workflow.models import StepRun
from tests.conftest import Tenant
from tests.workflow.conftest import (
    approve,
    decide,
    lawyer_alone,
    make_document,
    open_task,
    publish,
    route,
    stage,
    start,
)

pytestmark = pytest.mark.django_db


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
    assert open_task(process, people["ceo"]) is not None


def test_reassign_by_the_route_owner(tenant_a: Tenant, people: dict[str, User]) -> None:
    from sogla.workflow import services

    process = lawyer_alone(tenant_a, people, owner=people["cfo"])
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
