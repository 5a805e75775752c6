"""Every figure of the report against the hand-computed numbers of conftest's world."""

from __future__ import annotations

from datetime import date

import pytest

from sogla.reports.figures import ReportFilters, p90
from sogla.reports.selectors import build_report, kpi_report, report_for
from sogla.workflow.models import Task
from tests.conftest import Tenant
from tests.reports.conftest import APRIL, DAY, HOUR, NOW, World, build_world, msk

pytestmark = pytest.mark.django_db

H = HOUR.total_seconds()
D = DAY.total_seconds()


def test_percentiles_definition() -> None:
    assert p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 9  # nearest rank: ceil(9) = 9th
    assert p90([5]) == 5
    assert p90([]) is None


def test_totals_and_previous_period(world: World) -> None:
    report = build_report(organisation=world.t.org, filters=APRIL, now=NOW)
    t = report.totals
    assert (t.decided, t.on_time, t.late, t.no_deadline) == (25, 14, 11, 2)
    assert t.on_time_pct == pytest.approx(56.0)
    assert (t.open_now, t.overdue_now) == (3, 1)
    # 25 durations: 1,2,3,4,5,5,6..20 h, 24 h, 48 h, 96 h, 144 h
    assert t.median_seconds == 12 * H
    assert t.p90_seconds == 48 * H
    p = report.previous
    assert (p.decided, p.on_time, p.late) == (20, 15, 5)
    assert report.on_time_delta == pytest.approx(56.0 - 75.0)
    assert report.late_delta == 6


def test_people_departments(world: World) -> None:
    report = build_report(organisation=world.t.org, filters=APRIL, now=NOW)
    people = {p.user_id: p for p in report.people}
    colleague = people[world.t.colleague.pk].figures
    assert (colleague.decided, colleague.on_time, colleague.late) == (20, 10, 10)
    assert colleague.on_time_pct == pytest.approx(50.0)
    assert colleague.median_seconds == 10.5 * H
    assert colleague.p90_seconds == 18 * H
    assert (colleague.open_now, colleague.overdue_now) == (2, 1)
    lawyer = people[world.lawyer.pk]
    assert lawyer.name == "Petrov P."
    assert lawyer.department_name == "Legal"
    f = lawyer.figures
    assert (f.decided, f.on_time, f.late, f.no_deadline) == (4, 3, 1, 1)
    assert f.on_time_pct is None  # fewer than 20 tasks: no percentage
    assert f.median_seconds == 3 * D
    assert f.p90_seconds == 6 * D
    assert (f.open_now, f.overdue_now) == (1, 0)
    # the head decided nothing in April and has nothing open: no row
    assert world.head.pk not in people

    departments = {d.name: d.figures for d in report.departments}
    assert departments["Sales"].decided == 20
    assert departments["Contracts"].decided == 1
    assert (departments["Legal"].decided, departments["Legal"].late) == (4, 1)


def test_routes_stages_cycle_and_bottleneck(world: World) -> None:
    report = build_report(organisation=world.t.org, filters=APRIL, now=NOW)
    assert report.cycle.count == 3
    assert report.cycle.median_seconds == 4 * D
    assert report.cycle.p90_seconds == 10 * D
    assert report.cycle.histogram == [0, 0, 1, 1, 0, 1, 0, 0]
    assert report.previous_cycle.median_seconds == 6 * D
    assert report.cycle_delta_seconds == -2 * D

    stages = {s.stage_key: s for s in report.stages}
    assert stages["legal"].name == "Lawyer"
    assert stages["legal"].wait_seconds == 6 * D
    assert stages["legal"].share == pytest.approx(0.75)
    assert stages["manager"].share == pytest.approx(0.25)
    assert stages["legal"].figures.decided == 5
    assert stages["legal"].figures.median_seconds == 2 * D
    assert report.bottleneck is not None
    assert report.bottleneck.stage_key == "legal"
    assert report.stages[0].stage_key == "legal"  # largest share first

    (route,) = report.routes
    assert route.name == "Contract, full"
    assert route.figures.decided == 25
    assert route.cycle.median_seconds == 4 * D
    assert route.bottleneck is not None
    assert route.bottleneck.stage_key == "legal"


