"""Each document service writes its audit event in the same transaction."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from sogla.core.audit import audit_verify
from sogla.core.errors import PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.core.request_meta import RequestMeta
from sogla.documents.models import Counterparty, Document
from sogla.documents.services import (
    CounterpartyData,
    NewFile,
    counterparty_create,
    counterparty_update,
    document_archive,
    document_create,
    document_fields_set,
    document_update_fields,
    file_add,
)
from sogla.documents.services import documents as document_services
from sogla.documents.uploads import bytes_upload
from tests.api.conftest import token_client
from tests.conftest import MINIMAL_PDF, Tenant
from tests.workflow.conftest import publish, route, stage, start

META = RequestMeta(ip="198.51.100.23", user_agent="Mozilla/5.0 (test)")
SHA = hashlib.sha256(MINIMAL_PDF).hexdigest()


def _events() -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("organisation_id", "id"))  # as written


def _verbs() -> list[str]:
    return [e.verb for e in _events()]


def _create(tenant: Tenant, **kwargs: Any) -> Document:
    return document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": "Поставка", "amount": "1 000"},
        **kwargs,
    )


def test_document_create_records_created_then_each_file(tenant_a: Tenant) -> None:
    doc = _create(
        tenant_a,
        files=[
            NewFile(
                bytes_upload("contract_file", "д.pdf", MINIMAL_PDF), "contract_file"
            )
        ],
        meta=META,
    )

    created, added = _events()
    assert (created.verb, created.seq, added.verb, added.seq) == (
        "document.created",
        1,
        "document.file_version_added",
        2,
    )
    for event in (created, added):
        assert event.organisation_id == tenant_a.org.pk
        assert event.actor_id == tenant_a.initiator.pk
        assert event.document_id == doc.pk
        assert (event.ip, event.user_agent) == (META.ip, META.user_agent)
    assert (created.target_type, created.target_id) == ("document", str(doc.pk))
    assert created.payload == {
        "number": doc.number,
        "type": "contract",
        "title": doc.title,
        "status": "draft",
        "fields": {"subject": "Поставка", "amount": "1000.00"},
    }
    version = doc.files.get().versions.get()
    assert (added.target_type, added.target_id) == ("file_version", str(version.pk))
    assert added.payload == {
        "file": version.file_id,
        "field": "contract_file",
        "name": "д.pdf",
        "version": 1,
        "sha256": SHA,
        "size": len(MINIMAL_PDF),
        "mime_type": "application/pdf",
    }


def test_without_meta_no_ip_or_user_agent_is_recorded(tenant_a: Tenant) -> None:
    _create(tenant_a)
    (event,) = _events()
    assert (event.ip, event.user_agent) == ("", "")


def test_fields_changed_records_old_and_new_values_of_changed_keys(
    tenant_a: Tenant,
) -> None:
    doc = _create(tenant_a)
    old_title = doc.title

    document_update_fields(
        actor=tenant_a.initiator,
        document=doc,
        values={"subject": "Аренда", "amount": "1000", "end_date": "2030-12-31"},
        meta=META,
    )

    event = _events()[-1]
    doc.refresh_from_db()
    assert event.verb == "document.fields_changed"
    assert event.payload == {
        "changes": {
            "subject": {"old": "Поставка", "new": "Аренда"},
            "end_date": {"old": None, "new": "2030-12-31"},
        },
        "title": {"old": old_title, "new": doc.title},
    }
    assert (event.document_id, event.ip) == (doc.pk, META.ip)


@pytest.mark.parametrize("by", ["person", "route"])
def test_fields_written_for_an_approval_step_are_audited(
    tenant_a: Tenant, by: str
) -> None:
    """A request_info answer (a person) or a route's set_field (the system, I6)."""
    doc = _create(tenant_a)
    actor = tenant_a.colleague if by == "person" else None

    document_fields_set(
        actor=actor, document=doc, values={"end_date": "2031-01-31"}, meta=META
    )

    assert _verbs() == ["document.created", "document.fields_changed"]
    event = _events()[-1]
    assert (event.actor_id, event.actor_label) == (
        (actor.pk, actor.username) if actor else (None, "system")
    )
    assert event.payload == {
        "changes": {"end_date": {"old": None, "new": "2031-01-31"}}
    }
    assert (event.document_id, event.ip, event.user_agent) == (
        doc.pk,
        META.ip,
        META.user_agent,
    )


