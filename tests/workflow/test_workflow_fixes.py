"""Task result files, answers the resolver sees, filing placeholders, notify targets
and audited refusals (services level; SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.documents.models import Counterparty, DocumentFile, FieldKind, Folder
from sogla.documents.services import document_create
from sogla.documents.uploads import bytes_upload
from sogla.notifications.models import Notification
from sogla.orgs.models import User
from sogla.workflow import services
from sogla.workflow.errors import TaskClosed
from sogla.workflow.models import Process, Task, TaskState
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import (
    CounterpartyFactory,
    DepartmentFactory,
    RoleFactory,
    add_field,
)
from tests.workflow.conftest import (
    META,
    approve,
    decide,
    open_task,
    person,
    publish,
    route,
    stage,
)

pytestmark = pytest.mark.django_db


def pdf(name: str = "act.pdf", extra: bytes = b"") -> Any:
    return bytes_upload("act", name, MINIMAL_PDF + extra)


def begin(tenant: Tenant, definition: dict[str, Any], **values: Any) -> Process:
    template = publish(tenant, definition)
    document = document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": "Supply", "amount": "1000.00", **values},
    )
    return services.process_start(
        actor=tenant.initiator, document=document, template=template, meta=META
    )


# --- 1. task result files ---------------------------------------------------------


def act_route(kind: str = "task") -> dict[str, Any]:
    return route(
        stage(
            "act",
            {
                "key": "provide",
                "kind": kind,
                "assignee": {"initiator": True},
                "fields": ["act", "note"],
                "required_fields": ["act"],
            },
        ),
        stage("check", approve("ceo", {"user": "alpha-colleague"})),
    )


@pytest.fixture
def act_type(tenant_a: Tenant) -> Tenant:
    add_field(tenant_a.contract, "act", FieldKind.FILE)
    add_field(tenant_a.contract, "note", FieldKind.STRING)
    return tenant_a


@pytest.mark.parametrize("kind", ["task", "request_info"])
def test_the_assignee_attaches_the_required_file_and_then_completes(
    act_type: Tenant, kind: str
) -> None:
    tenant = act_type
    process = begin(tenant, act_route(kind))
    task = open_task(process, tenant.initiator)
    # Without the act, "done" is refused and names the field.
    with pytest.raises(ValidationFailed) as refused:
        decide(tenant.initiator, task, "done")
    assert [p.field for p in refused.value.problems] == ["act"]
    # The document is running (not a draft): the plain file_add refuses it,
    # the task's service accepts it.
    version = services.task_file_add(
        actor=tenant.initiator,
        task_id=task.pk,
        upload=pdf(),
        field_key="act",
        meta=META,
    )
    assert version.file.field_key == "act"
    assert version.author_id == tenant.initiator.pk
    event = AuditEvent.objects.get(verb="document.file_version_added")
    assert event.payload["task"] == task.pk
    assert event.payload["field"] == "act"
    assert event.ip == META.ip
    decide(tenant.initiator, task, "done", fields={"note": "signed"})
    process.refresh_from_db()
    assert process.stage_index == 1
    decided = AuditEvent.objects.get(verb="task.decided")
    assert decided.payload["files"] == {"act": version.sha256}
    assert decided.payload["fields"] == {"note": "signed"}
    document = process.document
    document.refresh_from_db()
    assert document.fields["note"] == "signed"
    assert "act" not in document.fields  # files live in DocumentFile rows


def test_a_colleagues_stand_in_may_attach_but_nobody_else(
    act_type: Tenant, tenant_b: Tenant
) -> None:
    tenant = act_type
    process = begin(tenant, act_route())
    task = open_task(process, tenant.initiator)
    for stranger in (tenant.colleague, tenant.admin, tenant_b.initiator):
        with pytest.raises(NotFound):
            services.task_file_add(
                actor=stranger, task_id=task.pk, upload=pdf(), field_key="act"
            )
    # the seat's stand-in holds the task with on_behalf_of = the seat
    stand_in = person(tenant, "stand-in")
    Task.objects.filter(pk=task.pk).update(
        assignee=stand_in, on_behalf_of=tenant.initiator
    )
    for actor in (stand_in, tenant.initiator):
        services.task_file_add(
            actor=actor, task_id=task.pk, upload=pdf(extra=b"%x"), field_key="act"
        )
    assert DocumentFile.objects.get(field_key="act").versions.count() == 2


def test_result_files_only_for_open_task_steps_and_their_fields(
    act_type: Tenant,
) -> None:
    tenant = act_type
    process = begin(tenant, act_route())
    task = open_task(process, tenant.initiator)
    with pytest.raises(ValidationFailed) as wrong:
        services.task_file_add(
            actor=tenant.initiator,
            task_id=task.pk,
            upload=pdf(),
            field_key="contract_file",  # a file field of the type, not of the step
        )
    assert wrong.value.problems[0].field == "contract_file"
    services.task_file_add(
        actor=tenant.initiator, task_id=task.pk, upload=pdf(), field_key="act"
    )
    decide(tenant.initiator, task, "done")
    with pytest.raises(TaskClosed):
        services.task_file_add(
            actor=tenant.initiator, task_id=task.pk, upload=pdf(), field_key="act"
        )
    approval = open_task(process, tenant.colleague)  # an approve step
    with pytest.raises(PermissionDenied):
        services.task_file_add(
            actor=tenant.colleague, task_id=approval.pk, upload=pdf(), field_key="act"
        )
    assert DocumentFile.objects.get(field_key="act").versions.count() == 1


# --- 3. the resolver reads the decision's answers --------------------------------


def test_the_next_stage_goes_to_the_person_picked_in_the_decision(
    tenant_a: Tenant,
) -> None:
    add_field(tenant_a.contract, "designer", FieldKind.USER)
    add_field(tenant_a.contract, "co_executors", FieldKind.USERS)
    designer = person(tenant_a, "designer")
    helper = person(tenant_a, "helper")
    process = begin(
        tenant_a,
        route(
            stage(
                "pick",
                {
                    "key": "pick",
                    "kind": "request_info",
                    "assignee": {"user": "alpha-head"},
                    "fields": ["designer", "co_executors"],
                    "required_fields": ["designer"],
                },
            ),
            stage(
                "design",
                {
                    "key": "draw",
                    "kind": "task",
                    "assignee": {"user_field": "designer"},
                },
                {
                    "key": "help",
                    "kind": "task",
                    "assignee": {"users_field": "co_executors"},
                    "quorum": "all",
                },
            ),
        ),
    )
    head = User.objects.get(username="alpha-head")
    decide(
        head,
        open_task(process, head),
        "done",
        fields={"designer": designer.pk, "co_executors": [helper.pk, designer.pk]},
    )
    process.refresh_from_db()
    assert process.status == "running"
    assert process.stage_index == 1
    open_people = {
        (t.step_key, t.assignee_id)
        for t in Task.objects.filter(process=process, state=TaskState.OPEN)
    }
    assert open_people == {
        ("draw", designer.pk),
        ("help", helper.pk),
        ("help", designer.pk),
    }
    assert not AuditEvent.objects.filter(verb="process.step_unresolved").exists()


# --- 4. file_to placeholders and the counterparty's folder -----------------------


def filing_route(path: str) -> dict[str, Any]:
    return route(
        stage("ok", approve("ok", {"user": "alpha-head"})),
        on_finish=[{"file_to": path}],
    )


def test_file_to_renders_department_counterparty_and_a_persons_department(
    tenant_a: Tenant,
) -> None:
    add_field(tenant_a.contract, "responsible", FieldKind.USER)
    legal = DepartmentFactory(organisation=tenant_a.org, name="Legal", code="legal")
    responsible = person(tenant_a, "resp", department=legal)
    party = CounterpartyFactory(organisation=tenant_a.org, name="Romashka")
    process = begin(
        tenant_a,
        filing_route(
            "{department}/{responsible.department}/{counterparty}/{subject} {number}"
        ),
        counterparty=party.pk,
        responsible=responsible.pk,
    )
    head = User.objects.get(username="alpha-head")
    decide(head, open_task(process, head))
    document = process.document
    document.refresh_from_db()
    assert document.folder is not None
    assert document.folder.path == (f"Sales/Legal/Romashka/Supply {document.number}")
    party.refresh_from_db()
    assert party.folder is not None
    assert party.folder.path == "Sales/Legal/Romashka"
    filed = AuditEvent.objects.get(verb="process.filed")
    assert filed.payload["counterparty_folder"] == "Sales/Legal/Romashka"


def test_the_counterparty_folder_is_created_once_and_remembered(
    tenant_a: Tenant,
) -> None:
    party = CounterpartyFactory(organisation=tenant_a.org, name="Romashka")
    template = publish(
        tenant_a, filing_route("{department}/Counterparties/{counterparty}")
    )
    head = User.objects.get(username="alpha-head")

    def approve_one() -> Any:
        document = document_create(
            actor=tenant_a.initiator,
            doc_type=tenant_a.contract,
            values={"subject": "S", "amount": "1", "counterparty": party.pk},
        )
        process = services.process_start(
            actor=tenant_a.initiator, document=document, template=template
        )
        decide(head, open_task(process, head))
        document.refresh_from_db()
        return document

    first = approve_one()
    party.refresh_from_db()
    remembered = party.folder
    assert remembered is not None
    assert first.folder_id == remembered.pk
    assert remembered.path == "Sales/Counterparties/Romashka"
    # Renamed later: its documents still go into the remembered folder.
    Counterparty.objects.filter(pk=party.pk).update(name="Romashka Plus")
    second = approve_one()
    assert second.folder_id == remembered.pk
    assert Folder.objects.filter(organisation=tenant_a.org).count() == 3
    party.refresh_from_db()
    assert party.folder_id == remembered.pk


# --- 5. notify targets -----------------------------------------------------------


def test_every_notify_target_reaches_someone_or_is_audited(tenant_a: Tenant) -> None:
    add_field(tenant_a.contract, "watcher", FieldKind.USER)
    add_field(tenant_a.contract, "watchers", FieldKind.USERS)
    add_field(tenant_a.contract, "client_email", FieldKind.STRING)
    owner = person(tenant_a, "owner")
    role_holder = person(tenant_a, "accountant")
    RoleFactory(organisation=tenant_a.org, key="accounting").members.add(role_holder)
    RoleFactory(organisation=tenant_a.org, key="empty-role")
    watcher = person(tenant_a, "watcher")
    watchers = [person(tenant_a, "w1"), person(tenant_a, "w2")]
    template = publish(
        tenant_a,
        route(
            stage("ok", approve("ok", {"user": "alpha-head"})),
            on_finish=[
                {
                    "notify": [
                        "initiator",
                        "owner",
                        "role:accounting",
                        "user:alpha-colleague",
                        "field:watcher",
                        "field:watchers",
                        "field:client_email",
                        "role:empty-role",
                        "user:nobody",
                        "field:end_date",
                        "somebody",
                    ]
                }
            ],
        ),
        owner=owner,
    )
    document = document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={
            "subject": "S",
            "amount": "1",
            "watcher": watcher.pk,
            "watchers": [w.pk for w in watchers],
            "client_email": "Buyer@Example.com",
        },
    )
    process = services.process_start(
        actor=tenant_a.initiator, document=document, template=template
    )
    head = User.objects.get(username="alpha-head")
    decide(head, open_task(process, head))
    sent = Notification.objects.filter(kind="workflow.route_notice")
    assert {n.recipient_user_id for n in sent if n.recipient_user_id} == {
        tenant_a.initiator.pk,
        owner.pk,
        role_holder.pk,
        tenant_a.colleague.pk,
        watcher.pk,
        *(w.pk for w in watchers),
    }
    assert [n.recipient_email for n in sent if not n.recipient_user_id] == [
        "buyer@example.com"
    ]
    unresolved = {
        e.payload["target"]: e.payload["reason"]
        for e in AuditEvent.objects.filter(verb="process.notify_unresolved")
    }
    assert unresolved == {
        "role:empty-role": 'nobody holds the role "empty-role"',
        "user:nobody": 'no active user "nobody"',
        "field:end_date": 'the field "end_date" is empty',
        "somebody": "unknown notify target",
    }
    # The card's history says so in words, as the route's own sentence.
    from sogla.workflow.screens.history import history_days

    events = AuditEvent.objects.filter(document_id=document.pk).order_by("seq")
    texts = [
        (entry.actor, entry.text)
        for day in history_days(events=events, show_ip=False)
        for entry in day.entries
    ]
    assert ("", "A notice reached nobody: role:empty-role") in texts
    assert ("", "A notice reached nobody: somebody") in texts


# --- 6. refused decisions are audited --------------------------------------------


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
