"""S7. Incoming correspondence (SCENARIOS.md).

Routing by the sender's category: a government body goes to the general director
(resolution, co-executors), then the lawyer, then the responsible person with the
co-executors; a tenant goes straight to the responsible person and the director.
Every task is due on the control date (end of the working day in Moscow). The
letter is filed into the counterparty's folder in the responsible person's
department folder.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sogla.orgs.models import Organisation
from sogla.workflow.models import Task
from tests.scenarios.conftest import Story, begin, party, pdf, user

pytestmark = pytest.mark.django_db
CONTROL_DUE = datetime(2026, 3, 20, 18, 0, tzinfo=ZoneInfo("Europe/Moscow"))


def letter(sender: str, responsible: str) -> Story:
    story = begin(
        initiator="office",
        doc_type="incoming_letter",
        route="incoming-letter",
        values={
            "addressee_entity": "hotel",
            "sender": party(sender).pk,
            "sender_number": "78-01/1234",
            "summary": "Предписание о проверке",
            "received_date": "2026-03-02",
            "control_date": "2026-03-20",
            "responsible": user(responsible).pk,
        },
        files=[pdf("letter_file", "letter.pdf")],
    )
    assert story.status() == "in_work"
    return story


def assert_due_on_the_control_date(story: Story) -> None:
    dues = set(
        Task.objects.filter(process=story.process).values_list("due_at", flat=True)
    )
    assert dues == {CONTROL_DUE}


def test_a_government_letter_goes_to_the_director_lawyer_and_executors(
    argo: Organisation,
) -> None:
    story = letter("Роспотребнадзор", "engineer")
    assert story.new_tasks() == [("resolution", "ceo", "director")]
    story.decide(
        "director",
        "done",
        fields={
            "resolution": "Подготовить ответ до 20.03",
            "co_executors": [user("technician").pk],
        },
    )
    assert story.document.fields["resolution"] == "Подготовить ответ до 20.03"
    assert story.document.fields["co_executors"] == [user("technician").pk]
    assert story.new_tasks() == [("legal", "lawyer", "lawyer")]
    story.decide("lawyer", "done")
    # the responsible person and the co-executor the director added
    assert story.new_tasks() == [
        ("execution", "responsible", "engineer"),
        ("execution", "co_executors", "technician"),
    ]
    story.decide("engineer", "done")
    assert story.process.status == "running"
    story.decide("technician", "done")

    assert story.process.status == "approved"
    assert story.status() == "answered"
    assert_due_on_the_control_date(story)
    path = "Инженерная служба/Контрагенты/Управление Роспотребнадзора по г. Санкт-Петербургу"
    assert story.document.folder is not None
    assert story.document.folder.path == path
    sender = party("Роспотребнадзор")
    assert sender.folder is not None
    assert sender.folder.path == path
    assert story.notifications() == [
        ("workflow.task_assigned", "director"),
        ("workflow.task_assigned", "lawyer"),
        ("workflow.task_assigned", "engineer"),
        ("workflow.task_assigned", "technician"),
        ("workflow.approved", "office"),
    ]
    assert story.verbs() == [
        "document.created",
        "document.file_version_added",
        "process.started",
        "task.decided",
        "document.fields_changed",
        *["task.decided"] * 3,
        "process.finished",
        "process.filed",
    ]


def test_a_tenants_letter_goes_to_the_responsible_person_and_the_director(
    argo: Organisation,
) -> None:
    story = letter("Лофт", "manager")
    assert story.new_tasks() == [
        ("execution", "responsible", "manager"),
        ("execution", "director", "executive"),
    ]
    assert story.stages()[:2] == [("resolution", "skipped"), ("legal", "skipped")]
    story.decide("manager", "done")
    story.decide("executive", "done")

    assert story.new_tasks() == []
    assert story.process.status == "approved"
    assert story.status() == "answered"
    assert_due_on_the_control_date(story)
    path = "Отдел продаж/Контрагенты/ООО «Лофт Диджитал»"
    assert story.document.folder is not None
    assert story.document.folder.path == path
    tenant = party("Лофт")
    assert tenant.folder is not None
    assert tenant.folder.path == path
    assert story.notifications() == [
        ("workflow.task_assigned", "manager"),
        ("workflow.task_assigned", "executive"),
        ("workflow.approved", "office"),
    ]
    assert story.verbs() == [
        "document.created",
        "document.file_version_added",
        "process.started",
        "task.decided",
        "task.decided",
        "process.finished",
        "process.filed",
    ]
