"""Prepared queries give what the queryset gives; an audit batch chains as one by one."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Field
from django.test.utils import CaptureQueriesContext

from sogla.core.audit import audit_batch, audit_record, audit_verify
from sogla.core.audit_hash import ORGANISATION_CHAIN
from sogla.core.models import AuditEvent
from sogla.core.prepared import Prepared, sql_literal
from sogla.orgs.models import User
from tests.conftest import Tenant

people = Prepared(
    lambda org, pk: User.objects.select_related("organisation").filter(
        organisation_id=org, pk=pk
    ),
    arity=2,
)


def test_prepared_returns_the_querysets_rows_with_their_relations(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    user = tenant_a.initiator
    found = people.get(tenant_a.org.pk, user.pk)
    assert found == User.objects.get(pk=user.pk)
    assert found.username == user.username
    with CaptureQueriesContext(connection) as queries:
        assert found.organisation == tenant_a.org  # joined: no second query
    assert not queries.captured_queries
    assert people.all(tenant_b.org.pk, user.pk) == []  # other values, same text
    with pytest.raises(User.DoesNotExist):
        people.get(tenant_b.org.pk, user.pk)


def test_prepared_takes_text_arguments(tenant_a: Tenant) -> None:
    by_name = Prepared(
        lambda org, name: User.objects.filter(organisation_id=org, username=name),
        args=(int, str),
    )
    user = tenant_a.colleague
    assert by_name.all(tenant_a.org.pk, user.username) == [user]
    assert by_name.all(tenant_a.org.pk, "nobody") == []


def test_prepared_statements_are_planned_once_on_postgresql(tenant_a: Tenant) -> None:
    """On PostgreSQL the text runs as a server-side prepared statement: the
    constants written in (the server's generic plan sees them), the arguments as
    parameters; values-rows and counting as before."""
    active: Prepared[Any] = Prepared(
        lambda org: (
            User.objects.filter(organisation_id=org, is_active=True)
            .exclude(username="nobody's %s")
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        arity=1,
    )
    expected = list(
        User.objects.filter(organisation_id=tenant_a.org.pk, is_active=True)
        .exclude(username="nobody's %s")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for _ in range(7):  # past the five custom plans: the generic one
        with CaptureQueriesContext(connection) as queries:
            assert active.all(tenant_a.org.pk) == expected
        assert len(queries.captured_queries) == 1
        assert people.get(tenant_a.org.pk, tenant_a.initiator.pk) == tenant_a.initiator
    if connection.vendor != "postgresql":
        return
    statement, generic = _prepared_statement("%nobody''s %%s%")
    assert "$1" in statement  # the argument
    assert "$2" not in statement  # the constants inlined
    assert generic >= 1


def _prepared_statement(pattern: str) -> tuple[str, int]:
    """The one statement this connection prepared whose text is LIKE ``pattern``,
    with the number of times PostgreSQL ran it with its generic plan."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            [pattern],
        )
        [(statement, generic)] = cursor.fetchall()
    return str(statement), int(generic)