def test_a_routes_set_field_is_audited_in_the_commands_transaction(
    tenant_a: Tenant,
) -> None:
    template = publish(
        tenant_a,
        route(
            stage(
                "close",
                {
                    "key": "mark",
                    "kind": "system",
                    "actions": [{"set_field": {"end_date": "2031-01-31"}}],
                },
            )
        ),
    )
    doc = _create(tenant_a)

    start(tenant_a, template, doc)

    events = [e for e in _events() if e.document_id == doc.pk]
    assert [e.verb for e in events] == [
        "document.created",
        "process.started",
        "document.fields_changed",
        "process.finished",
    ]
    started, changed = events[1], events[2]
    assert (changed.actor_id, changed.ip) == (tenant_a.initiator.pk, started.ip)
    assert changed.payload == {
        "changes": {"end_date": {"old": None, "new": "2031-01-31"}}
    }
    assert audit_verify(tenant_a.org.pk).intact


def test_saving_unchanged_fields_records_nothing(tenant_a: Tenant) -> None:
    doc = _create(tenant_a)
    document_update_fields(
        actor=tenant_a.initiator,
        document=doc,
        values={"subject": "Поставка", "amount": "1000.00"},
    )
    assert _verbs() == ["document.created"]


def test_archive_records_once(tenant_a: Tenant) -> None:
    doc = _create(tenant_a)
    document_archive(actor=tenant_a.admin, document=doc, meta=META)
    document_archive(actor=tenant_a.admin, document=doc, meta=META)

    assert _verbs() == ["document.created", "document.archived"]
    event = _events()[-1]
    assert (event.actor_id, event.payload) == (
        tenant_a.admin.pk,
        {"number": doc.number},
    )


def test_file_add_records_the_new_versions_hash(tenant_a: Tenant) -> None:
    doc = _create(tenant_a)
    first = file_add(
        actor=tenant_a.initiator,
        document=doc,
        new=NewFile(bytes_upload("files", "a.pdf", MINIMAL_PDF)),
    )
    second_bytes = MINIMAL_PDF + b"%v2\n"
    second = file_add(
        actor=tenant_a.initiator,
        document=doc,
        new=NewFile(bytes_upload("files", "b.pdf", second_bytes)),
        file=first.file,
        meta=META,
    )

    event = _events()[-1]
    assert event.verb == "document.file_version_added"
    assert event.target_id == str(second.pk)
    assert event.payload["version"] == 2
    assert event.payload["name"] == "b.pdf"
    assert event.payload["sha256"] == hashlib.sha256(second_bytes).hexdigest()


def test_counterparty_create_and_update(tenant_a: Tenant) -> None:
    party = counterparty_create(
        actor=tenant_a.admin,
        data=CounterpartyData(name="ООО «Ромашка»", tax_id="7701234578"),
        meta=META,
    )
    counterparty_update(
        actor=tenant_a.admin,
        counterparty=party,
        data=CounterpartyData(
            name="ООО «Ромашка»", tax_id="7701234578", note="Ключевой клиент"
        ),
        meta=META,
    )
    counterparty_update(  # nothing changes: no event
        actor=tenant_a.admin,
        counterparty=party,
        data=CounterpartyData(
            name="ООО «Ромашка»", tax_id="7701234578", note="Ключевой клиент"
        ),
    )

    created, updated = _events()
    assert (created.verb, created.target_type, created.target_id) == (
        "counterparty.created",
        "counterparty",
        str(party.pk),
    )
    assert created.document_id is None
    assert created.payload == {
        "name": "ООО «Ромашка»",
        "tax_id": "7701234578",
        "kpp": "",
        "ogrn": "",
        "category": "customer",
        "address": "",
        "note": "",
        "contacts": 0,
    }
    assert updated.verb == "counterparty.updated"
    assert updated.payload == {
        "changes": {"note": {"old": "", "new": "Ключевой клиент"}}
    }


# --- a failing command leaves no event ---------------------------------------------------


