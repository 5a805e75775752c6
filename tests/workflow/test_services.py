"""Happy paths of the workflow services, through the same calls the UI and API use."""

from __future__ import annotations

import pytest

from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification
from sogla.orgs.models import User
from sogla.workflow.models import Process, StageRun, Task, TaskState, Timer
from tests.conftest import Tenant
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


def three_stages(people: dict[str, User]) -> dict:
    return route(
        stage("manager", approve("m", {"manager_of": "initiator"})),
        stage(
            "checks",
            approve("lawyer", {"user": people["lawyer"].username}),
            approve("cfo", {"user": people["cfo"].username}),
        ),
        stage("ceo", approve("ceo", {"user": people["ceo"].username})),
    )


def test_route_runs_to_approved(tenant_a: Tenant, people: dict[str, User]) -> None:
    template = publish(tenant_a, three_stages(people))
    document = make_document(tenant_a)
    process = start(tenant_a, template, document)
    document.refresh_from_db()
    assert document.status.key == "on_approval"
    assert process.status == "running"

    decide(people["head"], open_task(process, people["head"]))
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    decide(
        people["cfo"],
        open_task(process, people["cfo"]),
        "approve_with_remarks",
        comment="ok",
    )
    task = decide(people["ceo"], open_task(process, people["ceo"]))

    process.refresh_from_db()
    document.refresh_from_db()
    assert process.status == "approved"
    assert process.finished_at is not None
    assert document.status.key == "approved"
    assert task.state == TaskState.DONE
    assert task.files_sha256
    assert task.channel == "web"
    assert task.ip == "203.0.113.7"
    assert task.user_agent == "pytest-browser/1.0"
    assert not Task.objects.filter(process=process, state=TaskState.OPEN).exists()
    assert StageRun.objects.filter(process=process, state="done").count() == 3
    assert process.version == 5
    verbs = list(
        AuditEvent.objects.filter(document_id=document.pk).values_list(
            "verb", flat=True
        )
    )
    assert verbs.count("task.decided") == 4
    verbs = [v for v in verbs if v.startswith(("process.", "task."))]
    assert verbs[0] == "process.started"
    assert verbs[-1] == "process.finished"
    assert Notification.objects.filter(kind="workflow.approved").count() == 1
    assert not Timer.objects.filter(process=process, state="pending").exists()
    assert Process.objects.get(pk=process.pk).version == 5
