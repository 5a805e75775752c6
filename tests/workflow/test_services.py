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


# --- routes -------------------------------------------------------------------------


def test_invalid_route_cannot_be_published_and_every_problem_has_a_path(
    tenant_a: Tenant,
) -> None:
    from sogla.core.errors import ValidationFailed
    from sogla.workflow import services

    template = services.route_template_create(
        actor=tenant_a.admin, doc_type=tenant_a.contract, key="bad", name_ru="Плохой"
    )
    version = services.route_version_save_draft(
        actor=tenant_a.admin,
        template=template,
        definition=route(
            stage("a", approve("x", {"role": "lawer"})),
            stage(
                "b",
                approve("y", {"user": "nobody"}),
                when={"field": "colour", "op": "eq", "value": 1},
            ),
        ),
    )
    with pytest.raises(ValidationFailed) as caught:
        services.route_version_publish(actor=tenant_a.admin, version=version)
    fields = {p.field for p in caught.value.problems}
    assert fields == {
        "stages[0].steps[0].assignee.role",
        "stages[1].steps[0].assignee.user",
        "stages[1].when",
    }
    version.refresh_from_db()
    assert version.status == "draft"


def test_published_version_is_immutable_and_a_new_draft_gets_the_next_number(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    from sogla.workflow import services
    from sogla.workflow.errors import WorkflowError
    from sogla.workflow.models import RouteVersion

    template = publish(tenant_a, three_stages(people))
    published = RouteVersion.objects.get(template=template)
    with pytest.raises(WorkflowError):
        services.route_version_publish(actor=tenant_a.admin, version=published)
    draft = services.route_version_save_draft(
        actor=tenant_a.admin, template=template, definition=three_stages(people)
    )
    assert (published.number, draft.number) == (1, 2)
    assert draft.pk != published.pk


def test_only_an_admin_edits_routes(tenant_a: Tenant) -> None:
    from sogla.core.errors import PermissionDenied
    from sogla.workflow import services

    with pytest.raises(PermissionDenied):
        services.route_template_create(
            actor=tenant_a.initiator,
            doc_type=tenant_a.contract,
            key="mine",
            name_ru="Мой",
        )


def test_routes_for_document_fit_the_values_and_the_first_is_suggested(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    from sogla.workflow.selectors import process_preview, routes_for_document

    big = {"field": "amount", "op": "gt", "value": 1000000}
    full = publish(tenant_a, three_stages(people), key="full", suggest_when=big)
    short = publish(
        tenant_a,
        route(stage("manager", approve("m", {"manager_of": "initiator"}))),
        key="short",
        order=5,
    )
    small_doc = make_document(tenant_a, amount="100.00")
    big_doc = make_document(tenant_a, amount="5000000.00")
    assert routes_for_document(user=tenant_a.initiator, document=small_doc) == [short]
    assert routes_for_document(user=tenant_a.initiator, document=big_doc) == [
        full,
        short,
    ]
    shown = process_preview(user=tenant_a.initiator, document=big_doc, template=full)
    assert [s.key for s in shown.stages] == ["manager", "checks", "ceo"]
    manager = shown.stages[0].steps[0].participants[0]
    assert shown.users[int(manager.id)] == people["head"]


# --- starting -----------------------------------------------------------------------


def test_start_refusals(
    tenant_a: Tenant, tenant_b: Tenant, people: dict[str, User]
) -> None:
    from sogla.core.errors import NotFound, PermissionDenied
    from sogla.workflow import services
    from sogla.workflow.errors import WorkflowError

    template = publish(tenant_a, three_stages(people))
    document = make_document(tenant_a)
    with pytest.raises(PermissionDenied):
        services.process_start(
            actor=tenant_a.colleague, document=document, template=template
        )
    with pytest.raises(NotFound):
        services.process_start(
            actor=tenant_b.initiator, document=document, template=template
        )
    start(tenant_a, template, document)
    with pytest.raises(WorkflowError) as again:
        start(tenant_a, template, document)
    assert again.value.code == "already_running"
    assert Process.objects.filter(document=document).count() == 1