def test_period_boundaries(tenant_a: Tenant) -> None:
    w = build_world(tenant_a)
    Task.objects.filter(organisation=tenant_a.org).delete()
    p = w.process(msk(2025, 4, 1, 0), msk(2025, 4, 30, 23, 59))
    w.task(
        p, w.lawyer, "legal", msk(2025, 3, 31), msk(2025, 4, 1, 0, 0)
    )  # first instant
    w.task(p, w.lawyer, "legal", msk(2025, 4, 30), msk(2025, 4, 30, 23, 59, 59))
    w.task(p, w.lawyer, "legal", msk(2025, 4, 30), msk(2025, 5, 1, 0, 0))  # next period
    w.task(p, w.lawyer, "legal", msk(2025, 3, 31), msk(2025, 3, 31, 23, 59, 59))
    w.task(
        p, w.lawyer, "legal", msk(2025, 3, 1), msk(2025, 3, 1, 23, 59)
    )  # before prev
    report = build_report(organisation=tenant_a.org, filters=APRIL, now=NOW)
    assert report.totals.decided == 2
    assert report.previous.decided == 1
    # a process finished at 23:59 on the last day is in the period
    assert report.cycle.count == 4
    may = ReportFilters(date(2025, 5, 1), date(2025, 5, 1))
    assert build_report(organisation=tenant_a.org, filters=may, now=NOW).totals.decided == 1  # fmt: skip


def test_deadline_exactly_at_decision_is_on_time(tenant_a: Tenant) -> None:
    w = build_world(tenant_a)
    Task.objects.filter(organisation=tenant_a.org).delete()
    p = w.process(msk(2025, 4, 1, 0), msk(2025, 4, 2))
    w.task(p, w.lawyer, "legal", msk(2025, 4, 1, 9), msk(2025, 4, 1, 12), msk(2025, 4, 1, 12))  # fmt: skip
    w.task(p, w.lawyer, "legal", msk(2025, 4, 1, 9), msk(2025, 4, 1, 12, 0, 1), msk(2025, 4, 1, 12))  # fmt: skip
    t = build_report(organisation=tenant_a.org, filters=APRIL, now=NOW).totals
    assert (t.on_time, t.late) == (1, 1)


def test_filters(world: World) -> None:
    org = world.t.org
    sales = ReportFilters(APRIL.date_from, APRIL.date_to, department_id=world.sales.pk)
    report = build_report(organisation=org, filters=sales, now=NOW)
    # Sales and its sub-department Contracts
    assert report.totals.decided == 21
    assert {p.user_id for p in report.people} == {world.t.colleague.pk, world.clerk.pk}
    legal = ReportFilters(APRIL.date_from, APRIL.date_to, department_id=world.legal.pk)
    assert build_report(organisation=org, filters=legal, now=NOW).totals.decided == 4
    route = ReportFilters(APRIL.date_from, APRIL.date_to, route_id=world.route.pk)
    assert build_report(organisation=org, filters=route, now=NOW).totals.decided == 25
    other_type = ReportFilters(APRIL.date_from, APRIL.date_to, doc_type_id=999_999)
    empty = build_report(organisation=org, filters=other_type, now=NOW)
    assert empty.totals.decided == 0
    assert empty.empty


def test_access_manager_subtree_admin_and_others(world: World) -> None:
    admin = report_for(user=world.t.admin, filters=APRIL, now=NOW)
    assert {p.user_id for p in admin.people} == {
        world.t.colleague.pk,
        world.lawyer.pk,
        world.clerk.pk,
    }
    head = report_for(user=world.head, filters=APRIL, now=NOW)
    assert head.people_limited
    # Sales and Contracts people only; aggregates stay whole
    assert {p.user_id for p in head.people} == {world.t.colleague.pk, world.clerk.pk}
    assert head.totals.decided == 25
    assert {d.name for d in head.departments} == {"Sales", "Contracts", "Legal"}
    plain = report_for(user=world.lawyer, filters=APRIL, now=NOW)
    assert plain.people == []
    assert not plain.people_visible
    assert plain.totals.decided == 25


def test_tenant_isolation(world: World, tenant_b: Tenant) -> None:
    build_world(tenant_b)
    a = build_report(organisation=world.t.org, filters=APRIL, now=NOW)
    b = build_report(organisation=tenant_b.org, filters=APRIL, now=NOW)
    assert a.totals.decided == b.totals.decided == 25
    a_users = {p.user_id for p in a.people}
    b_users = {p.user_id for p in b.people}
    assert not a_users & b_users
    # B naming A's department, route or type sees nothing of A
    for kwargs in (
        {"department_id": world.sales.pk},
        {"route_id": world.route.pk},
        {"doc_type_id": world.t.contract.pk},
    ):
        f = ReportFilters(APRIL.date_from, APRIL.date_to, **kwargs)
        r = build_report(organisation=tenant_b.org, filters=f, now=NOW)
        assert r.totals.decided == 0
        assert r.cycle.count == 0
        assert not r.stages


def test_cached_five_minutes(world: World) -> None:
    first = kpi_report(organisation=world.t.org, filters=APRIL, now=NOW)
    Task.objects.filter(organisation=world.t.org).delete()
    again = kpi_report(organisation=world.t.org, filters=APRIL, now=NOW)
    assert again.totals.decided == first.totals.decided == 25
    other = ReportFilters(APRIL.date_from, APRIL.date_to, route_id=world.route.pk)
    assert kpi_report(organisation=world.t.org, filters=other, now=NOW).totals.decided == 0  # fmt: skip
