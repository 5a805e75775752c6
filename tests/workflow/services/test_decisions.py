"""task_decide: evidence, idempotency, refusals that change nothing, delegation, the
answers the next stage sees; task_file_add: a task's result files (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.documents.models import DocumentFile, FieldKind
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import Delegation, User
from sogla.workflow import services
from sogla.workflow.errors import TaskClosed
from sogla.workflow.models import Process, Task, TaskState
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import add_field
from tests.workflow.conftest import (
    META,
    approve,
    begin,
    decide,
    lawyer_alone,
    make_document,
    open_task,
    person,
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
    cases: list[tuple[dict[str, Any], str]] = [
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
    running: Process, people: dict[str, User]
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
    process = lawyer_alone(tenant_a, people)
    task = Task.objects.get(process=process, state=TaskState.OPEN)
    assert (task.assignee, task.on_behalf_of) == (tenant_a.colleague, people["lawyer"])
    decided = decide(tenant_a.colleague, task)
    assert decided.decided_by == tenant_a.colleague
    event = AuditEvent.objects.get(verb="task.decided")
    assert event.payload["on_behalf_of"] == str(people["lawyer"].pk)


def pdf(name: str = "act.pdf", extra: bytes = b"") -> Any:
    return bytes_upload("act", name, MINIMAL_PDF + extra)


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