def test_a_long_statements_conversion_is_remembered_and_its_values_are_not(
    tenant_a: Tenant,
) -> None:
    """A statement longer than psycopg remembers (over 4 KB, over 50 parameters)
    is converted to PostgreSQL's placeholders once; each run binds its own values."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's placeholders")
    from sogla.core.prepared import _converted, statement_cursor

    padding = " ".join(f"AND {n} = %s" for n in range(60))  # 60 parameters
    sql = f"SELECT %s::int + %s::int WHERE TRUE {padding} -- {'x' * 4096}"
    runs = []
    before = _converted.cache_info()
    for first in (1, 10, 100):
        with statement_cursor(connection) as cursor:
            cursor.execute(sql, [first, 2, *range(60)])
            runs.append(cursor.fetchone()[0])
    after = _converted.cache_info()
    assert runs == [3, 12, 102]
    assert after.hits - before.hits >= 2
    assert after.misses - before.misses <= 1


def test_the_navigations_counts_are_planned_once_on_postgresql(
    tenant_a: Tenant,
) -> None:
    """Every page's one statement of counts (the navigation's and the bell's) is
    prepared with the task and notification states written in, so that the server
    keeps a generic plan (with them bound it planned anew on every page)."""
    from sogla.workflow.selectors import navigation_counts

    for _ in range(7):  # past the five custom plans
        with CaptureQueriesContext(connection) as queries:
            counts, unread = navigation_counts(user=tenant_a.initiator)
        assert len(queries.captured_queries) == 1
        assert (counts.mine, unread) == (0, 0)
    if connection.vendor != "postgresql":
        return
    statement, generic = _prepared_statement(
        "SELECT (SELECT COUNT(*) FROM workflow_task%notifications_notification%"
    )
    assert "'open'" in statement
    assert "'cancelled'" in statement
    assert generic >= 1


def test_sql_literal_takes_plain_constants_only() -> None:
    assert sql_literal("notifications.digest") == "'notifications.digest'"
    for value in ("it's", "a b", "x;--", "%s"):
        with pytest.raises(ValueError, match="not a plain constant"):
            sql_literal(value)


def test_a_batch_appends_in_order_and_the_chain_verifies(tenant_a: Tenant) -> None:
    org = tenant_a.org.pk
    with transaction.atomic():
        audit_record(organisation_id=org, verb="test.before")
        with audit_batch():
            first = audit_record(organisation_id=org, verb="test.first")
            second = audit_record(organisation_id=org, verb="test.second")
            assert first.pk is None  # appended when the block ends
        third = audit_record(organisation_id=org, verb="test.after")
    verbs = list(
        AuditEvent.objects.for_org(org).order_by("seq").values_list("verb", flat=True)
    )
    assert verbs[-4:] == ["test.before", "test.first", "test.second", "test.after"]
    assert second.seq == first.seq + 1
    assert third.seq == second.seq + 1
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert audit_verify(org).intact


def test_a_batch_that_fails_appends_nothing(tenant_a: Tenant) -> None:
    org = tenant_a.org.pk
    before = AuditEvent.objects.for_org(org).count()

    def lost() -> None:
        with transaction.atomic(), audit_batch():
            audit_record(organisation_id=org, verb="test.lost")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        lost()
    assert AuditEvent.objects.for_org(org).count() == before
    audit_record(organisation_id=org, verb="test.next")
    assert audit_verify(org).intact


def _notice(org: int, key: str) -> Any:
    from sogla.notifications.services import notification_build

    return notification_build(
        organisation_id=org,
        kind="test.notice",
        recipient_email="a@example.com",
        context={},
        idempotency_key=key,
    )


def _outbox_inserts(queries: CaptureQueriesContext) -> int:
    """How many INSERTs into the outbox the statements hold, together."""
    return sum(
        q["sql"].count('INTO "notifications_notification"')
        for q in queries.captured_queries
    )


@pytest.mark.parametrize("head", ["known", "stale", "unknown"])
def test_a_batch_inserts_the_outbox_rows_with_its_events_once(
    tenant_a: Tenant, head: str
) -> None:
    """Rows queued by ``notifications_enqueue_many`` inside ``audit_batch`` go in
    when the batch ends, with its events: on PostgreSQL in the events' statement
    when this process knows the chain's head, and exactly once when its guess was
    stale (the long way inserts the events only) or it has none."""
    from sogla.core import audit
    from sogla.notifications.models import Notification
    from sogla.notifications.services import notifications_enqueue_many

    org = tenant_a.org.pk
    audit_record(organisation_id=org, verb="test.before")  # the head is known
    key = (connection.alias, org, ORGANISATION_CHAIN)
    assert key in audit._heads
    if head == "stale":
        seq, _hash = audit._heads[key]
        audit._heads[key] = (seq, "0" * 64)  # another process appended meanwhile
    elif head == "unknown":
        del audit._heads[key]  # this process never wrote the chain
    outbox = Notification.objects.for_org(org)
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, audit_batch():
            notifications_enqueue_many(
                [_notice(org, "n1"), _notice(org, "n1")], with_events=True
            )
            notifications_enqueue_many([_notice(org, "n2")], with_events=True)
            audit_record(organisation_id=org, verb="test.noticed")
            assert not outbox.filter(kind="test.notice").exists()  # not yet
        assert sorted(
            outbox.filter(kind="test.notice").values_list("idempotency_key", flat=True)
        ) == ["n1", "n2"]
    assert audit_verify(org).intact
    assert _outbox_inserts(queries) == 2  # each enqueue once, never again
    events = [
        q["sql"] for q in queries.captured_queries if "core_auditevent" in q["sql"]
    ]
    ridden = [e for e in events if "notifications_notification" in e]
    if connection.vendor == "postgresql" and head != "unknown":
        assert len(ridden) == 1  # the outbox rode on the events' statement
        assert len(events) == (1 if head == "known" else 2)  # stale: the long way
    else:
        assert not ridden  # an INSERT of its own


def test_outbox_rows_of_a_failed_batch_are_not_written(tenant_a: Tenant) -> None:
    from sogla.notifications.models import Notification
    from sogla.notifications.services import notifications_enqueue_many

    org = tenant_a.org.pk

    def lost() -> None:
        with transaction.atomic(), audit_batch():
            notifications_enqueue_many([_notice(org, "lost")], with_events=True)
            audit_record(organisation_id=org, verb="test.lost")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        lost()
    assert not Notification.objects.for_org(org).filter(idempotency_key="lost").exists()
    with transaction.atomic(), audit_batch():  # a batch without events still writes
        notifications_enqueue_many([_notice(org, "alone")], with_events=True)
        notifications_enqueue_many([_notice(org, "asked")])  # not asked to wait
        assert (
            Notification.objects.for_org(org).filter(idempotency_key="asked").exists()
        )
    notifications_enqueue_many([_notice(org, "outside")], with_events=True)  # at once
    keys = Notification.objects.for_org(org).values_list("idempotency_key", flat=True)
    assert {"alone", "outside"} <= set(keys)


def test_db_value_is_what_the_field_gives_the_database() -> None:
    from datetime import UTC, datetime

    from sogla.core.prepared import db, db_value, passed_as_is
    from sogla.notifications.models import Notification
    from sogla.workflow.models import Task

    moment = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    cases = [
        (Task, "engine_id", "t1"),
        (Task, "round", 3),
        (Task, "assignee", 7),
        (Task, "assignee", None),
        (Task, "overdue", True),
        (Task, "due_at", moment),
        (Task, "state", "open"),
        (Notification, "context", {"a": [1, "b"]}),
    ]
    for model, name, value in cases:
        field = model._meta.get_field(name)
        assert isinstance(field, Field)
        got = db_value(field, value, db(), passed_as_is(db()))
        want = field.get_db_prep_save(value, connection)
        assert type(got) is type(want)
        assert getattr(got, "obj", got) == getattr(want, "obj", want)  # Jsonb


def test_users_by_username_and_delegations_are_the_querysets(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    from datetime import date

    from sogla.orgs.models import Delegation
    from sogla.orgs.selectors import delegations_in_force, users_by_username

    a, b = tenant_a.initiator, tenant_a.colleague
    found = users_by_username(tenant_a.org.pk, [a.username, b.username, "nobody"])
    assert sorted(u.pk for u in found) == sorted([a.pk, b.pk])
    assert users_by_username(tenant_b.org.pk, [a.username]) == []
    day = date(2026, 12, 3)
    Delegation.objects.create(
        organisation=tenant_a.org,
        from_user=a,
        to_user=b,
        starts_on=date(2026, 12, 1),
        ends_on=date(2026, 12, 3),
    )
    in_force = delegations_in_force(tenant_a.org.pk, day)
    assert list(in_force) == [a.pk]
    assert in_force[a.pk].to_user == b
    assert delegations_in_force(tenant_a.org.pk, date(2026, 12, 4)) == {}
    assert delegations_in_force(tenant_a.org.pk, date(2026, 11, 30)) == {}
    assert delegations_in_force(tenant_b.org.pk, day) == {}


def test_insert_values_writes_what_the_model_would(tenant_a: Tenant) -> None:
    from sogla.core.prepared import insert_values
    from sogla.orgs.models import Department

    ids = insert_values(
        Department,
        [
            {"organisation_id": tenant_a.org.pk, "name": "Legal", "code": "legal"},
            {"organisation_id": tenant_a.org.pk, "name": "Audit", "code": "audit"},
        ],
    )
    rows = Department.objects.filter(pk__in=ids).order_by("pk")
    assert [(d.name, d.code) for d in rows] == [("Legal", "legal"), ("Audit", "audit")]
    expected = Department(organisation=tenant_a.org, name="x", code="x")
    for name in ("head_id", "parent_id"):
        assert getattr(rows[0], name) == getattr(expected, name)  # defaults
    with pytest.raises(ValueError, match="no columns"):
        insert_values(Department, [{"organisation_id": 1, "nope": 1}])
