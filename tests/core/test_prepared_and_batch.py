"""Prepared queries give what the queryset gives; an audit batch chains as one by one."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sogla.core.audit import audit_batch, audit_record, audit_verify
from sogla.core.models import AuditEvent
from sogla.core.prepared import Prepared
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
