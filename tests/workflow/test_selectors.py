"""Read models that must not grow with the data: the inbox and the route map."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sogla.orgs.models import User
from sogla.workflow import selectors
from sogla.workflow.models import Process
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
    assert dues == sorted(dues)  # type: ignore[type-var]  # every task here has a due date
    started = selectors.task_list_for_user(user=tenant_a.initiator, tab="started")
    assert len(started.items) == 25


def test_the_first_page_of_mine_read_compiled_once_is_the_page_the_tab_gives(
    tenant_a: Tenant, tenant_b: Tenant, django_assert_num_queries
) -> None:
    """``task_values_for_user``'s first page of "mine" runs a query compiled once
    (``core.prepared``) with the organisation's and the user's ids: the same rows,
    order and next cursor as the general path, delegated tasks included, nothing of
    another person or organisation."""
    from sogla.workflow.models import Task

    reader = person(tenant_a, "reader")
    away = person(tenant_a, "away")
    other = person(tenant_b, "other")
    make_tasks(tenant_a, reader, 4)
    make_tasks(tenant_a, away, 5)
    make_tasks(tenant_b, other, 2)
    held = Task.objects.filter(assignee=away).order_by("pk")[:2]
    Task.objects.filter(pk__in=[t.pk for t in held]).update(
        assignee=reader, on_behalf_of=away
    )  # the reader acts for away: both see them
    for user, limit in ((reader, 3), (reader, 50), (away, 50), (other, 50)):
        expected = selectors.task_list_for_user(user=user, tab="mine", limit=limit)
        for _twice in range(2):
            with django_assert_num_queries(1):
                page = selectors.task_values_for_user(
                    user=user, tab="mine", limit=limit
                )
            assert [t["id"] for t in page.items] == [t.pk for t in expected.items]
            assert page.next_cursor == expected.next_cursor
    assert len(selectors.task_values_for_user(user=reader, tab="mine").items) == 6
    assert len(selectors.task_values_for_user(user=away, tab="mine").items) == 5
    assert len(selectors.task_values_for_user(user=other, tab="mine").items) == 2


def test_navigation_counts_mine_overdue_started_and_acting(
    tenant_a: Tenant, tenant_b: Tenant, django_assert_num_queries
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from sogla.workflow.models import Task

    user = person(tenant_a, "counted")
    away = person(tenant_a, "away")
    make_tasks(tenant_a, user, 4)
    make_tasks(tenant_b, person(tenant_b, "other"), 2)  # another organisation
    mine = list(Task.objects.filter(assignee=user).order_by("pk"))
    Task.objects.filter(pk=mine[0].pk).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    Task.objects.filter(pk=mine[1].pk).update(overdue=True)
    Task.objects.filter(pk=mine[2].pk).update(on_behalf_of=away)  # user acts for away
    with django_assert_num_queries(1):
        counts = selectors.task_counts_for_user(user=user)
    assert (counts.mine, counts.overdue, counts.started, counts.acting) == (4, 2, 0, 1)
    held = selectors.task_counts_for_user(user=away)  # on behalf of: counted as mine
    assert (held.mine, held.acting) == (1, 0)
    started = selectors.task_counts_for_user(user=tenant_a.initiator)
    assert started.started == 4
    Task.objects.filter(pk=mine[3].pk).update(state="done")
    assert selectors.task_counts_for_user(user=user).mine == 3


def test_started_reads_only_the_running_approvals_the_user_started(
    tenant_a: Tenant,
) -> None:
    """ "Started" (the navigation's count and the inbox tab) counts the open tasks of
    the approvals the user started that still run, reached through
    ``process_initiator_active``: an approval that has ended is neither counted nor,
    in SQLite's plan, read (before, every approval the user had ever started was
    read on every page: the statement grew 1.6-2.5x from 10,000 to 100,000
    documents in bench/scale.py)."""
    from django.db import connection

    from sogla.workflow.selectors.inbox import _NAVIGATION_SQL

    approver = person(tenant_a, "approver")
    make_tasks(tenant_a, approver, 3)
    first = Process.objects.filter(initiator=tenant_a.initiator).order_by("pk")[0]
    decide(approver, open_task(first, approver))  # that approval ends
    first.refresh_from_db()
    assert not first.is_active
    initiator = tenant_a.initiator
    assert selectors.task_counts_for_user(user=initiator).started == 2
    started = selectors.task_list_for_user(user=initiator, tab="started")
    assert len(started.items) == 2
    assert first.pk not in {task.process_id for task in started.items}
    if connection.vendor != "sqlite":
        return  # PostgreSQL plans a table this small as a scan, whatever the index
    params: dict[str, int | str] = {
        "org": tenant_a.org.pk,
        "user": initiator.pk,
        "now": "2026-01-01",
    }
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + _NAVIGATION_SQL, params)
        plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
    # the user's running approvals through the index, then each one's open tasks
    assert re.search(
        r"SEARCH p USING (COVERING )?INDEX process_initiator_active "
        r"\(initiator_id=\? AND status=\?\) / "
        r"SEARCH t USING INDEX \w+ \(process_id=\? AND state=\?\)",
        plan,
    ), plan


def test_route_map_queries_do_not_grow_with_participants(tenant_a: Tenant) -> None:
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


def test_decision_comments_become_searchable_after_the_worker(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    from sogla.documents.selectors import DocumentFilter, document_list
    from sogla.documents.services import search_index_due
    from tests.workflow.conftest import decide, lawyer_alone, open_task

    process = lawyer_alone(tenant_a, people)
    lawyer = people["lawyer"]
    decide(
        lawyer,
        open_task(process, lawyer),
        "approve_with_remarks",
        comment="Уточните гарантийные обязательства",
    )

    def found() -> list[int]:
        page = document_list(
            user=lawyer, filters=DocumentFilter(q="гарантийных обязательств")
        )
        return [d.pk for d in page.items]

    assert found() == []  # the worker has not run yet
    search_index_due()
    assert found() == [process.document_id]


def _versions(tasks: Any) -> list[Any]:
    return [task.process.route_version for task in tasks]


def test_inbox_rows_decode_no_route_once_its_routes_are_parsed(
    tenant_a: Tenant, django_assert_num_queries
) -> None:
    from sogla.workflow import definitions
    from sogla.workflow.screens.inbox import inbox_page

    user = person(tenant_a, "reader")
    make_tasks(tenant_a, user, 3)
    definitions._definitions.clear()
    page = selectors.task_list_for_user(user=user, tab="mine")
    version = page.items[0].process.route_version
    assert "definition" in version.get_deferred_fields()
    # not parsed yet: every missing definition in one statement
    named = [(v.pk, v.status, v.published_at) for v in _versions(page.items)]
    with django_assert_num_queries(1):
        parsed = definitions.definitions_by_version(named)
    assert parsed[version.pk].stages[0].key == "s"
    assert definitions.definition_for(version) is parsed[version.pk]  # kept
    # parsed: nothing read, and the page names the stage
    again = selectors.task_list_for_user(user=user, tab="mine")
    named = [(v.pk, v.status, v.published_at) for v in _versions(again.items)]
    with django_assert_num_queries(0):
        assert definitions.definitions_by_version(named) == parsed
    rows = [row for group in inbox_page(user=user).groups for row in group.rows]
    assert [row.stage_position for row in rows] == ["1/1"] * 3


def test_card_process_reads_what_the_route_maps_reads_do_in_one_statement(
    tenant_a: Tenant, tenant_b: Tenant, django_assert_num_queries
) -> None:
    """The card's one statement gives the process (route version, template and
    initiator in place), its tasks with their people, and its runs, as the
    separate reads do; another organisation's document gives nothing."""
    from sogla.workflow.models import StageRun, StepRun, Task
    from sogla.workflow.selectors.route_map import process_for_document

    members = [person(tenant_a, f"c-{i}") for i in range(3)]
    template = publish(
        tenant_a,
        route(
            stage(
                "one",
                *[
                    approve(f"s{i}", {"user": u.username})
                    for i, u in enumerate(members)
                ],
            ),
            stage("two", approve("e", {"initiator": True})),
        ),
        key="card-one",
    )
    process = start(tenant_a, template, make_document(tenant_a))
    decide(members[0], open_task(process, members[0]))
    document = process.document
    with django_assert_num_queries(1):
        found, rows = selectors.card_process(document)
        assert found is not None
        assert found.route_version.template.name == template.name
        assert found.initiator == tenant_a.initiator
        people = [(t.assignee, t.on_behalf_of, t.decided_by) for t in rows.tasks]
    assert found == process_for_document(document)
    tasks = Task.objects.filter(process=process).order_by("round", "id")
    assert rows.tasks == list(tasks)
    assert people == [(t.assignee, t.on_behalf_of, t.decided_by) for t in tasks]
    assert people[0][2] == members[0]  # decided
    assert sorted(r.pk for r in rows.stage_runs) == sorted(
        StageRun.objects.filter(process=process, round=process.round).values_list(
            "pk", flat=True
        )
    )
    assert sorted(r.pk for r in rows.step_runs) == sorted(
        StepRun.objects.filter(process=process, round=process.round).values_list(
            "pk", flat=True
        )
    )
    with_rows = selectors.route_map(
        user=members[1], document=document, process=found, rows=rows
    )
    plain = selectors.route_map(user=members[1], document=document)
    assert with_rows is not None
    assert plain is not None
    assert [
        (s.key, s.colour, [(p.key, p.colour) for p in s.steps])
        for s in with_rows.stages
    ] == [(s.key, s.colour, [(p.key, p.colour) for p in s.steps]) for s in plain.stages]
    assert [i.task.pk for i in with_rows.my_tasks] == [
        i.task.pk for i in plain.my_tasks
    ]
    # the document of another organisation: its own rows only
    document.organisation_id = tenant_b.org.pk
    assert selectors.card_process(document) == (None, selectors.MapRows([], [], []))