def test_refused_commands_record_nothing(tenant_a: Tenant, tenant_b: Tenant) -> None:
    doc = _create(tenant_a)
    party = counterparty_create(
        actor=tenant_a.admin, data=CounterpartyData(name="Альфа", tax_id="7701234578")
    )
    before = _events()

    with pytest.raises(ValidationFailed):
        _create(tenant_a, files=[NewFile(bytes_upload("x", "a.pdf", MINIMAL_PDF), "x")])
    with pytest.raises(ValidationFailed):
        document_update_fields(
            actor=tenant_a.initiator, document=doc, values={"amount": "много"}
        )
    with pytest.raises(PermissionDenied):
        document_archive(actor=tenant_a.colleague, document=doc)
    with pytest.raises(PermissionDenied):
        file_add(
            actor=tenant_a.colleague,
            document=doc,
            new=NewFile(bytes_upload("files", "a.pdf", MINIMAL_PDF)),
        )
    with pytest.raises(ValidationFailed):
        counterparty_create(
            actor=tenant_a.admin,
            data=CounterpartyData(name="Бета", tax_id="7701234578"),
        )
    with pytest.raises(PermissionDenied):
        counterparty_update(
            actor=tenant_b.admin, counterparty=party, data=CounterpartyData(name="Б")
        )

    assert _events() == before


def test_failure_after_the_event_rolls_the_event_back(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """document.created is written before the files; a failing file undoes both."""

    def broken(**kwargs: Any) -> None:
        raise OSError("storage is full")

    monkeypatch.setattr(document_services, "add_version", broken)
    with pytest.raises(OSError, match="storage is full"):
        _create(tenant_a, files=[NewFile(bytes_upload("files", "a.pdf", MINIMAL_PDF))])

    assert not Document.objects.exists()
    assert _events() == []
    assert audit_verify(tenant_a.org.pk).intact


# --- interfaces pass where the request came from -----------------------------------------


def test_api_records_client_ip_and_user_agent_ignoring_spoofed_forwarding(
    tenant_a: Tenant,
) -> None:
    api = token_client(tenant_a.initiator)
    response = api.post(
        "/documents",
        {"doc_type": "contract", "fields": {"subject": "x", "amount": "1"}},
        REMOTE_ADDR="203.0.113.9",
        headers={"User-Agent": "sogla-cli/1.0", "X-Forwarded-For": "10.6.6.6"},
    )
    assert response.status_code == 201, response.content
    doc_id = response.json()["id"]
    response = api.post(
        f"/documents/{doc_id}/archive",
        REMOTE_ADDR="203.0.113.9",
        headers={"User-Agent": "sogla-cli/1.0"},
    )
    assert response.status_code == 200
    party = api.post(
        "/counterparties",
        {"name": "Гамма", "tax_id": "7702234570"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert party.status_code == 201, party.content
    assert (
        api.patch(
            f"/counterparties/{party.json()['id']}",
            {"name": "Гамма-2", "tax_id": "7702234570"},
            REMOTE_ADDR="203.0.113.9",
        ).status_code
        == 200
    )

    assert [(e.verb, e.ip) for e in _events()] == [
        ("document.created", "203.0.113.9"),
        ("document.archived", "203.0.113.9"),
        ("counterparty.created", "203.0.113.9"),
        ("counterparty.updated", "203.0.113.9"),
    ]
    assert _events()[0].user_agent == "sogla-cli/1.0"


@override_settings(TRUST_PROXY=True)
def test_behind_a_trusted_proxy_the_forwarded_address_is_recorded(
    tenant_a: Tenant,
) -> None:
    client = Client()
    client.force_login(tenant_a.initiator)
    doc = _create(tenant_a)
    response = client.post(
        reverse("documents:archive", args=[doc.pk]),
        REMOTE_ADDR="10.0.0.2",
        headers={"X-Forwarded-For": "6.6.6.6, 192.0.2.44", "User-Agent": "Firefox"},
    )
    assert response.status_code == 302
    event = _events()[-1]
    assert (event.verb, event.ip, event.user_agent) == (
        "document.archived",
        "192.0.2.44",
        "Firefox",
    )


def test_web_upload_and_counterparty_record_the_request(tenant_a: Tenant) -> None:
    client = Client(REMOTE_ADDR="192.0.2.5", HTTP_USER_AGENT="Safari")
    client.force_login(tenant_a.initiator)
    doc = _create(tenant_a)
    upload = bytes_upload("files", "a.pdf", MINIMAL_PDF).content
    upload.name = "a.pdf"  # type: ignore[misc]
    client.post(reverse("documents:file_upload", args=[doc.pk]), {"file": upload})
    client.post(
        reverse("documents:counterparty_create"),
        {"name": "Дельта", "tax_id": "", "category": "supplier"},
    )

    assert [(e.verb, e.ip, e.user_agent) for e in _events()[1:]] == [
        ("document.file_version_added", "192.0.2.5", "Safari"),
        ("counterparty.created", "192.0.2.5", "Safari"),
    ]
    assert Counterparty.objects.filter(name="Дельта").exists()
