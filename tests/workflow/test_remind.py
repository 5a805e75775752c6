"""The initiator reminds the people an approval waits on: once a day each, only
those with an open task; the web button and the API do the same."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from sogla.core.errors import PermissionDenied
from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification
from sogla.orgs.models import User
from sogla.orgs.tokens import api_token_create
from sogla.workflow import services
from sogla.workflow.errors import WorkflowError
from sogla.workflow.models import Process
from tests.conftest import Tenant
from tests.workflow.conftest import (
    META,
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


@pytest.fixture
def running(tenant_a: Tenant, people: dict[str, User]) -> Process:
    template = publish(
        tenant_a,
        route(
            stage(
                "checks",
                approve("l", {"user": people["lawyer"].username}),
                approve("c", {"user": people["cfo"].username}),
            )
        ),
    )
    process = start(tenant_a, template, make_document(tenant_a))
    decide(people["cfo"], open_task(process, people["cfo"]))
    return process


def nudged() -> list[str]:
    return sorted(
        n.recipient_user.username
        for n in Notification.objects.filter(kind="workflow.nudge").select_related(
            "recipient_user"
        )
    )


def test_only_pending_people_are_reminded_once_a_day(
    tenant_a: Tenant, people: dict[str, User], running: Process
) -> None:
    with time_machine.travel("2026-03-02 10:00 +03:00", tick=False):
        assert (
            services.process_remind(
                actor=tenant_a.initiator, process=running, meta=META
            )
            == 1
        )
        assert services.process_remind(actor=tenant_a.initiator, process=running) == 0
    assert nudged() == [people["lawyer"].username]  # not the CFO, who decided
    with time_machine.travel("2026-03-03 10:00 +03:00", tick=False):
        assert services.process_remind(actor=tenant_a.initiator, process=running) == 1
    assert len(nudged()) == 2
    assert AuditEvent.objects.filter(verb="process.reminded").count() == 2


def test_others_and_finished_approvals_are_refused(
    tenant_a: Tenant, people: dict[str, User], running: Process
) -> None:
    with pytest.raises(PermissionDenied):
        services.process_remind(actor=tenant_a.colleague, process=running)
    decide(people["lawyer"], open_task(running, people["lawyer"]))
    with pytest.raises(WorkflowError):
        services.process_remind(actor=tenant_a.initiator, process=running)
    assert nudged() == []
    assert AuditEvent.objects.filter(verb="process.command_refused").count() == 2


def test_the_card_button_and_the_api(
    tenant_a: Tenant, people: dict[str, User], running: Process
) -> None:
    client = Client()
    client.force_login(tenant_a.initiator)
    card = client.get(f"/documents/{running.document_id}/").content.decode()
    assert f"/documents/{running.document_id}/approval/remind/" in card
    page = client.post(
        f"/documents/{running.document_id}/approval/remind/", follow=True
    ).content.decode()
    assert nudged() == [people["lawyer"].username]
    assert "1" in page
    _, raw = api_token_create(actor=tenant_a.initiator, name="t")
    answer = Client().post(
        f"/api/v1/processes/{running.pk}/remind",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert answer.status_code == 200
    assert answer.json() == {"reminded": 0}  # already reminded today
    # Not the initiator's button on someone else's card.
    other = Client()
    other.force_login(people["lawyer"])
    assert (
        "/approval/remind/"
        not in other.get(f"/documents/{running.document_id}/").content.decode()
    )
