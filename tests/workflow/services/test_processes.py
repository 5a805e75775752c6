"""Starting, resubmitting (revision rounds, carry-over, isolation of old rounds),
reminding and cancelling an approval, through the same calls the UI and API use."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.documents.models import StatusDef, StatusMeaning
from sogla.documents.services import NewFile, document_update_fields, file_add
from sogla.documents.uploads import bytes_upload
from sogla.notifications.models import Notification
from sogla.orgs.models import User
from sogla.orgs.tokens import api_token_create
from sogla.workflow import selectors, services
from sogla.workflow.errors import TaskClosed, WorkflowError
from sogla.workflow.models import Process, StageRun, Task, TaskState, Timer
from tests.conftest import MINIMAL_PDF, Tenant
from tests.workflow.conftest import (
    META,
    approve,
    checks,
    decide,
    make_document,
    open_task,
    publish,
    route,
    stage,
    start,
    three_stages,
)

pytestmark = pytest.mark.django_db


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


def test_start_refusals(
    tenant_a: Tenant, tenant_b: Tenant, people: dict[str, User]
) -> None:
    from sogla.core.errors import PermissionDenied
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


def nudged() -> list[str]:
    return sorted(
        n.recipient_user.username  # type: ignore[union-attr]  # nudges go to users
        for n in Notification.objects.filter(kind="workflow.nudge").select_related(
            "recipient_user"
        )
    )


def test_only_pending_people_are_reminded_once_a_day(
    tenant_a: Tenant, people: dict[str, User], half_decided: Process
) -> None:
    with time_machine.travel("2026-03-02 10:00 +03:00", tick=False):
        assert (
            services.process_remind(
                actor=tenant_a.initiator, process=half_decided, meta=META
            )
            == 1
        )
        assert (
            services.process_remind(actor=tenant_a.initiator, process=half_decided) == 0
        )
    assert nudged() == [people["lawyer"].username]  # not the CFO, who decided
    with time_machine.travel("2026-03-03 10:00 +03:00", tick=False):
        assert (
            services.process_remind(actor=tenant_a.initiator, process=half_decided) == 1
        )
    assert len(nudged()) == 2
    assert AuditEvent.objects.filter(verb="process.reminded").count() == 2


def test_others_and_finished_approvals_are_refused(
    tenant_a: Tenant, people: dict[str, User], half_decided: Process
) -> None:
    with pytest.raises(PermissionDenied):
        services.process_remind(actor=tenant_a.colleague, process=half_decided)
    decide(people["lawyer"], open_task(half_decided, people["lawyer"]))
    with pytest.raises(WorkflowError):
        services.process_remind(actor=tenant_a.initiator, process=half_decided)
    assert nudged() == []
    assert AuditEvent.objects.filter(verb="process.command_refused").count() == 2


def test_the_card_button_and_the_api(
    tenant_a: Tenant, people: dict[str, User], half_decided: Process
) -> None:
    client = Client()
    client.force_login(tenant_a.initiator)
    card = client.get(f"/documents/{half_decided.document_id}/").content.decode()
    assert f"/documents/{half_decided.document_id}/approval/remind/" in card
    page = client.post(
        f"/documents/{half_decided.document_id}/approval/remind/", follow=True
    ).content.decode()
    assert nudged() == [people["lawyer"].username]
    assert "1" in page
    _, raw = api_token_create(actor=tenant_a.initiator, name="t")
    answer = Client().post(
        f"/api/v1/processes/{half_decided.pk}/remind",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert answer.status_code == 200
    assert answer.json() == {"reminded": 0}  # already reminded today
    # Not the initiator's button on someone else's card.
    other = Client()
    other.force_login(people["lawyer"])
    assert (
        "/approval/remind/"
        not in other.get(f"/documents/{half_decided.document_id}/").content.decode()
    )


def revision_route(people: dict[str, User], reask: str) -> dict[str, Any]:
    return route(
        stage("manager", approve("m", {"manager_of": "initiator"})),
        checks(people),
        on_return={"restart": "first_stage", "reask": reask},
    )


def returned_process(tenant: Tenant, people: dict[str, User], reask: str) -> Process:
    template = publish(tenant, revision_route(people, reask))
    process = start(tenant, template, make_document(tenant))
    decide(people["head"], open_task(process, people["head"]))
    decide(people["cfo"], open_task(process, people["cfo"]))
    decide(
        people["lawyer"],
        open_task(process, people["lawyer"]),
        "return",
        comment="Fix 4.2",
    )
    process.refresh_from_db()
    return process


def test_return_then_resubmit_with_carry_over_on_the_same_files(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = returned_process(tenant_a, people, "not_approved")
    assert process.status == "revision"
    process.document.refresh_from_db()
    assert process.document.status.meaning == "draft"
    revision = Task.objects.get(process=process, state=TaskState.OPEN)
    assert (revision.assignee, revision.kind) == (tenant_a.initiator, "revision")
    assert Notification.objects.filter(
        kind="workflow.returned", recipient_user=tenant_a.initiator
    ).exists()
    # Fields can be edited while returned; only the initiator resubmits.
    document_update_fields(
        actor=tenant_a.initiator, document=process.document, values={"subject": "New"}
    )
    with pytest.raises(PermissionDenied):
        services.process_resubmit(actor=people["lawyer"], process=process, comment="x")
    services.process_resubmit(
        actor=tenant_a.initiator, process=process, comment="Fixed", meta=META
    )
    process.refresh_from_db()
    assert (process.status, process.round) == ("running", 2)
    carried = Task.objects.get(process=process, round=2, step_key="m")
    assert carried.state == TaskState.CARRIED_OVER
    assert carried.carried_from.startswith("r1:manager:m:")
    # The stage was done at once by the carry-over: checks asks again.
    assert open_task(process, people["lawyer"]).round == 2
    cfo_round2 = Task.objects.get(process=process, round=2, step_key="cfo")
    assert cfo_round2.state == TaskState.CARRIED_OVER
    amap = selectors.route_map(user=tenant_a.initiator, document=process.document)
    assert amap is not None
    assert amap.round == 2
    colours = {s.key: s.colour for s in amap.stages}
    assert colours == {"manager": "carried_over", "checks": "waiting"}
    assert AuditEvent.objects.filter(verb="process.resubmitted").count() == 1


def test_a_returned_document_shows_its_types_returned_status(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    """A type with its own «На доработке» status shows it while in revision (not
    «Черновик»); resubmitting puts the document back on approval."""
    StatusDef.objects.create(
        organisation=tenant_a.org,
        doc_type=tenant_a.contract,
        key="returned",
        name_ru="На доработке",
        name_en="Returned for revision",
        meaning=StatusMeaning.ACTIVE,
        token="returned",
        order=5,
    )
    process = returned_process(tenant_a, people, "not_approved")
    process.document.refresh_from_db()
    assert process.document.status.key == "returned"
    # Still editable by the initiator, as any document in revision.
    document_update_fields(
        actor=tenant_a.initiator, document=process.document, values={"subject": "New"}
    )
    services.process_resubmit(
        actor=tenant_a.initiator, process=process, comment="Fixed", meta=META
    )
    process.document.refresh_from_db()
    assert process.document.status.key == "on_approval"


def test_new_files_mean_everyone_is_asked_again(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = returned_process(tenant_a, people, "not_approved")
    file_add(
        actor=tenant_a.initiator,
        document=process.document,
        new=NewFile(bytes_upload("files", "v2.pdf", MINIMAL_PDF)),
    )
    services.process_resubmit(actor=tenant_a.initiator, process=process, comment="v2")
    round2 = Task.objects.filter(process=process, round=2)
    assert list(round2.values_list("step_key", "state")) == [("m", "open")]


def test_round_one_tasks_are_refused_in_round_two(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = returned_process(tenant_a, people, "all")
    old_lawyer = Task.objects.get(process=process, round=1, step_key="lawyer")
    old_head = Task.objects.get(process=process, round=1, step_key="m")
    services.process_resubmit(actor=tenant_a.initiator, process=process, comment="ok")
    with pytest.raises(TaskClosed):
        decide(people["lawyer"], old_lawyer, "approve")
    with pytest.raises(TaskClosed):
        decide(people["head"], old_head, "approve")
    head_task = open_task(process, people["head"])
    assert head_task.round == 2
    decide(people["head"], head_task)
    decide(people["cfo"], open_task(process, people["cfo"]))
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    process.refresh_from_db()
    assert process.status == "approved"
    # Round-1 evidence stays.
    assert (
        Task.objects.filter(process=process, round=1, state="done")
        .exclude(kind="revision")
        .count()
        == 3
    )


def test_resubmit_only_in_revision(tenant_a: Tenant, people: dict[str, User]) -> None:
    template = publish(tenant_a, revision_route(people, "all"))
    process = start(tenant_a, template, make_document(tenant_a))
    with pytest.raises(WorkflowError) as caught:
        services.process_resubmit(actor=tenant_a.initiator, process=process)
    assert caught.value.code == "process_not_in_revision"
