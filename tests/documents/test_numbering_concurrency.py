"""Numbers stay unique and gap-free when many people create documents at once."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection, connections

from sogla.core.errors import ValidationFailed
from sogla.documents.models import Document
from sogla.documents.services import document_create
from tests.conftest import Tenant, make_tenant

# A stress test (concurrent writers): `make test-fast` and `-m "not slow"` leave it out.
pytestmark = pytest.mark.slow

THREADS = 8
PER_THREAD = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_unique_gap_free_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is exercised on PostgreSQL")
    tenant: Tenant = make_tenant("Concurrent")
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def create_many(index: int) -> None:
        try:
            barrier.wait()
            for n in range(PER_THREAD):
                values = {"subject": f"t{index}-{n}", "amount": "1"}
                if n == 2:  # a failing creation in the middle must not burn a number
                    values["amount"] = "not a number"
                with contextlib.suppress(ValidationFailed):
                    document_create(
                        actor=tenant.initiator, doc_type=tenant.contract, values=values
                    )
        # Blind on purpose: the thread's error goes to the main thread, which fails on it.
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create_many, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    numbers = sorted(
        int(n[-5:]) for n in Document.objects.values_list("number", flat=True)
    )
    expected = THREADS * (PER_THREAD - 1)
    with capsys.disabled():
        print(
            f"\nnumbering: {THREADS} threads, {len(numbers)} documents, "
            f"duplicates {len(numbers) - len(set(numbers))}, "
            f"gaps {len(set(range(1, expected + 1)) - set(numbers))}"
        )
    assert errors == []
    assert numbers == list(range(1, expected + 1))
