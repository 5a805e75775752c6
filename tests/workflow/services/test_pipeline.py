"""What a command costs through the pipeline: the statements of the reference
decisions, pinned exactly, and bounds that do not grow with the route.

The reference process is the one ``bench/engine.py`` runs and ``docs/benchmarks.md``
counts: manager -> three parallel approvers -> deputy -> CEO (only when the amount
is over 1,000,000). A change that adds a statement to a decision fails here, on
SQLite and on PostgreSQL alike; a change that saves one updates the numbers below
and the table in ``docs/benchmarks.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from sogla.engine.states import Participant
from sogla.orgs.models import User
from sogla.workflow import services
from sogla.workflow.models import Process, Task, TaskState
from tests.conftest import Tenant
from tests.workflow.conftest import (
    approve,
    decide,
    make_document,
    open_task,
    person,
    publish,
    route,
    stage,
    start,
)

pytestmark = pytest.mark.django_db


def test_task_decide_runs_a_bounded_number_of_queries(
    tenant_a: Tenant,
    people: dict[str, User],
    running: Process,
    django_assert_max_num_queries,
) -> None:
    process = running
    lawyer_task = open_task(process, people["lawyer"])
    cfo_task = open_task(process, people["cfo"])
    services.organisation_calendar(tenant_a.org)
    with django_assert_max_num_queries(20):
        decide(people["lawyer"], lawyer_task)
    with django_assert_max_num_queries(30):  # finishes the stage, opens the next
        decide(people["cfo"], cfo_task)


def test_a_decision_costs_the_same_on_the_last_of_100_stages(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    """The repository loads the current stage only: equal query counts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def chain(count: int, key: str) -> Process:
        stages = [
            stage(f"s{i}", approve("a", {"user": people["lawyer"].username}))
            for i in range(count)
        ]
        return start(
            tenant_a,
            # the same person at every stage: "keep" asks them each time
            publish(tenant_a, route(*stages, duplicates="keep"), key=key),
            make_document(tenant_a),
        )

    services.organisation_calendar(tenant_a.org)
    short = chain(5, "short")
    with CaptureQueriesContext(connection) as first:
        decide(people["lawyer"], open_task(short, people["lawyer"]))
    long = chain(100, "long")
    for _ in range(99):
        decide(people["lawyer"], open_task(long, people["lawyer"]))
    with CaptureQueriesContext(connection) as last:
        decide(people["lawyer"], open_task(long, people["lawyer"]))
    long.refresh_from_db()
    assert long.status == "approved"

    # The last decision also finishes the process (status, notice, audit): compare
    # the reads, which is where a whole-history load would show.
    def reads(ctx: CaptureQueriesContext) -> int:
        return sum(
            q["sql"].lstrip().upper().startswith("SELECT") for q in ctx.captured_queries
        )

    print(f"\nqueries: first of 5 stages {len(first)}, last of 100 stages {len(last)}")
    assert reads(last) <= reads(first) + 2


# Statements per decision, as the benchmark's table counts them (a transaction of
# its own: BEGIN ... COMMIT, not a savepoint). Before the pipeline split they were
# 19, 10, 10, 17, 17, 14: since then the document is read with the process's rows
# (one UNION ALL), a stage's approvers named by username are read together, and a
# status comes from the tenant cache.
REFERENCE = {
    "manager": 16,  # closes its stage, opens the three approvers' tasks
    "a1": 9,  # closes its step, not the stage
    "a2": 9,
    "a3": 16,  # closes the stage, opens the deputy's task
    "deputy": 16,  # opens the CEO's task
    "ceo": 12,  # finishes the process
}
# On PostgreSQL fewer round trips: the process's compare-and-set, the runs'
# UPDATEs and the new runs' INSERTs are one statement (``repository._run_updates``),
# and so are the audit chain head's compare-and-set and the event's INSERT
# (``core.audit``).
REFERENCE_POSTGRESQL = {
    # BEGIN, lock, state, the assignees and their delegations, CAS with the stage's
    # UPDATE and the new stage's, steps' and tasks' INSERTs, audit head with the
    # events and the outbox rows, COMMIT
    "manager": 8,
    "a1": 6,  # BEGIN, lock, state, CAS with step and task, audit head with event, COMMIT
    "a2": 6,
    "a3": 8,
    "deputy": 8,
    "ceo": 7,  # CAS with stage, step and task; status; audit with the outbox
}


def statements(key: str) -> int:
    from django.db import connection

    if connection.vendor == "postgresql":
        return REFERENCE_POSTGRESQL[key]
    return REFERENCE[key]


