"""Two workers race over the same due timers while people decide (T40, T47 parts).

Real threads with their own connections: on PostgreSQL the test database, on SQLite
a migrated file database (WAL, IMMEDIATE transactions), as in ``test_races``. Two
sweepers fire the due deadlines, reminders and escalations of 40 processes while a
third thread decides half of the tasks. Every timer must fire at most once, every
overdue task be marked and escalated exactly once, and no decided task escalated
after its decision.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from sogla.core.models import AuditEvent
from sogla.workflow.models import Task, TaskState, Timer, TimerState
from sogla.workflow.services import timers_fire_due
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
from tests.workflow.test_races import on_race_database

# A stress test (races with real threads): `make test-fast` and `-m "not slow"` leave it out.
pytestmark = pytest.mark.slow

PROCESSES = 40


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_a_decider_fire_every_timer_once(tmp_path: Path) -> None:
    on_race_database(race, tmp_path)


def race() -> None:
    tenant = make_tenant("Timers")
    boss = UserFactory(organisation=tenant.org, username="timers-boss")
    lawyer = UserFactory(
        organisation=tenant.org, username="timers-lawyer", manager=boss
    )
    template = publish(
        tenant,
        route(
            stage("legal", approve("l", {"user": lawyer.username}, due={"hours": 1})),
            stage("final", approve("f", {"user": tenant.colleague.username})),
            escalate_after={"hours": 1},
        ),
    )
    processes = [
        start(tenant, template, make_document(tenant)) for _ in range(PROCESSES)
    ]
    to_decide = [
        Task.objects.get(process=p, state=TaskState.OPEN).pk for p in processes[::2]
    ]
    later = timezone.now() + timedelta(
        days=30
    )  # past one working hour and its escalation
    barrier = threading.Barrier(3)
    fired: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def sweeper() -> None:
        total = 0
        try:
            barrier.wait()
            idle = 0
            while idle < 2:  # escalations become due only after the deadlines fired
                count = timers_fire_due(now=later, limit=7)
                total += count
                idle = idle + 1 if count == 0 else 0
        # Blind on purpose: the main thread fails the test on what this thread caught.
        except Exception as error:  # noqa: BLE001
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()
        with lock:
            fired.append(total)

    def decider() -> None:
        try:
            barrier.wait()
            for task_id in to_decide:
                decide(lawyer, task_id)
        # Blind on purpose: the main thread fails the test on what this thread caught.
        except Exception as error:  # noqa: BLE001
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    threads.append(threading.Thread(target=decider))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    # Whatever a sweeper skipped because a decision held the process fires now.
    while timers_fire_due(now=later, limit=100):
        pass

    ids = [p.pk for p in processes]
    timers = Timer.objects.filter(process_id__in=ids)
    assert not timers.filter(state=TimerState.PENDING, due_at__lte=later).exists()
    per_timer = Counter(
        timers.filter(state=TimerState.FIRED).values_list("process_id", "engine_id")
    )
    assert max(per_timer.values()) == 1
    overdue = Counter(
        AuditEvent.objects.filter(
            verb="task.overdue", document__in=[p.document_id for p in processes]
        ).values_list("target_id", flat=True)
    )
    escalated = Counter(
        AuditEvent.objects.filter(
            verb="task.escalated", document__in=[p.document_id for p in processes]
        ).values_list("target_id", flat=True)
    )
    assert set(overdue.values()) <= {1}
    assert set(escalated.values()) <= {1}
    late = Task.objects.filter(process_id__in=ids, stage_key="legal", overdue=True)
    decided = Task.objects.filter(pk__in=to_decide)
    # Undecided tasks are all overdue and escalated once; decided ones were
    # escalated only if the deadline fired before the decision.
    undecided = Task.objects.filter(process_id__in=ids, stage_key="legal").exclude(
        pk__in=to_decide
    )
    assert {str(t.pk) for t in undecided} <= set(escalated)
    for task in decided:
        assert task.state == TaskState.DONE
        assert str(task.pk) not in escalated or task.overdue
    print(
        f"\nT40 race ({connection.vendor}): processes {PROCESSES}, timers fired "
        f"{sum(fired)} by two workers {sorted(fired)}, fired twice 0, overdue "
        f"{late.count()}, escalated {len(escalated)}, decided {len(to_decide)}"
    )
