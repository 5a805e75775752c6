"""Marks the card's route map shows next to a participant's task, supplied by the
apps that know them (``sogla.external``: when a guest first opened their link,
an invitation that could not be delivered, a person locked out of one-time codes).
Workflow does not import those apps; they register a source here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sogla.workflow.models import Task


@dataclass
class TaskMarks:
    opened_at: datetime | None = None  # a guest first opened their link
    opened_today: bool = False
    undelivered: str = ""  # "failed" (given up) or "retrying": the invitation mail
    locked: list[str] = field(default_factory=list)  # participant refs locked out


MarksSource = Callable[[Sequence[Task]], dict[int, TaskMarks]]
_sources: list[MarksSource] = []


def register_marks(source: MarksSource) -> None:
    """Called once by the app that owns the marks (a second call replaces it)."""
    _sources[:] = [source]


def task_marks(tasks: Sequence[Task]) -> dict[int, TaskMarks]:
    """Task id -> its marks, for the tasks that have any (constant queries)."""
    if not _sources or not tasks:
        return {}
    return _sources[0](tasks)