def reference_route(names: dict[str, str]) -> dict[str, Any]:
    return route(
        stage("manager", approve("manager", {"manager_of": "initiator"})),
        stage(
            "approvers",
            *(approve(key, {"user": names[key]}) for key in ("a1", "a2", "a3")),
        ),
        stage("deputy", approve("deputy", {"user": names["deputy"]})),
        stage(
            "ceo",
            approve("ceo", {"user": names["ceo"]}),
            when={"field": "amount", "op": "gt", "value": 1000000},
        ),
    )


def open_tasks(process: Process) -> list[Task]:
    return list(
        Task.objects.filter(process=process, state=TaskState.OPEN)
        .select_related("assignee")
        .order_by("id")
    )


@pytest.mark.django_db(transaction=True)
def test_the_six_reference_decisions_cost_what_the_benchmark_says(
    tenant_a: Tenant,
    django_assert_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    people: dict[str, User] = {
        key: person(tenant_a, key) for key in ("a1", "a2", "a3", "deputy", "ceo")
    }
    template = publish(
        tenant_a, reference_route({k: u.username for k, u in people.items()})
    )
    steps = {u.pk: key for key, u in people.items()}

    def run(*, counted: bool) -> list[str]:
        document = make_document(tenant_a, amount="2500000.00")
        process = start(tenant_a, template, document)
        order = []
        while tasks := open_tasks(process):
            for task in tasks:
                assert task.assignee is not None  # loaded with the task
                key = steps.get(task.assignee.pk, "manager")
                order.append(key)
                if counted:
                    with django_assert_num_queries(statements(key)):
                        decide(task.assignee, task)
                else:
                    decide(task.assignee, task)
        process.refresh_from_db()
        assert process.status == "approved"
        return order

    # The first process fills the per-process caches (route definition, calendar)
    # as the benchmark's throughput run does before it counts.
    run(counted=False)
    assert run(counted=True) == list(REFERENCE)


def test_a_lost_compare_and_set_is_retried_once_then_refused() -> None:
    from sogla.workflow.errors import ProcessConflict
    from sogla.workflow.repository import ConcurrentUpdate
    from sogla.workflow.services.pipeline import with_retry

    calls: list[int] = []

    def lost(times: int) -> str:
        calls.append(1)
        if len(calls) <= times:
            raise ConcurrentUpdate("changed meanwhile")
        return "saved"

    assert with_retry(lambda: lost(1)) == "saved"
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(ProcessConflict):
        with_retry(lambda: lost(2))
    assert len(calls) == 2


def test_a_lost_compare_and_set_writes_none_of_the_new_runs(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    """``repository.save`` of a decision opening the next stage, after someone else
    wrote the process: ``ConcurrentUpdate``, and neither the runs' UPDATEs nor the
    new stage's rows went in (on PostgreSQL they share the compare-and-set's
    statement, guarded by it)."""
    from django.db.models import F

    from sogla.engine.commands import Decide
    from sogla.engine.run import handle
    from sogla.workflow import repository
    from sogla.workflow.models import StageRun, StepRun
    from sogla.workflow.repository import ConcurrentUpdate
    from sogla.workflow.services.pipeline import command_context
    from tests.workflow.conftest import three_stages

    process = start(
        tenant_a, publish(tenant_a, three_stages(people)), make_document(tenant_a)
    )
    head = people["head"]
    task = open_task(process, head)
    loaded = repository.load(
        Process.objects.select_related("route_version").get(pk=process.pk),
        task_id=task.engine_id,
    )
    decision = Decide(task.engine_id, Participant.user(head.pk), "approve")
    result = handle(loaded.definition, loaded.state, decision, command_context(loaded))
    assert len(result.state.tasks) > len(loaded.state.tasks)  # it opens a stage

    def rows() -> tuple[int, int, int, list[str]]:
        return (
            StageRun.objects.filter(process=process).count(),
            StepRun.objects.filter(process=process).count(),
            Task.objects.filter(process=process).count(),
            list(Task.objects.filter(process=process).values_list("state", flat=True)),
        )

    before = rows()
    Process.objects.filter(pk=process.pk).update(version=F("version") + 1)
    with pytest.raises(ConcurrentUpdate):
        repository.save(loaded, result.state)
    assert rows() == before

    # with the version it read, the same save writes them all
    Process.objects.filter(pk=process.pk).update(version=F("version") - 1)
    pks = repository.save(loaded, result.state)
    written = dict(Task.objects.filter(process=process).values_list("engine_id", "pk"))
    assert pks == written  # each run knows its own row's id
    assert set(written) == set(result.state.tasks)
    steps = StepRun.objects.filter(process=process)
    assert steps.count() == len(result.state.steps)
    assert set(loaded.step_pks.values()) == set(steps.values_list("pk", flat=True))
