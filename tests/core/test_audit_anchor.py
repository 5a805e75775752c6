"""The audit log's tail: documents' chains, anchors and the signed digest (13.6, 14.2).

A hash chain alone cannot show the removal of its last events when the head row is
rolled back with them; the digest the worker signs with a key outside the database
can. These tests run the attack before and after a digest, check what the digest
holds and where it goes (file, log, administrators' mail through a real SMTP server
on loopback), and that commands on different documents no longer wait for each
other.
"""

from __future__ import annotations

import json
import stat
import threading
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.utils import timezone

from sogla.core.audit import (
    ANCHOR_MISMATCH,
    DIGEST_MISMATCH,
    audit_record,
    audit_verify,
)
from sogla.core.audit_anchor import (
    audit_anchor,
    audit_digest_write,
    audit_housekeeping,
)
from sogla.core.audit_digest import (
    DIGEST_SIGNATURE,
    DIGEST_UNREADABLE,
    latest_digest,
    parse_digest,
    read_digest,
)
from sogla.core.audit_hash import ANCHOR_VERB, GENESIS_HASH, event_body, event_hash
from sogla.core.models import AuditChainHead, AuditEvent
from sogla.documents.models import Document
from sogla.documents.services import document_create
from sogla.site.worker import Worker
from tests.conftest import Tenant, make_tenant
from tests.notifications.conftest import Smtp
from tests.notifications.conftest import smtp as loopback_smtp  # noqa: F401


def _sql(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _intruder() -> None:
    """Raw SQL may now change audit rows, as someone with database access could.
    The test's transaction is rolled back at its end, which restores the trigger."""
    if connection.vendor == "postgresql":
        _sql("SET CONSTRAINTS ALL IMMEDIATE", [])
        _sql("ALTER TABLE core_auditevent DISABLE TRIGGER USER", [])
    else:
        _sql("DROP TRIGGER core_auditevent_no_update", [])


def _cut_tail(org_id: int, chain: str, count: int) -> None:
    """The attack: delete the chain's last ``count`` events and roll its head back to
    the event before them, so that links and head agree again."""
    rows = list(
        AuditEvent.objects.for_org(org_id)
        .filter(chain=chain)
        .order_by("seq")
        .values_list("id", "seq", "hash")
    )
    cut, kept = rows[-count:], rows[:-count]
    for pk, _seq, _hash in cut:
        _sql("DELETE FROM core_auditevent WHERE id = %s", [pk])
    seq, hash_ = (kept[-1][1], kept[-1][2]) if kept else (0, GENESIS_HASH)
    _sql(
        "UPDATE core_auditchainhead SET last_seq = %s, last_hash = %s "
        "WHERE organisation_id = %s AND chain = %s",
        [seq, hash_, org_id, chain],
    )


def _document(tenant: Tenant, subject: str = "Поставка") -> Document:
    return document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": subject, "amount": "100"},
    )


def _events(tenant: Tenant, document: Document, count: int) -> None:
    for n in range(count):
        audit_record(
            organisation_id=tenant.org.pk,
            verb="document.viewed",
            actor=tenant.colleague,
            target_type="document",
            target_id=document.pk,
            document_id=document.pk,
            payload={"n": n},
        )


@pytest.fixture
def digests(settings: Any, tmp_path: Path) -> Path:
    settings.AUDIT_DIGEST_DIR = tmp_path / "audit"
    return Path(settings.AUDIT_DIGEST_DIR)


# --- documents' chains ---------------------------------------------------------------


