"""PostgreSQL keeps the statements a connection runs often prepared (settings:
``SOGLA_DATABASE_PREPARED``), so it neither parses nor plans them again."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from sogla.orgs.models import User
from tests.conftest import Tenant


def _prepared_texts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_run_often_is_prepared_and_gives_the_same_rows(
    tenant_a: Tenant,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    users = User.objects.filter(organisation_id=tenant_a.org.pk).order_by("pk")
    first = list(users.values_list("pk", "username"))
    assert not any("orgs_user" in text for text in _prepared_texts())
    for _ in range(threshold + 1):
        assert list(users.values_list("pk", "username")) == first
    prepared = [text for text in _prepared_texts() if "orgs_user" in text]
    assert prepared, "the repeated query was not prepared"
    assert "$1" in prepared[0]  # bound on the server, not spliced into the text
