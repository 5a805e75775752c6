"""S5. Hiring (SCENARIOS.md).

HR starts it for a department; its head acts as the manager: documents, the
accountant's package, the tech specialist issues accesses and fills in ``email``,
the system invites the new person at that address, the office manager prepares the
workplace, the manager sets the start date. Success notifies HR.
"""

from __future__ import annotations

import pytest

from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification
from sogla.orgs.models import Organisation
from tests.scenarios.conftest import begin

pytestmark = pytest.mark.django_db


def test_hiring_an_engineer(argo: Organisation) -> None:
    story = begin(
        initiator="hr",
        doc_type="hiring",
        route="hiring",
        values={
            "candidate_name": "Петров Пётр Петрович",
            "department": "engineering",
            "position": "Инженер-теплотехник",
        },
    )
    assert story.status() == "in_work"
    # the head of the department chosen in the field acts as the manager
    assert story.new_tasks() == [("interview", "schedule", "engineer")]
    story.decide(
        "engineer",
        "done",
        fields={"interview_date": "2026-03-16", "interview_time": "11:30"},
    )
    interview = Notification.objects.get(
        document=story.document, kind="workflow.invitation"
    )
    assert interview.context["invite_start"] == "2026-03-16T11:30:00+03:00"
    assert story.new_tasks() == [("documents", "manager", "engineer")]
    story.decide("engineer", "done")
    assert story.new_tasks() == [("package", "accountant", "accountant")]
    story.decide("accountant", "done")
    assert story.new_tasks() == [("accesses", "tech", "it")]
    story.decide("it", "done", fields={"email": "p.petrov@argo.example"})
    assert story.document.fields["email"] == "p.petrov@argo.example"
    invitation = Notification.objects.get(
        document=story.document, recipient_email="p.petrov@argo.example"
    )
    assert invitation.kind == "workflow.route_notice"
    assert invitation.recipient_user is None
    assert story.new_tasks() == [("workplace", "office", "office")]
    story.decide("office", "done")
    assert story.new_tasks() == [("onboarding", "manager", "engineer")]
    story.decide("engineer", "done", fields={"start_date": "2026-04-01"})
    assert story.document.fields["start_date"] == "2026-04-01"

    assert story.new_tasks() == []
    assert story.process.status == "approved"
    assert story.status() == "done"
    assert story.stages() == [
        ("interview", "done"),
        ("documents", "done"),
        ("package", "done"),
        ("accesses", "done"),
        ("invitation", "done"),
        ("workplace", "done"),
        ("onboarding", "done"),
    ]
    assert story.notifications() == [
        ("workflow.task_assigned", "engineer"),
        ("workflow.invitation", "hr"),  # the candidate has no e-mail here
        ("workflow.task_assigned", "engineer"),
        ("workflow.task_assigned", "accountant"),
        ("workflow.task_assigned", "it"),
        ("workflow.route_notice", "p.petrov@argo.example"),
        ("workflow.task_assigned", "office"),
        ("workflow.task_assigned", "engineer"),
        ("workflow.route_notice", "hr"),  # on_finish: role hr
        ("workflow.approved", "hr"),
    ]
    assert story.verbs() == [
        "document.created",
        "process.started",
        "task.decided",
        "document.fields_changed",
        "process.invitation_sent",
        "process.notify_unresolved",
        *["task.decided"] * 3,
        "document.fields_changed",
        *["task.decided"] * 2,
        "document.fields_changed",
        "process.finished",
    ]
    email_decision = AuditEvent.objects.get(
        document=story.document,
        verb="task.decided",
        payload__task=story.process.tasks.get(stage_key="accesses").pk,
    )
    assert email_decision.payload["fields"] == {"email": "p.petrov@argo.example"}
    unresolved = AuditEvent.objects.get(
        document=story.document, verb="process.notify_unresolved"
    )
    assert unresolved.payload["target"] == "field:candidate_email"
