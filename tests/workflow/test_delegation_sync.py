"""Delegation moves tasks already open to the deputy and back when it ends, through
the one pipeline; concurrent decisions are never lost; tenants stay apart."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from sogla.core.errors import NotFound, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification
from sogla.orgs.delegations import delegation_cancel, delegation_set
from sogla.orgs.models import Delegation, User
from sogla.orgs.tokens import api_token_create
from sogla.workflow.models import Process, Task, TaskState
from sogla.workflow.services import delegations_sync, delegations_sync_due
from tests.conftest import Tenant, make_tenant
from tests.factories import UserFactory
from tests.workflow.conftest import (
    approve,
    decide,
    make_document,
    publish,
    route,
    stage,
    start,
)
from tests.workflow.test_races import on_race_database, run_race


def _setup(tenant: Tenant) -> tuple[User, User, Process]:
    away = UserFactory(
        organisation=tenant.org,
        username=f"{tenant.org.slug}-away",
        first_name="Anna",
        last_name="Petrova",
    )
    deputy = UserFactory(organisation=tenant.org, username=f"{tenant.org.slug}-deputy")
    template = publish(
        tenant,
        route(stage("one", approve("a", {"user": away.username}))),
        key="away-route",
        owner=tenant.colleague,
    )
    process = start(tenant, template, make_document(tenant))
    return away, deputy, process


def _open(process: Process) -> list[Task]:
    return list(Task.objects.filter(process=process, state=TaskState.OPEN))


def _today() -> Any:
    return timezone.localdate()


def test_open_tasks_move_to_the_deputy_and_come_back(tenant_a: Tenant) -> None:
    away, deputy, process = _setup(tenant_a)
    [before] = _open(process)
    assert before.assignee == away
    client = Client()
    client.force_login(away)
    assert client.get("/away/").status_code == 200
    today = _today()
    response = client.post(
        "/away/",
        {
            "person": away.pk,
            "deputy": deputy.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=3)).isoformat(),
            "reason": "vacation",
        },
    )
    assert response.status_code == 302
    [moved] = _open(process)
    assert moved.assignee == deputy
    assert moved.on_behalf_of == away
    assert moved.due_at == before.due_at
    before.refresh_from_db()
    assert before.state == TaskState.CANCELLED
    assert AuditEvent.objects.filter(
        verb="task.delegated", target_id=str(before.pk)
    ).exists()
    assert AuditEvent.objects.filter(verb="delegation.set").exists()

    # the deputy sees the banner and the task marked "for"
    deputy_client = Client()
    deputy_client.force_login(deputy)
    inbox = deputy_client.get("/inbox/").content.decode()
    assert f'data-standing-in="{away.pk}"' in inbox
    assert "Petrova A." in inbox
    # running it again moves nothing
    assert delegations_sync(tenant_a.org).delegated == 0

    delegation = Delegation.objects.get(from_user=away, cancelled_at=None)
    assert client.post(f"/away/{delegation.pk}/end/").status_code == 302
    [back] = _open(process)
    assert back.assignee == away
    assert back.on_behalf_of is None
    assert AuditEvent.objects.filter(
        verb="task.returned", target_id=str(moved.pk)
    ).exists()
    inbox = deputy_client.get("/inbox/").content.decode()
    assert "data-standing-in" not in inbox


def test_the_worker_starts_and_ends_periods(tenant_a: Tenant) -> None:
    away, deputy, process = _setup(tenant_a)
    today = _today()
    delegation_set(
        actor=tenant_a.admin,  # an administrator sets it for someone else
        person_id=away.pk,
        deputy_id=deputy.pk,
        starts_on=today + timedelta(days=1),
        ends_on=today + timedelta(days=1),
    )
    delegations_sync_due()
    assert _open(process)[0].assignee == away  # not yet
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        assert delegations_sync_due().delegated == 1
        assert _open(process)[0].assignee == deputy
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        assert delegations_sync_due().returned == 1
    [back] = _open(process)
    assert back.assignee == away
    assert back.on_behalf_of is None


def test_deputy_decides_for_the_seat(tenant_a: Tenant) -> None:
    away, deputy, process = _setup(tenant_a)
    today = _today()
    delegation_set(
        actor=away,
        person_id=away.pk,
        deputy_id=deputy.pk,
        starts_on=today,
        ends_on=today,
    )
    delegations_sync(tenant_a.org)
    [task] = _open(process)
    decided = decide(deputy, task)
    assert decided.decided_by == deputy
    assert decided.on_behalf_of == away
    process.refresh_from_db()
    assert process.status == "approved"
    # nothing left to return when the period ends
    delegation_cancel(
        actor=away, delegation_id=Delegation.objects.get(from_user=away).pk
    )
    assert delegations_sync(tenant_a.org).returned == 0


def test_bad_periods_and_other_tenants_are_refused(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    away, deputy, process = _setup(tenant_a)
    today = _today()
    with pytest.raises(ValidationFailed) as error:
        delegation_set(
            actor=away,
            person_id=away.pk,
            deputy_id=away.pk,
            starts_on=today,
            ends_on=today,
        )
    assert error.value.problems[0].field == "deputy"
    with pytest.raises(ValidationFailed):
        delegation_set(
            actor=away,
            person_id=away.pk,
            deputy_id=deputy.pk,
            starts_on=today,
            ends_on=today - timedelta(days=1),
        )
    # a colleague (not an administrator) cannot set someone else's
    with pytest.raises(NotFound):
        delegation_set(
            actor=deputy,
            person_id=away.pk,
            deputy_id=deputy.pk,
            starts_on=today,
            ends_on=today,
        )
    # another organisation's deputy, person, delegation
    with pytest.raises(ValidationFailed):
        delegation_set(
            actor=away,
            person_id=away.pk,
            deputy_id=tenant_b.colleague.pk,
            starts_on=today,
            ends_on=today,
        )
    with pytest.raises(NotFound):
        delegation_set(
            actor=tenant_b.admin,
            person_id=away.pk,
            deputy_id=tenant_b.colleague.pk,
            starts_on=today,
            ends_on=today,
        )
    mine = delegation_set(
        actor=away,
        person_id=away.pk,
        deputy_id=deputy.pk,
        starts_on=today,
        ends_on=today,
    )
    with pytest.raises(NotFound):
        delegation_cancel(actor=tenant_b.admin, delegation_id=mine.pk)
    client = Client()
    client.force_login(tenant_b.admin)
    assert client.post(f"/away/{mine.pk}/end/").status_code == 404
    response = client.post(
        "/away/",
        {
            "person": away.pk,
            "deputy": tenant_b.colleague.pk,
            "starts_on": today,
            "ends_on": today,
        },
    )
    assert response.status_code == 400
    # B's sweep never touches A's tasks
    assert delegations_sync(tenant_b.org).delegated == 0
    assert _open(process)[0].assignee == away


def test_deactivation_ends_sessions_tokens_and_tells_the_route_owner(
    tenant_a: Tenant,
) -> None:
    away, _deputy, process = _setup(tenant_a)
    _token, raw = api_token_create(actor=away, name="1C")
    session = Client()
    session.force_login(away)
    assert session.get("/inbox/").status_code == 200
    admin = Client()
    admin.force_login(tenant_a.admin)
    assert admin.post(f"/accounts/people/{away.pk}/deactivate/").status_code == 302
    away.refresh_from_db()
    assert not away.is_active
    assert session.get("/inbox/").status_code == 302  # signed out
    api = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 401
    [notice] = Notification.objects.filter(kind="workflow.assignee_deactivated")
    assert notice.recipient_user == tenant_a.colleague  # the route's owner
    assert notice.context["task"] == _open(process)[0].pk
    tenant_a.colleague.language = "en"
    tenant_a.colleague.save(update_fields=["language"])
    owner = Client()
    owner.force_login(tenant_a.colleague)
    assert "was deactivated" in owner.get("/notifications/").content.decode()
    assert AuditEvent.objects.filter(
        verb="person.deactivated", target_id=str(away.pk)
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_delegation_under_a_concurrent_decision(tmp_path: Path) -> None:
    """The seat decides while their task is being moved: exactly one wins."""

    def body() -> list[str]:
        tenant = make_tenant("Deleg")
        outcomes = []
        for run in range(6):
            away, deputy, process = _setup_run(tenant, run)
            today = _today()
            Delegation.objects.create(
                organisation=tenant.org, from_user=away, to_user=deputy,
                starts_on=today, ends_on=today,
            )  # fmt: skip
            [task] = _open(process)

            def work(index: int, task: Task = task, away: User = away) -> Any:
                if index == 0:
                    return decide(away, task, request_id=uuid.uuid4().hex).state
                return delegations_sync(tenant.org).delegated

            results = run_race(2, work)
            assert all(kind != "error" for kind, _v in results), results
            decided = Task.objects.filter(process=process, state=TaskState.DONE)
            still_open = _open(process)
            if decided.exists():
                assert decided.get().decided_by == away
                assert still_open == []
                outcomes.append("decided first")
            else:
                assert [t.assignee for t in still_open] == [deputy]
                assert [kind for kind, _v in results].count("closed") == 1, results
                outcomes.append("moved first")
        return outcomes

    outcomes = on_race_database(body, tmp_path)
    assert len(outcomes) == 6


def _setup_run(tenant: Tenant, run: int) -> tuple[User, User, Process]:
    away = UserFactory(organisation=tenant.org, username=f"d{run}-away")
    deputy = UserFactory(organisation=tenant.org, username=f"d{run}-deputy")
    template = publish(
        tenant,
        route(stage("one", approve("a", {"user": away.username}))),
        key=f"r{run}",
    )
    return away, deputy, start(tenant, template, make_document(tenant))
