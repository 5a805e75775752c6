"""Re-approval after a corrected version, through the services the card and the API
use: the three modes of ``on_return.reask``, the initiator's choice when
resubmitting, and withdrawing a carried-over approval (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.core.errors import PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.documents.models import DocumentFile
from sogla.documents.services import NewFile, file_add
from sogla.documents.uploads import bytes_upload
from sogla.notifications.models import Notification
from sogla.orgs.models import User
from sogla.workflow import selectors, services
from sogla.workflow.errors import WorkflowError
from sogla.workflow.models import Process, Task, TaskState
from sogla.workflow.screens.history import history_days
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
)

pytestmark = pytest.mark.django_db

CHANGED = "not_approved_even_if_changed"


def reapproval_route(people: dict[str, User], **on_return: Any) -> dict[str, Any]:
    return route(
        stage("manager", approve("m", {"manager_of": "initiator"})),
        checks(people),  # lawyer and cfo in parallel
        on_return={"restart": "first_stage", **on_return},
    )


def upload(tenant: Tenant, process: Process, body: bytes, file: Any = None) -> None:
    file_add(
        actor=tenant.initiator,
        document=process.document,
        new=NewFile(bytes_upload("files", "contract.pdf", body)),
        file=file,
    )


def returned_then_corrected(
    tenant: Tenant, people: dict[str, User], **on_return: Any
) -> Process:
    """v1 approved by the head and the CFO, returned by the lawyer, v2 uploaded."""
    template = publish(tenant, reapproval_route(people, **on_return))
    document = make_document(tenant)
    process = start(tenant, template, document)
    decide(people["head"], open_task(process, people["head"]))
    decide(people["cfo"], open_task(process, people["cfo"]))
    decide(
        people["lawyer"],
        open_task(process, people["lawyer"]),
        "return",
        comment="Fix 4.2",
    )
    process.refresh_from_db()
    upload(tenant, process, MINIMAL_PDF + b"%v2\n")
    return process


def with_versions(tenant: Tenant, people: dict[str, User], **on_return: Any) -> Process:
    """The same, but v1 of the contract is there when they approve."""
    template = publish(tenant, reapproval_route(people, **on_return))
    document = make_document(tenant)
    file_add(
        actor=tenant.initiator,
        document=document,
        new=NewFile(bytes_upload("files", "contract.pdf", MINIMAL_PDF)),
    )
    process = start(tenant, template, document)
    decide(people["head"], open_task(process, people["head"]))
    decide(people["cfo"], open_task(process, people["cfo"]))
    decide(
        people["lawyer"],
        open_task(process, people["lawyer"]),
        "return",
        comment="Fix 4.2",
    )
    process.refresh_from_db()
    slot = DocumentFile.objects.get(document=document)
    upload(tenant, process, MINIMAL_PDF + b"%v2\n", file=slot)
    return process


def resubmit(tenant: Tenant, process: Process, reask: str = "") -> Process:
    services.process_resubmit(
        actor=tenant.initiator, process=process, comment="v2", reask=reask, meta=META
    )
    process.refresh_from_db()
    return process


def round2(process: Process) -> list[tuple[str, str]]:
    return list(
        Task.objects.filter(process=process, round=2)
        .exclude(kind="revision")
        .order_by("id")
        .values_list("step_key", "state")
    )


def test_mode_all_asks_everyone_again(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = resubmit(tenant_a, returned_then_corrected(tenant_a, people, reask="all"))
    assert round2(process) == [("m", "open")]
    assert not Notification.objects.filter(kind="workflow.approval_carried").exists()


def test_mode_unchanged_files_only_asks_everyone_after_a_new_file(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = returned_then_corrected(tenant_a, people, reask="not_approved")
    process = resubmit(tenant_a, process)
    assert round2(process) == [("m", "open")]


def test_mode_even_if_changed_carries_approvals_and_tells_the_people(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = with_versions(tenant_a, people, reask=CHANGED)
    process = resubmit(tenant_a, process)
    assert sorted(round2(process)) == [
        ("cfo", "carried_over"),
        ("lawyer", "open"),
        ("m", "carried_over"),
    ]
    told = Notification.objects.filter(kind="workflow.approval_carried")
    assert {n.recipient_user for n in told} == {people["head"], people["cfo"]}
    carried = Task.objects.get(process=process, round=2, step_key="m")
    original = Task.objects.get(process=process, round=1, step_key="m")
    # The evidence of what it was given on: the first round's hash and time.
    assert carried.files_sha256 == original.files_sha256
    assert carried.files_sha256 != process.document.files_sha256
    assert carried.decided_at == original.decided_at
    event = AuditEvent.objects.get(verb="process.resubmitted")
    assert event.payload["reask"] == CHANGED
    # The card says which version was approved and links the comparison.
    amap = selectors.route_map(user=people["head"], document=process.document)
    assert amap is not None
    item = next(
        t for s in amap.stages for st in s.steps for t in st.tasks if t.carried_over
    )
    assert item.given_on is not None
    assert item.given_on.note == "approved v1; v2 differs"
    assert "/compare/?file=" in item.given_on.compare_url
    assert item.can_withdraw is True


def test_the_initiator_chooses_when_the_route_allows(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = returned_then_corrected(
        tenant_a, people, reask="all", initiator_may_choose_reask=True
    )
    process = resubmit(tenant_a, process, reask=CHANGED)
    assert process.reask == CHANGED
    assert ("m", "carried_over") in round2(process)


def test_a_choice_the_route_does_not_allow_names_the_field(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = returned_then_corrected(tenant_a, people, reask="all")
    for wrong in (CHANGED, "some"):
        with pytest.raises(ValidationFailed) as caught:
            resubmit(tenant_a, process, reask=wrong)
        assert caught.value.problems[0].field == "reask"
    process.refresh_from_db()
    assert (process.status, process.round) == ("revision", 1)


def test_withdrawing_while_the_stage_runs_asks_again(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = resubmit(
        tenant_a, returned_then_corrected(tenant_a, people, reask=CHANGED)
    )
    carried = Task.objects.get(process=process, round=2, step_key="cfo")
    with pytest.raises(PermissionDenied):
        services.task_withdraw(actor=people["lawyer"], task_id=carried.pk, comment="x")
    with pytest.raises(ValidationFailed) as caught:
        services.task_withdraw(actor=people["cfo"], task_id=carried.pk, comment=" ")
    assert caught.value.problems[0].field == "comment"
    services.task_withdraw(
        actor=people["cfo"], task_id=carried.pk, comment="4.2 moved the price"
    )
    carried.refresh_from_db()
    assert (carried.state, carried.closed_reason) == (TaskState.CANCELLED, "withdrawn")
    again = open_task(process, people["cfo"])
    assert again.round == 2
    event = AuditEvent.objects.get(verb="task.approval_withdrawn")
    assert event.payload["comment"] == "4.2 moved the price"
    assert event.payload["reopened"] == again.pk
    assert Notification.objects.filter(
        kind="workflow.approval_withdrawn", recipient_user=tenant_a.initiator
    ).exists()
    # Twice is refused: the approval is no longer carried over.
    with pytest.raises(WorkflowError):
        services.task_withdraw(actor=people["cfo"], task_id=carried.pk, comment="x")
    decide(people["cfo"], again)
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    process.refresh_from_db()
    assert process.status == "approved"


def test_withdrawing_after_the_stage_finished_returns_the_document(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = resubmit(
        tenant_a, returned_then_corrected(tenant_a, people, reask=CHANGED)
    )
    carried = Task.objects.get(process=process, round=2, step_key="m")
    services.task_withdraw(
        actor=people["head"], task_id=carried.pk, comment="v2 drops the penalty"
    )
    process.refresh_from_db()
    assert (process.status, process.returned_from) == ("revision", "manager")
    revision = Task.objects.get(process=process, state=TaskState.OPEN)
    assert revision.assignee == tenant_a.initiator
    returned = AuditEvent.objects.get(verb="process.returned", payload__round=2)
    assert returned.payload["comment"] == "v2 drops the penalty"
    # The lawyer's open task closed with the return.
    assert not Task.objects.filter(
        process=process, state=TaskState.OPEN, assignee=people["lawyer"]
    ).exists()


def test_the_history_says_which_version_a_carried_approval_was_given_on(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = resubmit(tenant_a, with_versions(tenant_a, people, reask=CHANGED))
    events = AuditEvent.objects.filter(verb="task.approval_carried")
    assert events.count() == 2
    event = events.get(payload__name=people["head"].short_name)
    assert event.payload["changes"] == [{"name": "contract.pdf", "old": 1, "new": 2}]
    days = history_days(
        events=AuditEvent.objects.filter(document_id=process.document_id).order_by(
            "created_at", "id"
        ),
        show_ip=False,
    )
    texts = [(e.text, e.detail) for d in days for e in d.entries]
    assert (
        f"The approval of {people['head'].short_name} carried over to changed files",
        "approved v1; v2 differs",
    ) in texts


def test_a_later_stage_opened_by_a_decision_still_carries_approvals(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    """The CEO is added to the first stage for round 2: the checks stage opens only
    when the CEO decides, and the CFO's approval of round 1 still carries over."""
    process = returned_then_corrected(
        tenant_a, people, reask=CHANGED, initiator_may_edit=True
    )
    services.process_resubmit(
        actor=tenant_a.initiator,
        process=process,
        changes=services.RoundEdits(add={"manager.m": [people["ceo"]]}),
        meta=META,
    )
    decide(people["ceo"], open_task(process, people["ceo"]))
    process.refresh_from_db()
    assert sorted(round2(process)) == [
        ("cfo", "carried_over"),
        ("lawyer", "open"),
        ("m", "carried_over"),
        ("m", "done"),
    ]
