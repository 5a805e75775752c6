"""The reports page, its htmx partial, exports, access, query counts, Russian."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from sogla.orgs.models import User
from sogla.reports.exports import guard
from sogla.workflow.models import Task
from tests.conftest import Tenant
from tests.reports.conftest import HOUR, World, build_world, msk

pytestmark = pytest.mark.django_db

APRIL_QUERY = "date_from=2025-04-01&date_to=2025-04-30"


def client_for(user: User, language: str = "en") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def test_page_admin_sees_people_and_figures(world: World) -> None:
    response = client_for(world.t.admin).get(f"/reports/?{APRIL_QUERY}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "56%" in html
    assert "Petrov P." in html
    assert "Sidorova A." in html
    assert "Bottleneck:" in html
    assert "“Lawyer”" in html
    assert '<title id="dept-svg-title">' in html
    assert 'fill="url(#hatch-late)"' in html
    assert "Show as table" in html
    assert "19 pp less than the previous period" in html
    assert "6 more than the previous period" in html
    assert "2 d faster than the previous period" in html
    assert "Too little data" not in html.split("kpi-cards")[1].split("</div></div>")[0]


def test_htmx_swaps_report_only(world: World) -> None:
    response = client_for(world.t.admin).get(
        f"/reports/?{APRIL_QUERY}",
        headers={"HX-Request": "true", "HX-Target": "report"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="report-period"' in html  # the filters come with the partial
    assert "Petrov P." in html


def test_manager_sees_subtree_people_plain_user_none(world: World) -> None:
    html = client_for(world.head).get(f"/reports/?{APRIL_QUERY}").content.decode()
    assert "Sidorova A." in html  # Contracts, under Sales
    assert "Petrov P." not in html  # Legal
    assert "People of the departments you head." in html
    html = client_for(world.lawyer).get(f"/reports/?{APRIL_QUERY}").content.decode()
    assert "Sidorova A." not in html
    assert "Figures per person are shown to department heads" in html
    assert "56%" in html  # aggregates for everyone
    response = client_for(world.lawyer).get(f"/reports/export/people.csv?{APRIL_QUERY}")
    assert response.status_code == 404


def test_few_data_and_empty_state(tenant_a: Tenant) -> None:
    w = build_world(tenant_a)
    admin = client_for(tenant_a.admin)
    html = admin.get(
        "/reports/?date_from=2024-01-01&date_to=2024-01-31"
    ).content.decode()
    assert "No finished tasks in this period" in html
    Task.objects.filter(organisation=tenant_a.org, assignee=tenant_a.colleague).delete()
    html = admin.get(f"/reports/?{APRIL_QUERY}").content.decode()
    assert "Too little data" in html
    assert "5 of 5 tasks on time" not in html  # 3 of 5: lawyer 3, clerk 1 -> 4 of 5
    assert "4 of 5 tasks on time; percentages from 20 tasks" in html
    assert w.lawyer.last_name in html


def test_bad_filters_fall_back(world: World) -> None:
    client = client_for(world.t.admin)
    response = client.get(
        "/reports/?date_from=2025-04-30&date_to=2025-04-01&department=x"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The end is before the start." in html
    response = client.get("/reports/?period=90")
    assert response.status_code == 200


def test_csv_export(world: World) -> None:
    world.lawyer.last_name = '=HYPERLINK("http://evil")'
    world.lawyer.save()
    response = client_for(world.t.admin).get(
        f"/reports/export/people.csv?{APRIL_QUERY}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="sogla-people-2025-04-01_2025-04-30.csv"'
    )
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["Person", "Department", "Tasks decided", "On time", "Late"]
    by_name = {r[0]: r for r in rows[1:]}
    colleague = by_name[world.t.colleague.short_name]
    # tasks, on time, late, no deadline, on time %, open, overdue (the real clock:
    # both open tasks are past due by now), median days, p90 days
    assert colleague[2:] == ["20", "10", "10", "0", "50.0", "2", "2", "0.44", "0.75"]
    evil = next(r for r in rows[1:] if "HYPERLINK" in r[0])
    assert evil[0].startswith("'=")
    assert evil[6] == ""  # fewer than 20 tasks: no percentage

    stages = client_for(world.t.admin).get(f"/reports/export/stages.csv?{APRIL_QUERY}")
    rows = list(csv.reader(io.StringIO(stages.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Route"
    legal = next(r for r in rows[1:] if r[1] == "Lawyer")
    assert legal[0] == "Contract, full"
    assert legal[-2:] == ["6.0", "75.0"]


def test_xlsx_export(world: World) -> None:
    world.clerk.first_name = "+cmd"
    world.clerk.last_name = ""
    world.clerk.save()
    response = client_for(world.t.admin).get(
        f"/reports/export/stages.xlsx?{APRIL_QUERY}&route={world.route.pk}"
    )
    assert response.status_code == 200
    assert "sogla-stages-2025-04-01_2025-04-30.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:2] == ("Route", "Stage")
    legal = next(r for r in rows[1:] if r[1] == "Lawyer")
    assert legal[2:5] == (5, 4, 1)
    assert legal[-1] == 75.0
    people = client_for(world.t.admin).get(f"/reports/export/people.xlsx?{APRIL_QUERY}")
    rows = list(
        load_workbook(io.BytesIO(people.content)).active.iter_rows(values_only=True)
    )
    names = [r[0] for r in rows[1:]]
    assert "'+cmd" in names


def test_guard() -> None:
    assert guard("=1+1") == "'=1+1"
    assert guard("-2") == "'-2"
    assert guard("@x") == "'@x"
    assert guard("+7 900") == "'+7 900"
    assert guard("ok") == "ok"
    assert guard(-2) == -2


def test_export_unknown_table_or_format_404(world: World) -> None:
    client = client_for(world.t.admin)
    assert client.get("/reports/export/secrets.csv").status_code == 404
    assert client.get("/reports/export/people.pdf").status_code == 404


def test_platform_staff_without_organisation_404(db: None) -> None:
    from tests.factories import UserFactory

    staff = UserFactory(organisation=None, is_staff=True, username="platform")
    assert client_for(staff).get("/reports/").status_code == 404


def _page_queries(client: Client) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/reports/?{APRIL_QUERY}").status_code == 200
    return len(ctx.captured_queries)


def test_query_count_constant_as_data_grows(tenant_a: Tenant) -> None:
    w = build_world(tenant_a)
    admin, head = client_for(tenant_a.admin), client_for(w.head)
    before_admin, before_head = _page_queries(admin), _page_queries(head)
    assert before_admin <= 12
    assert before_head <= 12
    # ten times the tasks, more people, processes and stage runs
    for i in range(10):
        p = w.process(msk(2025, 4, 2, 10), msk(2025, 4, 3 + i, 10))
        w.stage_run(p, "manager", msk(2025, 4, 2, 10), msk(2025, 4, 3, 10))
        for k in range(20):
            who = [w.lawyer, w.clerk, tenant_a.initiator, tenant_a.colleague][k % 4]
            w.task(p, who, "legal", msk(2025, 4, 2, 9), msk(2025, 4, 2, 9) + k * HOUR)
    assert _page_queries(admin) == before_admin
    assert _page_queries(head) == before_head
    # cached: only the session, the user, the shell and the viewer's access
    client = client_for(w.head)
    client.get(f"/reports/?{APRIL_QUERY}")
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"/reports/?{APRIL_QUERY}")
    assert len(ctx.captured_queries) == before_head - 6  # 7 report, +1 access


def test_russian_rendering(world: World) -> None:
    client = client_for(world.t.admin, "ru")
    html = client.get(f"/reports/?{APRIL_QUERY}").content.decode()
    assert 'lang="ru"' in html
    assert "01.04.2025" in html  # Russian date format
    assert "10,5" in html  # the colleague's median, Russian decimal comma
    assert "«Юрист»" in html  # stage names from the route in Russian
    assert "Договор, полное" in html


def test_card_on_time_mark_without_queries() -> None:
    now = timezone.now()
    on_time = Task(state="done", due_at=now, decided_at=now - timedelta(hours=1))
    late_hours = Task(
        state="done", due_at=now, decided_at=now + timedelta(hours=2, minutes=5)
    )
    late_days = Task(
        state="done", due_at=now, decided_at=now + timedelta(days=2, hours=1)
    )
    no_due = Task(state="done", decided_at=now)
    tpl = Template("{% load reports_web %}{% timeliness_mark task %}")
    with translation.override("en"), CaptureQueriesContext(connection) as ctx:
        assert "on time" in tpl.render(Context({"task": on_time}))
        assert "bi-check2-circle" in tpl.render(Context({"task": on_time}))
        assert "late by 3 hours" in tpl.render(Context({"task": late_hours}))
        assert "late by 2 days" in tpl.render(Context({"task": late_days}))
        assert "bi-alarm" in tpl.render(Context({"task": late_days}))
        assert tpl.render(Context({"task": no_due})).strip() == ""
    assert not ctx.captured_queries