def test_each_document_has_its_own_chain(tenant_a: Tenant) -> None:
    first, second = _document(tenant_a, "Первый"), _document(tenant_a, "Второй")
    _events(tenant_a, first, 2)
    refused = audit_record(organisation_id=tenant_a.org.pk, verb="task.refused")

    chains = {
        chain: list(seqs)
        for chain, seqs in [
            (
                key,
                AuditEvent.objects.for_org(tenant_a.org)
                .filter(chain=key)
                .order_by("seq")
                .values_list("seq", flat=True),
            )
            for key in ("", f"document:{first.pk}", f"document:{second.pk}")
        ]
    }
    assert chains == {
        "": [1],
        f"document:{first.pk}": [1, 2, 3],  # created, viewed twice
        f"document:{second.pk}": [1],
    }
    assert refused.chain == ""
    assert refused.prev_hash == GENESIS_HASH
    viewed = AuditEvent.objects.get(chain=f"document:{first.pk}", seq=3)
    body = event_body(
        organisation_id=tenant_a.org.pk,
        seq=3,
        created_at=viewed.created_at,
        actor_id=viewed.actor_id,
        actor_label=viewed.actor_label,
        verb=viewed.verb,
        target_type=viewed.target_type,
        target_id=viewed.target_id,
        document_id=viewed.document_id,
        payload=viewed.payload,
        ip=viewed.ip,
        user_agent=viewed.user_agent,
        prev_hash=viewed.prev_hash,
        chain=viewed.chain,
    )
    assert (body["v"], body["chain"]) == (2, f"document:{first.pk}")
    assert viewed.hash == event_hash(viewed.prev_hash, body)
    heads = dict(
        AuditChainHead.objects.filter(organisation=tenant_a.org).values_list(
            "chain", "last_seq"
        )
    )
    assert heads == {"": 1, f"document:{first.pk}": 3, f"document:{second.pk}": 1}
    report = audit_verify(tenant_a.org.pk)
    assert report.intact
    assert (report.chains[0].events, report.chains[0].chains) == (5, 3)


def test_moving_an_event_to_another_chain_is_detected(tenant_a: Tenant) -> None:
    first, second = _document(tenant_a), _document(tenant_a)
    _events(tenant_a, first, 2)
    _intruder()
    _sql(
        "UPDATE core_auditevent SET chain = %s, seq = 2 WHERE chain = %s AND seq = 3",
        [f"document:{second.pk}", f"document:{first.pk}"],
    )
    _sql(
        "UPDATE core_auditchainhead SET last_seq = 2 WHERE chain IN (%s, %s)",
        [f"document:{first.pk}", f"document:{second.pk}"],
    )
    assert not audit_verify(tenant_a.org.pk).intact


@pytest.mark.django_db(transaction=True)
def test_commands_on_different_documents_do_not_wait_for_each_other() -> None:
    """A transaction holding one document's chain does not hold another's: the
    second writer finishes while the first is still open (PostgreSQL row locks;
    SQLite has one writer at a time by design)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    tenant = make_tenant("Parallel")
    first, second = _document(tenant, "Один"), _document(tenant, "Два")
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_first() -> None:
        try:
            with transaction.atomic():
                _events(tenant, first, 1)
                holding.set()
                release.wait(30)
        # Blind on purpose: the thread's error goes to the main thread, which fails on it.
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
            holding.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold_first)
    thread.start()
    try:
        assert holding.wait(30)
        with transaction.atomic():
            _sql("SET LOCAL lock_timeout = '3s'", [])
            _events(tenant, second, 1)  # would time out if it queued behind the first
            same_org = audit_record(organisation_id=tenant.org.pk, verb="x.done")
        assert same_org.seq == 1
    finally:
        release.set()
        thread.join(30)
    assert errors == []
    assert audit_verify(tenant.org.pk).intact


# --- the attack the digest exists for ------------------------------------------------


@pytest.mark.usefixtures("digests")
def test_tail_deletion_passes_without_a_digest_and_is_detected_after_one(
    tenant_a: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13.6: delete the last events and roll the head back with them."""
    document = _document(tenant_a)
    _events(tenant_a, document, 6)
    for _ in range(4):
        audit_record(organisation_id=tenant_a.org.pk, verb="route.published")
    chain = f"document:{document.pk}"

    # Before any digest the attack leaves a consistent chain: this is the window.
    _intruder()
    savepoint = transaction.savepoint()
    _cut_tail(tenant_a.org.pk, chain, 3)
    _cut_tail(tenant_a.org.pk, "", 2)
    assert audit_verify(tenant_a.org.pk).intact
    transaction.savepoint_rollback(savepoint)

    audit_digest_write()
    assert audit_verify(tenant_a.org.pk).intact
    attacks = [
        (chain, 3, ANCHOR_MISMATCH),
        (chain, 7, ANCHOR_MISMATCH),  # the document's whole chain
        ("", 2, DIGEST_MISMATCH),  # the organisation's last events, the anchor too
    ]
    detected = 0
    for target, count, problem in attacks:
        savepoint = transaction.savepoint()
        _cut_tail(tenant_a.org.pk, target, count)
        report = audit_verify(tenant_a.org.pk)
        transaction.savepoint_rollback(savepoint)
        broken = report.chains[0]
        assert (broken.chain, broken.problem) == (target, problem)
        detected += 1
    # Both chains cut at once, anchor and all: the digest still names the tail.
    _cut_tail(tenant_a.org.pk, chain, 3)
    _cut_tail(tenant_a.org.pk, "", 2)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", stdout=StringIO(), stderr=err)
    assert "covered by the signed digest of" in err.getvalue()
    detected += 1
    with capsys.disabled():
        print(
            f"\naudit anchor: tail deletion of 2 to 7 events with the head rolled back "
            f"detected {detected} of {len(attacks) + 1} times after the digest, 0 of 1 "
            "before it (the window until the next digest)"
        )


