"""Revision rounds (carry-over, isolation of old rounds), timers, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sogla.core.errors import PermissionDenied
from sogla.core.models import AuditEvent
from sogla.documents.services import NewFile, document_update_fields, file_add
from sogla.documents.uploads import bytes_upload
from sogla.notifications.models import Notification
from sogla.orgs.models import User
from sogla.workflow import selectors, services
from sogla.workflow.errors import TaskClosed, WorkflowError
from sogla.workflow.models import Process, Task, TaskState, Timer
from tests.conftest import MINIMAL_PDF, Tenant
from tests.workflow.conftest import (
    META,
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


def revision_route(people: dict[str, User], reask: str) -> dict:
    return route(
        stage("manager", approve("m", {"manager_of": "initiator"})),
        stage(
            "checks",
            approve("lawyer", {"user": people["lawyer"].username}),
            approve("cfo", {"user": people["cfo"].username}),
        ),
        on_return={"restart": "first_stage", "reask": reask},
    )


def returned_process(tenant: Tenant, people: dict[str, User], reask: str) -> Process:
    template = publish(tenant, revision_route(people, reask))
    process = start(tenant, template, make_document(tenant))
    decide(people["head"], open_task(process, people["head"]))
    decide(people["cfo"], open_task(process, people["cfo"]))
    decide(
        people["lawyer"],
        open_task(process, people["lawyer"]),
        "return",
        comment="Fix 4.2",
    )
    process.refresh_from_db()
    return process


def test_return_then_resubmit_with_carry_over_on_the_same_files(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = returned_process(tenant_a, people, "not_approved")
    assert process.status == "revision"
    process.document.refresh_from_db()
    assert process.document.status.meaning == "draft"
    revision = Task.objects.get(process=process, state=TaskState.OPEN)
    assert (revision.assignee, revision.kind) == (tenant_a.initiator, "revision")
    assert Notification.objects.filter(
        kind="workflow.returned", recipient_user=tenant_a.initiator
    ).exists()
    # Fields can be edited while returned; only the initiator resubmits.
    document_update_fields(
        actor=tenant_a.initiator, document=process.document, values={"subject": "New"}
    )
    with pytest.raises(PermissionDenied):
        services.process_resubmit(actor=people["lawyer"], process=process, comment="x")
    services.process_resubmit(
        actor=tenant_a.initiator, process=process, comment="Fixed", meta=META
    )
    process.refresh_from_db()
    assert (process.status, process.round) == ("running", 2)
    carried = Task.objects.get(process=process, round=2, step_key="m")
    assert carried.state == TaskState.CARRIED_OVER
    assert carried.carried_from.startswith("r1:manager:m:")
    # The stage was done at once by the carry-over: checks asks again.
    assert open_task(process, people["lawyer"]).round == 2
    cfo_round2 = Task.objects.get(process=process, round=2, step_key="cfo")
    assert cfo_round2.state == TaskState.CARRIED_OVER
    amap = selectors.route_map(user=tenant_a.initiator, document=process.document)
    assert amap is not None
    assert amap.round == 2
    colours = {s.key: s.colour for s in amap.stages}
    assert colours == {"manager": "carried_over", "checks": "waiting"}
    assert AuditEvent.objects.filter(verb="process.resubmitted").count() == 1


def test_new_files_mean_everyone_is_asked_again(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = returned_process(tenant_a, people, "not_approved")
    file_add(
        actor=tenant_a.initiator,
        document=process.document,
        new=NewFile(bytes_upload("files", "v2.pdf", MINIMAL_PDF)),
    )
    services.process_resubmit(actor=tenant_a.initiator, process=process, comment="v2")
    round2 = Task.objects.filter(process=process, round=2)
    assert list(round2.values_list("step_key", "state")) == [("m", "open")]


def test_round_one_tasks_are_refused_in_round_two(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = returned_process(tenant_a, people, "all")
    old_lawyer = Task.objects.get(process=process, round=1, step_key="lawyer")
    old_head = Task.objects.get(process=process, round=1, step_key="m")
    services.process_resubmit(actor=tenant_a.initiator, process=process, comment="ok")
    with pytest.raises(TaskClosed):
        decide(people["lawyer"], old_lawyer, "approve")
    with pytest.raises(TaskClosed):
        decide(people["head"], old_head, "approve")
    head_task = open_task(process, people["head"])
    assert head_task.round == 2
    decide(people["head"], head_task)
    decide(people["cfo"], open_task(process, people["cfo"]))
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    process.refresh_from_db()
    assert process.status == "approved"
    # Round-1 evidence stays.
    assert (
        Task.objects.filter(process=process, round=1, state="done")
        .exclude(kind="revision")
        .count()
        == 3
    )


def test_resubmit_only_in_revision(tenant_a: Tenant, people: dict[str, User]) -> None:
    template = publish(tenant_a, revision_route(people, "all"))
    process = start(tenant_a, template, make_document(tenant_a))
    with pytest.raises(WorkflowError) as caught:
        services.process_resubmit(actor=tenant_a.initiator, process=process)
    assert caught.value.code == "process_not_in_revision"


def test_timers_fire_once_and_mark_tasks_overdue(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    template = publish(
        tenant_a,
        route(
            stage(
                "legal",
                approve("l", {"user": people["lawyer"].username}, due={"hours": 4}),
            )
        ),
    )
    process = start(tenant_a, template, make_document(tenant_a))
    kinds = set(Timer.objects.filter(process=process).values_list("kind", flat=True))
    assert kinds == {"due", "reminder"}
    later = timezone.now() + timedelta(days=30)  # past the 4 working hours, at any hour
    # the deadline and its reminder are both due: the deadline's firing cancels the
    # reminder when it comes first, else the late reminder fires silently
    assert services.timers_fire_due(now=later, limit=10) in (1, 2)
    assert services.timers_fire_due(now=later, limit=10) == 0
    task = open_task(process, people["lawyer"])
    assert task.overdue
    # the overdue notice goes to the assignee and to the initiator
    assert set(
        Notification.objects.filter(kind="workflow.overdue").values_list(
            "recipient_user", flat=True
        )
    ) == {people["lawyer"].pk, tenant_a.initiator.pk}
    # both were due at the sweep: the late reminder stays silent, the overdue speaks
    assert Notification.objects.filter(kind="workflow.reminder").count() == 0
    fired = Timer.objects.filter(process=process, kind="due").get()
    assert not services.timer_fire(timer_id=fired.pk, now=later)
    decide(people["lawyer"], task)
    assert not Timer.objects.filter(state="pending").exists()


# --- query counts ---------------------------------------------------------------------


def test_task_decide_runs_a_bounded_number_of_queries(
    tenant_a: Tenant, people: dict[str, User], django_assert_max_num_queries
) -> None:
    template = publish(
        tenant_a,
        route(
            stage(
                "checks",
                approve("lawyer", {"user": people["lawyer"].username}),
                approve("cfo", {"user": people["cfo"].username}),
            ),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
        ),
    )
    process = start(tenant_a, template, make_document(tenant_a))
    lawyer_task = open_task(process, people["lawyer"])
    cfo_task = open_task(process, people["cfo"])
    services.organisation_calendar(tenant_a.org)
    with django_assert_max_num_queries(20):
        decide(people["lawyer"], lawyer_task)
    with django_assert_max_num_queries(30):  # finishes the stage, opens the next
        decide(people["cfo"], cfo_task)


def make_tasks(tenant: Tenant, user: User, count: int) -> None:
    template = publish(
        tenant,
        route(stage("s", approve("a", {"user": user.username}, due={"hours": 8}))),
        key=f"r-{count}",
    )
    for _ in range(count):
        start(tenant, template, make_document(tenant))


def test_inbox_is_one_query_whatever_the_number_of_tasks(
    tenant_a: Tenant, django_assert_num_queries
) -> None:
    small = person(tenant_a, "small")
    large = person(tenant_a, "large")
    make_tasks(tenant_a, small, 5)
    make_tasks(tenant_a, large, 30)
    for user, expected in ((small, 5), (large, 25)):
        with django_assert_num_queries(1):
            page = selectors.task_list_for_user(user=user, tab="mine")
        assert len(page.items) == expected
        with django_assert_num_queries(1):
            counts = selectors.task_counts_for_user(user=user)
        assert counts.mine == (5 if user == small else 30)
    page = selectors.task_list_for_user(user=large, tab="mine")
    rest = selectors.task_list_for_user(
        user=large, tab="mine", cursor=page.next_cursor or ""
    )
    assert len(rest.items) == 5
    assert rest.next_cursor is None
    ids = [t.pk for t in page.items + rest.items]
    assert len(set(ids)) == 30
    dues = [t.due_at for t in page.items + rest.items]
    assert dues == sorted(dues)
    started = selectors.task_list_for_user(user=tenant_a.initiator, tab="started")
    assert len(started.items) == 25


def test_route_map_queries_do_not_grow_with_participants(
    tenant_a: Tenant, django_assert_num_queries
) -> None:
    def build(count: int) -> tuple[Process, int]:
        members = [person(tenant_a, f"p{count}-{i}") for i in range(count)]
        steps = [approve(f"s{i}", {"user": u.username}) for i, u in enumerate(members)]
        template = publish(
            tenant_a,
            route(
                stage("all", *steps), stage("end", approve("e", {"initiator": True}))
            ),
            key=f"map-{count}",
        )
        process = start(tenant_a, template, make_document(tenant_a))
        decide(members[0], open_task(process, members[0]))
        return process, count

    counts = []
    for n in (3, 15):
        process, _n = build(n)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            amap = selectors.route_map(
                user=tenant_a.initiator, document=process.document
            )
        assert amap is not None
        assert sum(len(s.tasks) for s in amap.stages[0].steps) == n
        assert [t.colour for t in amap.stages[0].steps[0].tasks] == ["done"]
        assert amap.stages[0].colour == "waiting"
        assert amap.stages[1].colour == "not_started"
        assert len(amap.waiting) == n - 1
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 5


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
            publish(tenant_a, route(*stages), key=key),
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
