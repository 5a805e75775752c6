"""T01/T02: real threads with their own database connections race on the last tasks.

Each run starts a fresh process whose first stage has two open tasks (X and Y), then
releases several threads from a barrier: X and Y decide, and both also repeat their
decision (with the same request id, and with new ones). The next stage must open
exactly once, each task must hold one decision, and the only refusal allowed is
"Task already closed".
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections

from sogla.orgs.models import User
from sogla.workflow.errors import TaskClosed
from sogla.workflow.models import Process, StageRun, Task, TaskState
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

# A stress test (races with real threads): `make test-fast` and `-m "not slow"` leave it out.
pytestmark = pytest.mark.slow

RUNS = 30
THREADS = 8


def run_race(count: int, work: Callable[[int], Any]) -> list[tuple[str, Any]]:
    barrier = threading.Barrier(count)
    results: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            barrier.wait()
            outcome: tuple[str, Any] = ("ok", work(index))
        except TaskClosed as refused:
            outcome = ("closed", str(refused.message))
        # Blind on purpose: the main thread fails the test on what this thread caught.
        except Exception as error:  # noqa: BLE001
            outcome = ("error", f"{type(error).__name__}: {error}")
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def in_own_thread(body: Callable[[], Any]) -> Any:
    """Run ``body`` in a new thread (its own connection) and re-raise its error."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = body()
        # Blind on purpose: the main thread fails the test on what this thread caught.
        except BaseException as error:  # noqa: BLE001
            box["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=600)
    if "error" in box:
        raise box["error"]
    return box.get("value")


def on_race_database(body: Callable[[], Any], tmp_path: Path) -> Any:
    """PostgreSQL: the test database. SQLite: a migrated file database.

    pytest-django's SQLite test database lives in memory with a shared cache, where
    concurrent writers fail with "database table is locked" instead of waiting. A
    file database with WAL and IMMEDIATE transactions (the production settings) is
    what must behave like PostgreSQL, so the SQLite race runs there: new threads
    connect with patched settings; the main thread's connection is untouched.
    """
    if connection.vendor != "sqlite":
        return body()
    original = connections.settings[DEFAULT_DB_ALIAS]
    connections.settings[DEFAULT_DB_ALIAS] = {
        **original,
        "NAME": str(tmp_path / "race.sqlite3"),
    }
    try:

        def migrate_then_run() -> Any:
            call_command("migrate", verbosity=0, interactive=False)
            return body()

        return in_own_thread(migrate_then_run)
    finally:
        connections.settings[DEFAULT_DB_ALIAS] = original


def race_setup() -> tuple[Tenant, Any, dict[str, User]]:
    tenant = make_tenant("Race")
    x = UserFactory(organisation=tenant.org, username="race-x")
    y = UserFactory(organisation=tenant.org, username="race-y")
    z = UserFactory(organisation=tenant.org, username="race-z")
    template = publish(
        tenant,
        route(
            stage(
                "checks",
                approve("x", {"user": x.username}),
                approve("y", {"user": y.username}),
            ),
            stage("final", approve("z", {"user": z.username})),
        ),
    )
    return tenant, template, {"x": x, "y": y, "z": z}


@pytest.mark.django_db(transaction=True)
def test_t01_last_tasks_of_a_stage_open_the_next_stage_once(tmp_path: Path) -> None:
    on_race_database(t01, tmp_path)


def t01() -> None:
    tenant, template, people = race_setup()
    opened_once = duplicates = errors = closed = repeats = 0
    latencies: list[float] = []
    for _run in range(RUNS):
        process = start(tenant, template, make_document(tenant))
        tasks = {
            t.assignee_id: t.pk
            for t in Task.objects.filter(process=process, state=TaskState.OPEN)
        }
        shared = {who: uuid.uuid4().hex for who in ("x", "y")}

        def work(
            index: int,
            tasks: dict[int | None, int] = tasks,
            shared: dict[str, str] = shared,
        ) -> Any:
            who = "x" if index % 2 == 0 else "y"
            user = people[who]
            # Threads 0, 1 and 2, 3 share a request id (a double click); others retry.
            request_id = shared[who] if index < 4 else uuid.uuid4().hex
            began = time.perf_counter()
            task = decide(user, tasks[user.pk], request_id=request_id)
            return time.perf_counter() - began, task.request_id == request_id

        results = run_race(THREADS, work)
        kinds = Counter(kind for kind, _value in results)
        errors += kinds["error"]
        closed += kinds["closed"]
        repeats += sum(1 for kind, value in results if kind == "ok") - 2
        latencies.extend(value[0] for kind, value in results if kind == "ok")
        final_runs = StageRun.objects.filter(process=process, stage_key="final").count()
        final_tasks = Task.objects.filter(process=process, stage_key="final").count()
        decided = Task.objects.filter(
            process=process, stage_key="checks", state=TaskState.DONE
        ).count()
        events = Counter(
            Task.objects.filter(process=process, stage_key="checks").values_list(
                "state", flat=True
            )
        )
        if final_runs == 1 and final_tasks == 1:
            opened_once += 1
        duplicates += max(0, decided - 2) + events["open"]
        assert [r for r in results if r[0] == "error"] == []
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    print(
        f"\nT01 ({connection.vendor}): runs {RUNS}, threads {THREADS}, next stage opened "
        f"once {opened_once}/{RUNS}, duplicate votes {duplicates}, errors {errors}, "
        f"'already closed' refusals {closed}, idempotent repeats {repeats}, "
        f"p99 accepted decision {p99:.1f} ms"
    )
    assert opened_once == RUNS
    assert duplicates == 0
    assert errors == 0


@pytest.mark.django_db(transaction=True)
def test_t02_the_same_decision_twenty_times_counts_once(tmp_path: Path) -> None:
    on_race_database(t02, tmp_path)


def t02() -> None:
    tenant, template, people = race_setup()
    process = start(tenant, template, make_document(tenant))
    x = people["x"]
    task_pk = Task.objects.get(process=process, assignee=x).pk
    results = run_race(20, lambda _i: decide(x, task_pk, request_id="same-key").pk)
    kinds = Counter(kind for kind, _value in results)
    assert kinds == {"ok": 20}
    row = Task.objects.get(pk=task_pk)
    assert (row.state, row.request_id) == ("done", "same-key")
    from sogla.core.models import AuditEvent

    decided = AuditEvent.objects.filter(verb="task.decided", target_id=str(task_pk))
    assert decided.count() == 1
    with pytest.raises(TaskClosed):
        decide(x, task_pk, "reject", comment="no", request_id="other-key")
    print(
        f"\nT02 ({connection.vendor}): 20 parallel repeats -> decisions 1, "
        f"audit events 1, opposite decision refused"
    )
    assert Process.objects.get(pk=process.pk).version == 2
