"""Concurrent writers never fork an organisation's chain (PostgreSQL row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from sogla.core.audit import audit_record, audit_verify
from sogla.core.models import AuditChainHead, AuditEvent
from tests.conftest import Tenant, make_tenant

# A stress test (concurrent writers): `make test-fast` and `-m "not slow"` leave it out.
pytestmark = pytest.mark.slow

THREADS = 8
PER_THREAD = 25


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_give_one_unbroken_chain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is exercised on PostgreSQL")
    tenant: Tenant = make_tenant("Concurrent")
    other: Tenant = make_tenant("Neighbour")
    assert not AuditChainHead.objects.exists()  # the first writers race for the head
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def write(index: int) -> None:
        try:
            barrier.wait()
            for n in range(PER_THREAD):
                org = tenant if n % 5 else other
                with transaction.atomic():
                    audit_record(
                        organisation_id=org.org.pk,
                        verb="task.decided",
                        actor=org.initiator,
                        payload={"thread": index, "n": n},
                    )
        # Blind on purpose: the thread's error goes to the main thread, which fails on it.
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    report = audit_verify()
    seqs = list(
        AuditEvent.objects.for_org(tenant.org)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    with capsys.disabled():
        print(
            f"\naudit chain: {THREADS} threads, {report.events} events, "
            f"{len(report.broken)} broken chains"
        )
    assert errors == []
    assert report.intact
    assert report.events == THREADS * PER_THREAD
    assert seqs == list(range(1, THREADS * PER_THREAD * 4 // 5 + 1))
