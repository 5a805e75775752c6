"""The worker's slow sweeps as background tasks (django-tasks), for the Redis/RQ
backend: with ``SOGLA_TASKS_BACKEND=rq`` the ``sogla worker`` loop keeps firing
timers and delivering mail itself and hands file previews (LibreOffice
conversions) and search indexing to ``sogla rqworker`` processes, as many as the
installation runs, on any machine that reaches the database, Redis and the files.

Each task is one bounded sweep of rows marked due in the database (the same
functions the worker calls with the database backend), so a task that runs twice or
never is harmless: the rows stay due until a sweep has done them.
"""

from __future__ import annotations

from django_tasks import task

from sogla.documents.services import previews_build_due, search_index_due

PREVIEWS_PER_TASK = 2  # a conversion takes seconds: few at a time
INDEXED_PER_TASK = 100


@task()
def build_previews() -> int:
    """Convert the files whose previews are due; how many were built."""
    return previews_build_due(limit=PREVIEWS_PER_TASK)


@task()
def index_documents() -> int:
    """Extract file texts and index the documents marked for search; how many."""
    return search_index_due(limit=INDEXED_PER_TASK, seconds=3.0)


SWEEPS = {"previews": build_previews, "search": index_documents}

__all__ = ["SWEEPS", "build_previews", "index_documents"]
