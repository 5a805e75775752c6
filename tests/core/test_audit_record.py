"""audit_record: one chain per organisation, written in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from sogla.core.audit import audit_record, audit_verify
from sogla.core.audit_hash import GENESIS_HASH, event_body, event_hash
from sogla.core.models import AuditChainHead, AuditEvent
from sogla.core.request_meta import RequestMeta
from sogla.documents.selectors import document_history
from sogla.documents.services import document_create
from tests.conftest import Tenant


def _body_of(event: AuditEvent) -> dict[str, object]:
    return event_body(
        organisation_id=event.organisation_id,
        seq=event.seq,
        created_at=event.created_at,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        verb=event.verb,
        target_type=event.target_type,
        target_id=event.target_id,
        document_id=event.document_id,
        payload=event.payload,
        ip=event.ip,
        user_agent=event.user_agent,
        prev_hash=event.prev_hash,
    )


def test_events_form_one_chain_per_organisation(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    a1 = audit_record(organisation_id=tenant_a.org.pk, verb="test.one")
    b1 = audit_record(organisation_id=tenant_b.org.pk, verb="test.one")
    a2 = audit_record(
        organisation_id=tenant_a.org.pk, verb="test.two", actor=tenant_a.initiator
    )

    assert (a1.seq, a2.seq, b1.seq) == (1, 2, 1)
    assert a1.prev_hash == GENESIS_HASH
    assert b1.prev_hash == GENESIS_HASH
    assert a2.prev_hash == a1.hash
    for event in (a1, a2, b1):
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.hash == event_hash(stored.prev_hash, _body_of(stored))
        assert len(stored.hash) == 64
    head = AuditChainHead.objects.get(organisation=tenant_a.org)
    assert (head.last_seq, head.last_hash) == (2, a2.hash)
    report = audit_verify()
    assert report.intact
    assert {(c.organisation_id, c.events) for c in report.chains} == {
        (tenant_a.org.pk, 2),
        (tenant_b.org.pk, 1),
    }


def test_actor_label_names_the_user_the_guest_or_the_system(tenant_a: Tenant) -> None:
    org = tenant_a.org.pk
    by_user = audit_record(organisation_id=org, verb="x.done", actor=tenant_a.admin)
    by_guest = audit_record(
        organisation_id=org, verb="x.done", actor_label="guest@example.com"
    )
    by_system = audit_record(organisation_id=org, verb="x.done")

    assert (by_user.actor_id, by_user.actor_label) == (
        tenant_a.admin.pk,
        tenant_a.admin.username,
    )
    assert (by_guest.actor_id, by_guest.actor_label) == (None, "guest@example.com")
    assert (by_system.actor_id, by_system.actor_label) == (None, "system")


@pytest.mark.parametrize("verb", ["", "created", "Document.Created", "a..b", "a.b "])
def test_verb_must_be_dotted_lower_case(tenant_a: Tenant, verb: str) -> None:
    with pytest.raises(ValueError, match="dotted"):
        audit_record(organisation_id=tenant_a.org.pk, verb=verb)
    assert not AuditEvent.objects.exists()


def test_stored_values_read_back_as_hashed(tenant_a: Tenant) -> None:
    """Values a database would alter are normalised before hashing, so the chain
    verifies on SQLite and PostgreSQL alike."""
    event = audit_record(
        organisation_id=tenant_a.org.pk,
        verb="x.done",
        target_id=42,
        payload={
            "big": 1e20,
            "whole": 3.0,
            "half": 0.5,
            "money": Decimal("12.50"),
            "day": dt.date(2025, 3, 1),
            "nul": "a\x00b",
            "nested": {"b": [1, "два", None, True], "a": {}},
            7: "int key",  # type: ignore[dict-item]  # a non-string key on purpose
        },
        request_meta=RequestMeta(ip="2001:0db8:0000::0001", user_agent="UA\x00\n1"),
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.payload == {
        "big": "1e+20",
        "whole": 3,
        "half": "0.5",
        "money": "12.50",
        "day": "2025-03-01",
        "nul": "a\ufffdb",
        "nested": {"a": {}, "b": [1, "два", None, True]},
        "7": "int key",
    }
    assert (stored.target_id, stored.ip, stored.user_agent) == (
        "42",
        "2001:db8::1",
        "UA  1",
    )
    assert stored.created_at == event.created_at
    assert audit_verify(tenant_a.org.pk).intact


def test_a_bad_ip_is_not_recorded(tenant_a: Tenant) -> None:
    event = audit_record(
        organisation_id=tenant_a.org.pk,
        verb="x.done",
        request_meta=RequestMeta(ip="not-an-ip", user_agent="curl"),
    )
    assert (event.ip, event.user_agent) == ("", "curl")


def test_rolled_back_event_leaves_no_trace_and_no_gap(tenant_a: Tenant) -> None:
    org = tenant_a.org.pk
    first = audit_record(organisation_id=org, verb="x.kept")

    @transaction.atomic
    def failing_command() -> None:
        audit_record(organisation_id=org, verb="x.lost")
        raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_command()
    after = audit_record(organisation_id=org, verb="x.kept")

    assert list(AuditEvent.objects.for_org(org).values_list("seq", "verb")) == [
        (1, "x.kept"),
        (2, "x.kept"),
    ]
    assert after.prev_hash == first.hash
    assert audit_verify(org).intact


def test_document_history_lists_the_documents_events_in_order(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    doc = document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={"subject": "Поставка", "amount": "10"},
    )
    other = document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={"subject": "Аренда", "amount": "20"},
    )
    audit_record(
        organisation_id=tenant_a.org.pk,
        verb="document.commented",
        actor=tenant_a.colleague,
        target_type="document",
        target_id=doc.pk,
        document_id=doc.pk,
    )

    history = document_history(user=tenant_a.colleague, document=doc)

    assert [(e.verb, e.actor) for e in history] == [
        ("document.created", tenant_a.initiator),
        ("document.commented", tenant_a.colleague),
    ]
    assert [e.seq for e in history] == sorted(e.seq for e in history)
    assert [e.verb for e in document_history(user=tenant_a.admin, document=other)] == [
        "document.created"
    ]
    assert document_history(user=tenant_b.admin, document=doc) == []
