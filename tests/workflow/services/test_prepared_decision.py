"""On PostgreSQL a decision's statements are prepared on the server the first time
a connection runs them (settings: ``SOGLA_DATABASE_PREPARED``; ``core.prepared``
``statement_cursor``), so the next decisions are neither parsed nor planned again;
every other query stays client-side bound."""

from __future__ import annotations

import pytest
from django.db import connection

from sogla.orgs.models import User
from sogla.workflow.models import TaskState
from tests.conftest import Tenant
from tests.workflow.conftest import (
    decide,
    make_document,
    open_task,
    publish,
    start,
    three_stages,
)


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_decisions_statements_are_prepared_once_per_connection(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    template = publish(tenant_a, three_stages(people))
    first = start(tenant_a, template, make_document(tenant_a))
    second = start(tenant_a, template, make_document(tenant_a))

    decided = decide(people["head"], open_task(first, people["head"]))
    assert decided.state == TaskState.DONE
    prepared = _prepared()
    # the state's read, the compare-and-set with the runs' UPDATEs, the new runs'
    # INSERT and the audit event: bound on the server ($1), not spliced in
    assert any("UNION ALL" in text and "workflow_steprun" in text for text in prepared)
    assert any(text.lstrip().startswith("WITH cas AS") for text in prepared)
    assert any('INSERT INTO "workflow_task"' in text for text in prepared)
    assert any("core_auditevent" in text and "$1" in text for text in prepared)
    # a query of Django's own stays client-side bound, however often it runs
    for _ in range(6):
        User.objects.filter(email__endswith="@prepared.example").count()
    assert not any("LIKE" in text and "orgs_user" in text for text in _prepared())

    # the next decision reuses them: nothing new for the same shapes
    decide(people["head"], open_task(second, people["head"]))
    assert set(_prepared()) == set(prepared)  # no new statement text
    assert second.tasks.get(assignee=people["head"]).state == TaskState.DONE
