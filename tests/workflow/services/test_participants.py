"""Changing the people of a step while the round runs (``services.step_edit``), and
asking a person once a round (``duplicates``), through the whole pipeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification
from sogla.orgs.models import User
from sogla.workflow import selectors, services
from sogla.workflow.errors import TaskClosed, WorkflowError
from sogla.workflow.models import Process, StepRun, Task, TaskState
from sogla.workflow.screens.history import history_days
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


def two_stages(
    tenant: Tenant,
    people: dict[str, User],
    *,
    owner: User | None = None,
    key: str = "contract-route",
    **extra: object,
) -> Process:
    """The lawyer (with a deadline), then the CEO."""
    template = publish(
        tenant,
        route(
            stage(
                "legal",
                approve(
                    "l", {"user": people["lawyer"].username}, due={"working_days": 3}
                ),
            ),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
            **extra,
        ),
        owner=owner,
        key=key,
    )
    return start(tenant, template, make_document(tenant))


def test_the_owner_adds_an_approver_who_gets_a_task_a_notice_and_a_history_line(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = two_stages(tenant_a, people, owner=people["cfo"])
    services.step_edit(
        actor=people["cfo"], process=process, stage="legal", step="l",
        add=[tenant_a.colleague],
    )  # fmt: skip
    added = open_task(process, tenant_a.colleague)
    assert added.due_at is not None
    assert Notification.objects.filter(
        kind="workflow.task_assigned", recipient_user=tenant_a.colleague
    ).exists()
    event = AuditEvent.objects.get(verb="process.participants_changed")
    assert event.actor == people["cfo"]
    assert event.payload["added"] == [tenant_a.colleague.pk]
    days = history_days(
        events=AuditEvent.objects.filter(verb="process.participants_changed"),
        show_ip=False,
    )
    entry = days[0].entries[0]
    assert entry.text == "changed the people of a step"
    assert entry.detail == f"legal.l: + {tenant_a.colleague.short_name}"
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    process.refresh_from_db()
    assert process.stage_index == 0  # "all": the colleague is still asked
    decide(tenant_a.colleague, added)
    assert open_task(process, people["ceo"]) is not None


def test_removing_a_pending_approver_closes_the_task_tells_them_and_moves_on(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = two_stages(tenant_a, people)
    admin = tenant_a.admin
    services.step_edit(
        actor=admin, process=process, stage="legal", step="l", add=[people["cfo"]]
    )
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    cfo_task = open_task(process, people["cfo"])
    services.step_edit(
        actor=admin, process=process, stage="legal", step="l", remove=[people["cfo"]]
    )
    cfo_task.refresh_from_db()
    assert cfo_task.state == TaskState.CANCELLED
    assert cfo_task.closed_reason == "removed"
    assert Notification.objects.filter(
        kind="workflow.task_removed", recipient_user=people["cfo"]
    ).exists()
    # the lawyer had approved: the step finished by its quorum, the CEO is asked
    assert open_task(process, people["ceo"]) is not None
    with pytest.raises(TaskClosed, match="taken off"):
        decide(people["cfo"], cfo_task)


def test_removing_the_only_person_is_refused_with_a_reason_and_nothing_changes(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = two_stages(tenant_a, people)
    with pytest.raises(WorkflowError, match="could never be completed") as refused:
        services.step_edit(
            actor=tenant_a.admin, process=process, stage="legal", step="l",
            remove=[people["lawyer"]],
        )  # fmt: skip
    assert refused.value.code == "quorum_unreachable"
    assert open_task(process, people["lawyer"]).state == TaskState.OPEN
    assert not AuditEvent.objects.filter(verb="process.participants_changed").exists()
    assert AuditEvent.objects.filter(
        verb="process.command_refused", payload__command="edit"
    ).exists()


def test_moving_a_deadline_moves_the_task_and_tells_the_assignee(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = two_stages(tenant_a, people)
    task = open_task(process, people["lawyer"])
    assert task.due_at is not None
    new = task.due_at + timedelta(days=10)
    services.step_edit(
        actor=tenant_a.admin, process=process, stage="legal", step="l",
        due_at=new, due_for=[people["lawyer"]],
    )  # fmt: skip
    task.refresh_from_db()
    assert task.due_at == new
    note = Notification.objects.get(
        kind="workflow.deadline_moved", recipient_user=people["lawyer"]
    )
    assert note.context["by"] == f"user:{tenant_a.admin.pk}"
    assert AuditEvent.objects.filter(verb="task.deadline_changed").exists()
    with pytest.raises(ValidationFailed) as past:
        services.step_edit(
            actor=tenant_a.admin, process=process, stage="legal", step="l",
            due_at=timezone.now() - timedelta(days=1),
        )  # fmt: skip
    assert past.value.problems[0].field == "due_at"


def test_adding_to_a_later_stage_applies_when_it_opens(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = two_stages(tenant_a, people)
    services.step_edit(
        actor=tenant_a.admin, process=process, stage="ceo", step="ceo",
        add=[tenant_a.colleague],
    )  # fmt: skip
    assert not Task.objects.filter(
        process=process, assignee=tenant_a.colleague
    ).exists()
    process.refresh_from_db()
    rmap = selectors.route_map(user=tenant_a.admin, document=process.document)
    assert rmap is not None
    assert rmap.stages[1].steps[0].added == [tenant_a.colleague]  # the card says so
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    assert open_task(process, tenant_a.colleague).stage_key == "ceo"
    assert open_task(process, people["ceo"]).stage_key == "ceo"


def test_who_may_edit(tenant_a: Tenant, people: dict[str, User]) -> None:
    process = two_stages(tenant_a, people, owner=people["cfo"])
    edit = {"process": process, "stage": "legal", "step": "l", "add": [people["ceo"]]}
    # the initiator sees the document but the route does not let them
    with pytest.raises(PermissionDenied):
        services.step_edit(actor=tenant_a.initiator, **edit)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        services.step_edit(actor=people["lawyer"], **edit)  # type: ignore[arg-type]
    allowed = two_stages(
        tenant_a, people, key="open-route", initiator_may_edit_running=True
    )
    services.step_edit(
        actor=tenant_a.initiator, process=allowed, stage="legal", step="l",
        add=[people["ceo"]],
    )  # fmt: skip
    assert open_task(allowed, people["ceo"]).stage_key == "legal"


def test_another_organisation_gets_404_and_cannot_be_added(
    tenant_a: Tenant, tenant_b: Tenant, people: dict[str, User]
) -> None:
    process = two_stages(tenant_a, people)
    with pytest.raises(NotFound):
        services.step_edit(
            actor=tenant_b.admin, process=process, stage="legal", step="l",
            add=[tenant_b.colleague],
        )  # fmt: skip
    with pytest.raises(ValidationFailed):
        services.step_edit(
            actor=tenant_a.admin, process=process, stage="legal", step="l",
            add=[tenant_b.colleague],
        )  # fmt: skip
    assert Task.objects.filter(process=process).count() == 1


def test_a_passed_stage_cannot_be_changed(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = two_stages(tenant_a, people)
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    with pytest.raises(WorkflowError) as refused:
        services.step_edit(
            actor=tenant_a.admin, process=process, stage="legal", step="l",
            add=[people["cfo"]],
        )  # fmt: skip
    assert refused.value.code == "stage_passed"


# --- duplicates ------------------------------------------------------------------------


def twice(tenant: Tenant, people: dict[str, User], duplicates: str) -> Process:
    lawyer = {"user": people["lawyer"].username}
    template = publish(
        tenant,
        route(
            stage("legal", approve("l", lawyer)),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
            stage("again", approve("l2", lawyer)),
            duplicates=duplicates,
        ),
    )
    return start(tenant, template, make_document(tenant))


def test_merge_carries_the_earlier_approval_to_the_later_step(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = twice(tenant_a, people, "merge")
    first = open_task(process, people["lawyer"])
    decide(people["lawyer"], first)
    decide(people["ceo"], open_task(process, people["ceo"]))
    process.refresh_from_db()
    assert process.status == "approved"
    carried = Task.objects.get(process=process, step_key="l2")
    assert carried.state == TaskState.CARRIED_OVER
    assert carried.carried_from == first.engine_id
    assert StepRun.objects.get(process=process, step_key="l2").state == "done"
    # the card says where the approval came from
    rmap = selectors.route_map(user=tenant_a.initiator, document=process.document)
    assert rmap is not None
    (item,) = rmap.stages[2].steps[0].tasks
    assert item.merged_from == "legal"


def test_keep_asks_again(tenant_a: Tenant, people: dict[str, User]) -> None:
    process = twice(tenant_a, people, "keep")
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    decide(people["ceo"], open_task(process, people["ceo"]))
    assert open_task(process, people["lawyer"]).step_key == "l2"
    rmap = selectors.route_map(user=tenant_a.initiator, document=process.document)
    assert rmap is not None
    (item,) = rmap.stages[2].steps[0].tasks
    assert item.asked_again_after == "legal"
    assert not item.merged_from


def test_parallel_steps_share_one_task(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    lawyer = {"user": people["lawyer"].username}
    template = publish(
        tenant_a,
        route(
            stage("checks", approve("a", lawyer), approve("b", lawyer)),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
        ),
    )
    process = start(tenant_a, template, make_document(tenant_a))
    assert Task.objects.filter(process=process, assignee=people["lawyer"]).count() == 1
    rmap = selectors.route_map(user=tenant_a.initiator, document=process.document)
    assert rmap is not None
    a, b = rmap.stages[0].steps
    assert [i.person for i in a.tasks] == [people["lawyer"]]
    assert (b.tasks, [i.person for i in b.shared]) == ([], [people["lawyer"]])
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    assert set(
        StepRun.objects.filter(process=process, stage_key="checks").values_list(
            "state", flat=True
        )
    ) == {"done"}
    assert open_task(process, people["ceo"]) is not None
