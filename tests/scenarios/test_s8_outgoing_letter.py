"""S8. Outgoing correspondence (SCENARIOS.md).

The executor checks the letter and approves sending (status "sent"); the process
waits until the control date (a ``wait`` timer the worker fires with
``timers_fire_due``), then the executor is asked whether the recipient reacted and
records the outcome, and the process ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sogla.orgs.models import Organisation
from sogla.workflow import services
from sogla.workflow.models import Timer
from tests.scenarios.conftest import begin, party, pdf, user

pytestmark = pytest.mark.django_db
MOSCOW = ZoneInfo("Europe/Moscow")


def test_the_letter_waits_for_the_control_date_then_the_outcome_is_recorded(
    argo: Organisation,
) -> None:
    today = timezone.localdate(timezone=MOSCOW)
    control = today + timedelta(days=14)
    story = begin(
        initiator="office",
        doc_type="outgoing_letter",
        route="outgoing-letter",
        values={
            "sender_entity": "hotel",
            "recipient": party("Балтийские").pk,
            "summary": "Предложение о групповом размещении",
            "document_date": today.isoformat(),
            "control_date": control.isoformat(),
            "executor": user("manager").pk,
        },
        files=[pdf("letter_file", "letter.pdf")],
    )
    assert story.status() == "on_approval"
    assert story.new_tasks() == [("check", "executor", "manager")]
    story.decide("manager")
    assert story.new_tasks() == []
    assert story.status() == "sent"
    assert story.stages() == [("check", "done"), ("waiting", "open")]
    wait = Timer.objects.get(process=story.process, kind="wait")
    # the end of the control date's working day in the organisation's zone
    assert wait.due_at == datetime.combine(
        control, datetime.min.time().replace(hour=18), tzinfo=MOSCOW
    )
    assert wait.state == "pending"

    # The worker's run the day before the control date leaves it waiting.
    services.timers_fire_due(now=wait.due_at - timedelta(days=1), limit=1000)
    wait.refresh_from_db()
    assert wait.state == "pending"
    story.refresh()
    assert story.new_tasks() == []
    assert story.stages() == [("check", "done"), ("waiting", "open")]

    # After the control date it fires: the executor is asked for the outcome.
    services.timers_fire_due(now=wait.due_at + timedelta(minutes=1), limit=1000)
    wait.refresh_from_db()
    assert wait.state == "fired"
    assert services.timer_fire(timer_id=wait.pk) is False  # once only
    story.refresh()
    assert story.new_tasks() == [("outcome", "record_outcome", "manager")]
    assert story.stages() == [
        ("check", "done"),
        ("waiting", "done"),
        ("outcome", "open"),
    ]
    story.decide("manager", "done", fields={"outcome": "Получатель согласился"})

    assert story.new_tasks() == []
    assert story.process.status == "approved"
    assert story.status() == "done"
    assert story.document.fields["outcome"] == "Получатель согласился"
    assert not Timer.objects.filter(process=story.process, state="pending").exists()
    assert story.notifications() == [
        ("workflow.task_assigned", "manager"),
        ("workflow.task_assigned", "manager"),
        ("workflow.approved", "office"),
    ]
    assert story.verbs() == [
        "document.created",
        "document.file_version_added",
        "process.started",
        "task.decided",
        "task.decided",
        "document.fields_changed",
        "process.finished",
    ]