# --- anchors -------------------------------------------------------------------------


def test_anchor_names_each_moved_document_chain_once(tenant_a: Tenant) -> None:
    first, second = _document(tenant_a), _document(tenant_a)
    _events(tenant_a, first, 2)

    assert audit_anchor() == 2
    anchor = AuditEvent.objects.get(verb=ANCHOR_VERB)
    assert (anchor.chain, anchor.actor_label) == ("", "system")
    heads = {
        chain: [seq, hash_]
        for chain, seq, hash_ in AuditChainHead.objects.exclude(chain="").values_list(
            "chain", "last_seq", "last_hash"
        )
    }
    assert {c: [s, h] for c, s, h in anchor.payload["chains"]} == heads
    assert audit_anchor() == 0  # nothing moved since
    _events(tenant_a, second, 1)
    assert audit_anchor() == 1
    latest = AuditEvent.objects.filter(verb=ANCHOR_VERB).order_by("-seq").first()
    assert latest is not None
    assert [c for c, _s, _h in latest.payload["chains"]] == [f"document:{second.pk}"]
    assert audit_verify().intact


def test_a_changed_anchor_breaks_the_organisations_chain(tenant_a: Tenant) -> None:
    _events(tenant_a, _document(tenant_a), 1)
    audit_anchor()
    _intruder()
    anchor = AuditEvent.objects.get(verb=ANCHOR_VERB)
    forged = {"chains": [[c, s - 1, h] for c, s, h in anchor.payload["chains"]]}
    payload = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    _sql(
        f"UPDATE core_auditevent SET payload = {payload} WHERE id = %s",  # noqa: S608
        [json.dumps(forged), anchor.pk],
    )
    chain = audit_verify(tenant_a.org.pk).chains[0]
    assert (chain.chain, chain.broken_seq) == ("", anchor.seq)


# --- the digest ----------------------------------------------------------------------


