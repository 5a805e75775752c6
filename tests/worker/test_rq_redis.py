"""The Redis/RQ task backend against a real Redis server (RELIABILITY: the worker's
queued work runs in RQ workers): with ``TASKS`` on RQ the worker loop hands search
indexing and previews to the queue instead of running them, and an RQ worker runs
them. Needs Redis at ``SOGLA_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0;
``.ci/run`` starts one)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.test import override_settings

from sogla.documents.models import SearchEntry
from sogla.documents.selectors import DocumentFilter, document_list
from sogla.documents.services import NewFile
from sogla.documents.uploads import bytes_upload
from sogla.site.worker import Worker
from tests.conftest import Tenant, skip_or_fail
from tests.documents.test_search import docx_bytes, make

REDIS_URL = os.environ.get("SOGLA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def rq_queue() -> Iterator[str]:
    """A queue of this test's own on the real Redis, with the RQ backend."""
    try:
        import django_rq
        import redis

        del django_rq
    except ImportError:
        skip_or_fail('the RQ extra is not installed: pip install "sogla[rq]"')
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        skip_or_fail(f"no Redis server at {REDIS_URL}")
    name = f"sogla-test-{uuid.uuid4().hex[:12]}"
    with override_settings(
        TASKS={
            "default": {
                "BACKEND": "django_tasks_rq.RQBackend",
                # the worker enqueues on the first; tasks are declared on "default"
                "QUEUES": [name, "default"],
            }
        },
        # results are fetched through the "default" connection (nothing is put on it)
        RQ_QUEUES={
            name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 120},
            "default": {"URL": REDIS_URL},
        },
    ):
        try:
            yield name
        finally:
            import django_rq

            queue = django_rq.get_queue(name)
            queue.empty()
            queue.delete(delete_jobs=True)
            client.close()


def run_rq_worker(queue_name: str) -> None:
    """An RQ worker in this process (no fork: it sees the test's transaction),
    until the queue is empty."""
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    queue = django_rq.get_queue(queue_name, job_class=Job)
    worker = SimpleWorker(
        [queue], connection=queue.connection, job_class=Job, name=uuid.uuid4().hex
    )
    worker.work(burst=True, with_scheduler=False)


def test_the_worker_hands_indexing_to_rq_and_an_rq_worker_runs_it(
    tenant_a: Tenant, rq_queue: str
) -> None:
    upload = bytes_upload(
        "contract_file", "договор.docx", docx_bytes("Подрядчик кроет кровлю.")
    )
    doc = make(tenant_a, "Ремонт", files=[NewFile(upload, "contract_file")])
    assert SearchEntry.objects.get(document=doc).pending

    loop = Worker()
    done = loop.sweep()
    assert (done.indexed, done.previews) == (0, 0)  # not run by the loop itself
    assert done.tasks == 2  # one indexing task, one previews task
    assert SearchEntry.objects.get(document=doc).pending
    assert loop.sweep().tasks == 0  # the previous ones have not run: none again
    handed = dict(loop._handed)

    run_rq_worker(rq_queue)

    assert not SearchEntry.objects.get(document=doc).pending
    found = document_list(user=tenant_a.initiator, filters=DocumentFilter(q="кровлю"))
    assert [d.pk for d in found.items] == [doc.pk]
    for result in handed.values():
        result.refresh()
        assert result.status == "SUCCESSFUL", result.errors
    assert handed["search"].return_value == 1
    assert loop.sweep().tasks == 2  # finished: handed over again
