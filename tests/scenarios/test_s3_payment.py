"""S3. Payment approval (SCENARIOS.md).

The CFO approves or rejects, then answers "does the executive director need to
approve?" (a request_info step writing ``exec_director_needed``); the answer steers
the next stage. Then "Invoice for payment": the owner (the general director) is
notified and the accountant pays; then "Waiting for the act": the initiator uploads
the act through ``task_file_add`` and completes.
"""

from __future__ import annotations

import pytest

from sogla.core.errors import ValidationFailed
from sogla.core.models import AuditEvent
from sogla.documents.models import DocumentFile
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import Organisation
from sogla.workflow import services
from tests.conftest import MINIMAL_PDF
from tests.scenarios.conftest import META, Story, begin, party, pdf, user

pytestmark = pytest.mark.django_db


def payment() -> Story:
    story = begin(
        initiator="technician",
        doc_type="payment",
        route="payment",
        values={
            "amount": "36000.00",
            "purpose": "Ремонт кровли",
            "payee": party("СтройСервис").pk,
        },
        files=[pdf("invoice", "invoice.pdf")],
    )
    assert story.status() == "on_approval"
    assert story.new_tasks() == [("cfo", "cfo", "cfo")]
    return story


@pytest.mark.parametrize("needed", [False, True], ids=["no-exec", "exec"])
def test_payment_is_approved_paid_and_the_act_provided(
    argo: Organisation, needed: bool
) -> None:
    story = payment()
    story.decide("cfo")
    assert story.new_tasks() == [("cfo_question", "exec_needed", "cfo")]
    # The answer is required.
    with pytest.raises(ValidationFailed) as refused:
        story.decide("cfo", "done")
    assert [p.field for p in refused.value.problems] == ["exec_director_needed"]
    story.decide("cfo", "done", fields={"exec_director_needed": needed})
    assert story.document.fields["exec_director_needed"] is needed
    if needed:
        assert story.new_tasks() == [("executive", "executive", "executive")]
        assert story.status() == "on_approval"
        story.decide("executive")
    assert story.new_tasks() == [("invoice", "pay", "accountant")]
    assert story.status() == "to_pay"
    assert dict(story.stages())["executive"] == ("done" if needed else "skipped")

    story.decide("accountant", "done")
    assert story.new_tasks() == [("act", "provide_act", "technician")]
    assert story.status() == "awaiting_act"
    # "done" without the act is refused; the initiator uploads it to the task.
    with pytest.raises(ValidationFailed) as refused:
        story.decide("technician", "done")
    assert [p.field for p in refused.value.problems] == ["act"]
    act = services.task_file_add(
        actor=user("technician"),
        task_id=story.task_of("technician").pk,
        upload=bytes_upload("act", "act.pdf", MINIMAL_PDF + b"%act"),
        field_key="act",
        meta=META,
    )
    assert DocumentFile.objects.get(document=story.document, field_key="act") == (
        act.file
    )
    story.decide("technician", "done")

    assert story.new_tasks() == []
    assert story.process.status == "approved"
    assert story.status() == "done"
    assert story.notifications() == [
        ("workflow.task_assigned", "cfo"),
        ("workflow.task_assigned", "cfo"),
        *([("workflow.task_assigned", "executive")] if needed else []),
        ("workflow.route_notice", "director"),  # the owner: role ceo
        ("workflow.task_assigned", "accountant"),
        ("workflow.task_assigned", "technician"),
        ("workflow.approved", "technician"),
    ]
    assert story.verbs() == [
        "document.created",
        "document.file_version_added",
        "process.started",
        "task.decided",
        "task.decided",
        "document.fields_changed",  # the exec_needed answer
        *["task.decided"] * (2 if needed else 1),
        "document.file_version_added",
        "task.decided",
        "process.finished",
    ]
    answered, provided = (
        AuditEvent.objects.get(
            document=story.document,
            verb="task.decided",
            payload__task=story.process.tasks.get(step_key=step).pk,
        ).payload
        for step in ("exec_needed", "provide_act")
    )
    assert answered["fields"] == {"exec_director_needed": needed}
    assert provided["files"] == {"act": act.sha256}


def test_the_cfo_rejects_and_the_initiator_is_told(argo: Organisation) -> None:
    story = payment()
    story.decide("cfo", "reject", comment="Нет бюджета")
    assert story.new_tasks() == []
    assert story.process.status == "rejected"
    assert story.status() == "rejected"
    assert story.notifications() == [
        ("workflow.task_assigned", "cfo"),
        ("workflow.rejected", "technician"),
    ]
    assert story.verbs()[-2:] == ["task.decided", "process.finished"]