def test_digest_file_is_signed_read_only_and_logged(
    tenant_a: Tenant,
    tenant_b: Tenant,
    digests: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _events(tenant_a, _document(tenant_a), 1)
    audit_record(organisation_id=tenant_b.org.pk, verb="x.done")
    with caplog.at_level("INFO", logger="sogla.audit"):
        path = audit_digest_write()

    assert path.parent == digests
    assert not stat.S_IMODE(path.stat().st_mode) & 0o222  # nobody may write it
    outer = json.loads(path.read_text())
    heads = {
        org: (seq, hash_)
        for org, seq, hash_ in AuditChainHead.objects.filter(chain="").values_list(
            "organisation_id", "last_seq", "last_hash"
        )
    }
    assert {
        e["organisation"]: (e["seq"], e["hash"])
        for e in outer["digest"]["organisations"]
    } == heads
    digest = latest_digest()
    assert digest is not None
    assert (digest.problem, digest.heads) == ("", heads)
    lines = [
        r.getMessage() for r in caplog.records if "audit digest {" in r.getMessage()
    ]
    assert len(lines) == 2  # one signed line per organisation
    from_log = parse_digest(lines[0].removeprefix("audit digest "), "log")
    assert from_log.problem == ""
    assert len(from_log.heads) == 1
    moment = timezone.now() + timedelta(seconds=5)
    audit_digest_write(now=moment)
    with pytest.raises(FileExistsError):  # a digest is never written over
        audit_digest_write(now=moment)


@pytest.mark.usefixtures("digests")
def test_a_forged_or_foreign_digest_is_refused(
    tenant_a: Tenant, settings: Any, tmp_path: Path
) -> None:
    audit_record(organisation_id=tenant_a.org.pk, verb="x.done")
    path = audit_digest_write()
    text = path.read_text()
    outer = json.loads(text)
    # An intruder who can write files but has no key: a head moved back by one.
    outer["digest"]["organisations"][0]["seq"] -= 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(outer))
    assert read_digest(forged).problem == DIGEST_SIGNATURE
    report = audit_verify(digest=read_digest(forged))
    assert not report.intact
    assert report.broken == []  # the chains are fine; the digest is not
    junk = tmp_path / "junk.json"
    junk.write_text("not a digest")
    assert read_digest(junk).problem == DIGEST_UNREADABLE
    settings.AUDIT_KEY = "another-key-" + "x" * 40
    assert parse_digest(text, "file").problem == DIGEST_SIGNATURE
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", stdout=StringIO(), stderr=err)
    assert "does not match its signature" in err.getvalue()


@pytest.mark.usefixtures("digests")
def test_each_organisations_administrators_get_only_its_line(
    tenant_a: Tenant,
    tenant_b: Tenant,
    settings: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    smtp: Smtp = request.getfixturevalue("loopback_smtp")  # the notifications' server
    settings.AUDIT_DIGEST_MAIL = True
    audit_record(organisation_id=tenant_a.org.pk, verb="x.done")
    audit_record(organisation_id=tenant_b.org.pk, verb="x.done")
    audit_digest_write()

    by_recipient = {str(m["To"]): m for m in smtp.sink.messages}
    assert set(by_recipient) == {tenant_a.admin.email, tenant_b.admin.email}
    message = by_recipient[tenant_a.admin.email]
    body = message.get_content()
    line = body.strip().splitlines()[-1]
    saved = tmp_path / "from-mail.json"
    saved.write_text(line)
    mailed = read_digest(saved)
    assert (mailed.problem, list(mailed.heads)) == ("", [tenant_a.org.pk])
    out = StringIO()
    call_command(
        "audit",
        "verify",
        "--organisation",
        str(tenant_a.org.pk),
        "--digest",
        str(saved),
        stdout=out,
    )
    assert f"Checked against the signed digest of {mailed.created_at}" in out.getvalue()


def test_the_worker_anchors_and_writes_the_first_digest(
    tenant_a: Tenant, digests: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AUDIT_ANCHOR_SECONDS = 60
    monkeypatch.setattr("sogla.core.audit_anchor._next_tick", 0.0)
    _events(tenant_a, _document(tenant_a), 1)

    Worker().sweep()
    assert len(list(digests.glob("digest-*.json"))) == 1
    assert AuditEvent.objects.filter(verb=ANCHOR_VERB).count() == 1
    _events(tenant_a, Document.objects.get(), 1)
    Worker().sweep()  # within the minute: nothing
    assert AuditEvent.objects.filter(verb=ANCHOR_VERB).count() == 1
    monkeypatch.setattr("sogla.core.audit_anchor._next_tick", 0.0)
    assert audit_housekeeping() == 1  # anchored; the digest is not due yet
    assert len(list(digests.glob("digest-*.json"))) == 1
    monkeypatch.setattr("sogla.core.audit_anchor._next_tick", 0.0)
    audit_housekeeping(now=timezone.now() + timedelta(hours=25))
    assert len(list(digests.glob("digest-*.json"))) == 2
    assert audit_verify().intact
