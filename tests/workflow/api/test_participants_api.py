"""``POST /processes/{id}/participants``: change a step's people mid-round."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification
from sogla.workflow.models import Task, TaskState
from tests.api.conftest import token_client
from tests.conftest import Tenant
from tests.workflow.api.conftest import Flow

pytestmark = pytest.mark.django_db


def codes(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_add_remove_and_move_a_deadline_through_the_api(flow: Flow) -> None:
    process = flow.start()
    path = f"/processes/{process.pk}/participants"
    colleague = flow.tenant.colleague
    added = flow.admin_api.post(
        path, {"stage": "manager", "step": "head", "add": [colleague.pk]}
    )
    assert added.status_code == 200, added.json()
    body = added.json()
    step = body["stages"][0]["steps"][0]
    assert {t["assignee"]["id"] for t in step["tasks"]} == {flow.head.pk, colleague.pk}
    task = Task.objects.get(assignee=colleague, state=TaskState.OPEN)
    due = (timezone.now() + timedelta(days=9)).replace(microsecond=0)
    moved = flow.admin_api.post(
        path,
        {"stage": "manager", "step": "head", "due_at": due.isoformat(),
         "due_for": [colleague.pk]},
    )  # fmt: skip
    assert moved.status_code == 200, moved.json()
    task.refresh_from_db()
    assert task.due_at == due
    removed = flow.admin_api.post(
        path, {"stage": "manager", "step": "head", "remove": [colleague.pk]}
    )
    assert removed.status_code == 200, removed.json()
    task.refresh_from_db()
    assert task.closed_reason == "removed"
    assert Notification.objects.filter(
        kind="workflow.task_removed", recipient_user=colleague
    ).exists()
    assert AuditEvent.objects.filter(verb="process.participants_changed").count() == 3


def test_refusals_name_the_field_or_the_reason(flow: Flow, tenant_b: Tenant) -> None:
    process = flow.start()
    path = f"/processes/{process.pk}/participants"
    stranger = flow.admin_api.post(
        path, {"stage": "manager", "step": "head", "add": [tenant_b.initiator.pk]}
    )
    assert codes(stranger) == [("add", "invalid")]
    nothing = flow.admin_api.post(path, {"stage": "manager", "step": "head"})
    assert codes(nothing) == [("add", "required")]
    last = flow.admin_api.post(
        path, {"stage": "manager", "step": "head", "remove": [flow.head.pk]}
    )
    assert last.status_code == 409
    assert last.json()["errors"][0]["code"] == "quorum_unreachable"
    unknown = flow.admin_api.post(
        path, {"stage": "manager", "step": "nope", "add": [flow.lawyer.pk]}
    )
    assert unknown.status_code == 409
    assert unknown.json()["errors"][0]["code"] == "step_not_found"


def test_who_may_change_and_tenant_isolation(flow: Flow, tenant_b: Tenant) -> None:
    process = flow.start()
    path = f"/processes/{process.pk}/participants"
    change = {"stage": "legal", "step": "lawyer", "add": [flow.tenant.colleague.pk]}
    # the initiator sees the document, but the route does not let them: 403
    assert flow.initiator.post(path, change).status_code == 403
    # another organisation's administrator: 404, and nothing changed
    assert token_client(tenant_b.admin).post(path, change).status_code == 404
    assert flow.admin_api.post(path, change).status_code == 200
    assert Task.objects.filter(process=process).count() == 1  # later stage: kept
    assert process.__class__.objects.get(pk=process.pk).overrides["legal.lawyer"][
        "add"
    ] == [{"kind": "user", "id": str(flow.tenant.colleague.pk)}]
