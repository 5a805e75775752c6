"""Several inbox tasks at once: acknowledgements, and approvals where the route says
``bulk_allowed``; each confirmed on the version shown, each its own command."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sogla.core.models import AuditEvent
from sogla.orgs.models import User
from sogla.workflow.models import Process, Task, TaskState
from tests.conftest import Tenant, make_tenant
from tests.workflow.conftest import approve, person, publish, route, stage, start
from tests.workflow.screens.conftest import draft, signed_in

pytestmark = pytest.mark.django_db


def _started(
    tenant: Tenant, key: str, definition: dict[str, Any], n: int
) -> list[Process]:
    template = publish(tenant, definition, key=key)
    return [start(tenant, template, draft(tenant, f"{key} {i}")) for i in range(n)]


@pytest.fixture
def reader(tenant_a: Tenant) -> User:
    return person(tenant_a, "reader")


def _open(process: Process, user: User) -> Task:
    return Task.objects.get(process=process, assignee=user, state=TaskState.OPEN)


def _ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="task" value="(\d+)"', html)}


def test_only_acknowledgements_and_allowed_approvals_get_a_checkbox(
    tenant_a: Tenant, reader: User
) -> None:
    ack = {"key": "a", "kind": "acknowledge", "assignee": {"user": reader.username}}
    acks = _started(tenant_a, "ack", route(stage("s", ack)), 2)
    allowed = _started(
        tenant_a,
        "bulk",
        route(stage("s", approve("a", {"user": reader.username})), bulk_allowed=True),
        1,
    )
    plain = _started(
        tenant_a, "plain", route(stage("s", approve("a", {"user": reader.username}))), 1
    )
    html = signed_in(reader).get("/inbox/").content.decode()
    assert _ids(html) == {_open(p, reader).pk for p in [*acks, *allowed]}
    assert _open(plain[0], reader).pk not in _ids(html)
    assert "Approve selected" in html


def test_confirm_lists_versions_then_decides_each_once(
    tenant_a: Tenant, reader: User
) -> None:
    ack = {"key": "a", "kind": "acknowledge", "assignee": {"user": reader.username}}
    processes = _started(tenant_a, "ack", route(stage("s", ack)), 3)
    tasks = [_open(p, reader).pk for p in processes]
    client = signed_in(reader)

    confirm = client.post("/inbox/bulk/", {"outcome": "acknowledge", "task": tasks})
    page = confirm.content.decode()
    assert confirm.status_code == 200
    for process in processes:
        assert process.document.number in page
    assert page.count("contract.pdf") == 3
    assert "v1" in page
    assert Task.objects.filter(pk__in=tasks, state=TaskState.OPEN).count() == 3

    form = {
        "outcome": "acknowledge",
        "confirm": "1",
        "request_id": re.search(r'name="request_id" value="(\w+)"', page).group(1),  # type: ignore[union-attr]
        "task": tasks,
        **{
            f"sha-{pk}": re.search(rf'name="sha-{pk}" value="(\w+)"', page).group(1)  # type: ignore[union-attr]
            for pk in tasks
        },
    }
    # Between the confirmation and the click the first document's files changed
    # (a task step may add files while the approval runs): its hash differs.
    form[f"sha-{tasks[0]}"] = "0" * 64
    done = client.post("/inbox/bulk/", form)
    assert done.status_code == 200
    text = done.content.decode()
    assert "The files changed since you confirmed" in text
    assert Task.objects.get(pk=tasks[0]).state == TaskState.OPEN
    assert Task.objects.filter(pk__in=tasks[1:], outcome="acknowledge").count() == 2
    assert AuditEvent.objects.filter(verb="task.decided").count() == 2
    # The same confirmed form again (a double click) decides nothing twice.
    client.post("/inbox/bulk/", form)
    assert AuditEvent.objects.filter(verb="task.decided").count() == 2


def test_refusals_name_the_field_and_leave_everything(
    tenant_a: Tenant, reader: User
) -> None:
    plain = _started(
        tenant_a, "plain", route(stage("s", approve("a", {"user": reader.username}))), 1
    )
    client = signed_in(reader)
    task = _open(plain[0], reader).pk
    page = client.post("/inbox/bulk/", {"outcome": "approve", "task": [task]})
    assert "This task needs its own decision on the card." in page.content.decode()
    assert 'name="confirm"' in page.content.decode()
    assert "Approve these documents" not in page.content.decode()
    reject = client.post(
        "/inbox/bulk/", {"outcome": "reject", "task": [task]}, follow=True
    )
    assert "Only acknowledging and approving work in bulk." in reject.content.decode()
    many = client.post(
        "/inbox/bulk/", {"outcome": "approve", "task": list(range(1, 60))}, follow=True
    )
    assert "Choose at most 50 tasks at once." in many.content.decode()
    assert Task.objects.get(pk=task).state == TaskState.OPEN


def test_tasks_of_others_and_other_organisations_are_not_found(
    tenant_a: Tenant, reader: User
) -> None:
    ack = {"key": "a", "kind": "acknowledge", "assignee": {"user": reader.username}}
    mine = _started(tenant_a, "ack", route(stage("s", ack)), 1)
    task = _open(mine[0], reader).pk
    tenant_b = make_tenant("Beta")
    for intruder in (tenant_a.colleague, tenant_b.initiator):
        response = signed_in(intruder).post(
            "/inbox/bulk/",
            {
                "outcome": "acknowledge",
                "task": [task],
                "confirm": "1",
                f"sha-{task}": "x",
            },
        )
        assert response.status_code == 404
    assert Task.objects.get(pk=task).state == TaskState.OPEN
