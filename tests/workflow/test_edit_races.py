"""An edit of a running round racing a decision on the same stage (issue 11).

Each run starts a process whose first step asks X and Y (Y added by an edit), then
releases two threads at once: X approves, and an administrator takes X off the step.
Exactly one wins: either X's decision stands and the removal is refused ("no
pending task"), or X is removed (task closed, told) and the decision is refused
("Task already closed"). Nothing half-applied: the removal's audit event and notice
exist exactly when X's task was closed as removed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification
from sogla.workflow import services
from sogla.workflow.errors import WorkflowError
from sogla.workflow.models import Task, TaskState
from tests.conftest import make_tenant
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

pytestmark = pytest.mark.slow

RUNS = 10


@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_a_decision_one_wins_nothing_half_applied(
    tmp_path: Path,
) -> None:
    on_race_database(race, tmp_path)


def race() -> None:
    tenant = make_tenant("EditRace")
    x = UserFactory(organisation=tenant.org, username="edit-x")
    y = UserFactory(organisation=tenant.org, username="edit-y")
    z = UserFactory(organisation=tenant.org, username="edit-z")
    template = publish(
        tenant,
        route(
            stage("checks", approve("s", {"user": x.username})),
            stage("final", approve("z", {"user": z.username})),
        ),
    )
    wins: Counter[str] = Counter()
    done_removals = 0
    for _run in range(RUNS):
        process = start(tenant, template, make_document(tenant))
        services.step_edit(
            actor=tenant.admin, process=process, stage="checks", step="s", add=[y]
        )
        x_task = Task.objects.get(process=process, assignee=x, state=TaskState.OPEN)

        def work(index: int, task_pk: int = x_task.pk, process: Any = process) -> str:
            if index == 0:
                decide(x, task_pk, request_id=uuid.uuid4().hex)
                return "decided"
            try:
                services.step_edit(
                    actor=tenant.admin, process=process, stage="checks", step="s",
                    remove=[x],
                )  # fmt: skip
            except WorkflowError as refused:  # not pending any more, or a conflict
                return f"edit refused: {refused.code}"
            return "removed"

        results = run_race(2, work)
        assert [r for r in results if r[0] == "error"] == [], results
        ok = [value for kind, value in results if kind == "ok"]
        x_task.refresh_from_db()
        removals = AuditEvent.objects.filter(
            verb="process.participants_changed", payload__removed=[x.pk]
        ).count()
        told = Notification.objects.filter(
            kind="workflow.task_removed", recipient_user=x, document=process.document
        ).count()
        if "decided" in ok:
            wins["decision"] += 1
            assert "edit refused: not_pending" in ok, results
            assert x_task.state == TaskState.DONE
            assert told == 0
            assert removals == done_removals
        else:
            wins["edit"] += 1
            assert ok == ["removed"], results
            assert [kind for kind, _v in results] == ["ok", "closed"] or [
                kind for kind, _v in results
            ] == ["closed", "ok"], results
            assert x_task.state == TaskState.CANCELLED
            assert x_task.closed_reason == "removed"
            assert told == 1
            assert removals == done_removals + 1
        done_removals = removals
        assert (
            Task.objects.filter(process=process, assignee=y, state="open").count() == 1
        )
    print(f"\nedit race: {dict(wins)} of {RUNS}")
    assert sum(wins.values()) == RUNS
