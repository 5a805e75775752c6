"""Audit events cannot be changed or deleted: model, queryset and database refuse."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import RestrictedError

from sogla.core.audit import audit_record, audit_verify
from sogla.core.models import AuditEvent, AuditImmutableError
from sogla.documents.services import document_create
from tests.conftest import Tenant


def _sql(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _event(tenant: Tenant) -> AuditEvent:
    return audit_record(
        organisation_id=tenant.org.pk, verb="x.done", actor=tenant.initiator
    )


def test_model_refuses_save_of_an_existing_row_and_delete(tenant_a: Tenant) -> None:
    event = _event(tenant_a)
    event.verb = "x.forged"
    with pytest.raises(AuditImmutableError):
        event.save()
    with pytest.raises(AuditImmutableError):
        event.delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(pk=event.pk).update(verb="x.forged")
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.for_org(tenant_a.org).delete()
    assert AuditEvent.objects.get(pk=event.pk).verb == "x.done"


def test_database_refuses_update(tenant_a: Tenant) -> None:
    event = _event(tenant_a)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _sql("UPDATE core_auditevent SET verb = 'x.forged' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).verb == "x.done"


def test_database_refuses_delete_on_postgresql(tenant_a: Tenant) -> None:
    """SQLite keeps no DELETE trigger (Django flushes test tables with DELETE);
    there a deleted event is caught by the verifier instead."""
    event = _event(tenant_a)
    _event(tenant_a)
    sql = "DELETE FROM core_auditevent WHERE id = %s"
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            _sql(sql, [event.pk])
        assert AuditEvent.objects.filter(pk=event.pk).exists()
    else:
        _sql(sql, [event.pk])
        assert not audit_verify(tenant_a.org.pk).intact


def test_a_person_or_document_named_in_evidence_cannot_be_erased(
    tenant_a: Tenant,
) -> None:
    doc = document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={"subject": "x", "amount": "1"},
    )
    audit_record(
        organisation_id=tenant_a.org.pk, verb="x.done", actor=tenant_a.colleague
    )
    with pytest.raises(RestrictedError):
        tenant_a.colleague.delete()
    with pytest.raises(RestrictedError):
        doc.delete()


def test_removing_events_needs_a_deliberate_purge_on_postgresql(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """Organisations themselves are protected by their users and types; an operator
    removing a tenant's data purges its events in an explicit transaction."""
    if connection.vendor != "postgresql":
        pytest.skip("the DELETE trigger exists on PostgreSQL only")
    _event(tenant_a)
    _event(tenant_b)
    sql = "DELETE FROM core_auditevent WHERE organisation_id = %s"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _sql(sql, [tenant_a.org.pk])

    with transaction.atomic():
        _sql("SET LOCAL sogla.audit_purge = 'on'", [])
        _sql(sql, [tenant_a.org.pk])
        # SET LOCAL lasts to the end of the transaction; the test's transaction
        # goes on, so switch it off again.
        _sql("SET LOCAL sogla.audit_purge = 'off'", [])

    assert not AuditEvent.objects.filter(organisation_id=tenant_a.org.pk).exists()
    assert audit_verify(tenant_b.org.pk).intact
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _sql(sql, [tenant_b.org.pk])
