"""What the registry's traffic lights show of a page of documents, in one
written-out statement: each document's processes (with their route version's
publication), the stage runs of each process's current round and the open tasks
of its active process with their assignees (the ORM's three statements, and the
model instances, cost more than the rows themselves at fifty rows per page).

Rows come back as plain values; the screen (``screens.traffic_light``) picks each
document's process and colours its stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from sogla.orgs.models import short_name
from sogla.workflow.models import ACTIVE_PROCESS_STATUSES, TaskState


@dataclass
class ProcessValues:
    """A process as its traffic light reads it (``finished_at`` for "— · date")."""

    pk: int
    document_id: int
    route_version_id: int
    version_status: str
    published_at: datetime | None
    status: str
    round: int
    stage_index: int
    started_at: datetime
    finished_at: datetime | None
    runs: dict[str, str] = field(default_factory=dict)  # stage key -> its state
    tasks: list[OpenTask] = field(default_factory=list)  # by creation

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_PROCESS_STATUSES


@dataclass(frozen=True)
class Holder:
    """The assignee of an open task, as the light names them."""

    short_name: str


@dataclass(frozen=True)
class OpenTask:
    pk: int
    kind: str
    stage_key: str
    guest_email: str
    assignee: Holder | None
    created_at: datetime
    due_at: datetime | None
    overdue: bool


_TIME = "CAST(NULL AS timestamp with time zone)"
_INT = "CAST(NULL AS integer)"
_TEXT = "CAST(NULL AS varchar(1))"
_BOOL = "CAST(NULL AS boolean)"

# kind, process, then three numbers, six texts, three moments and a flag
# NOT MATERIALIZED: SQLite otherwise materialised ``p`` and took 40 ms at 100,000
# documents for what its three parts take 1.4 ms apart (0.5 ms inlined); on
# PostgreSQL a CTE used three times is materialised unless told so, and the page's
# fifty processes are found through the document index either way.
_SQL = f"""
WITH p AS NOT MATERIALIZED (
  SELECT id, document_id, route_version_id, status, round, stage_index,
         started_at, finished_at
  FROM workflow_process
  WHERE organisation_id = %s AND document_id IN ({{ids}})
)
SELECT 0, p.id, p.document_id, p.route_version_id, p.round, p.stage_index,
       p.status, v.status, {_TEXT}, {_TEXT}, {_TEXT}, {_TEXT},
       p.started_at, p.finished_at, v.published_at, {_BOOL}
FROM p JOIN workflow_routeversion v ON v.id = p.route_version_id
UNION ALL
SELECT 1, r.process_id, {_INT}, {_INT}, {_INT}, {_INT},
       r.stage_key, r.state, {_TEXT}, {_TEXT}, {_TEXT}, {_TEXT},
       {_TIME}, {_TIME}, {_TIME}, {_BOOL}
FROM workflow_stagerun r JOIN p ON p.id = r.process_id AND r.round = p.round
UNION ALL
SELECT 2, t.process_id, t.id, {_INT}, {_INT}, {_INT},
       t.kind, t.stage_key, t.guest_email, u.first_name, u.last_name, u.username,
       t.created_at, t.due_at, {_TIME}, t.overdue
FROM workflow_task t JOIN p ON p.id = t.process_id
LEFT JOIN orgs_user u ON u.id = t.assignee_id
WHERE t.state = %s AND p.status IN (%s, %s)
"""  # noqa: S608 - constants and placeholders only


def _moment(value: Any) -> datetime | None:
    """A timestamp as the driver returns it: PostgreSQL's aware datetime, SQLite's
    naive datetime or text, in UTC (as Django stores it)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def light_processes(
    organisation_id: int, document_ids: Sequence[int]
) -> list[ProcessValues]:
    """Every process of the documents (of this organisation), each with the states
    of its current round's stage runs and, when active, its open tasks (oldest
    first): one statement whatever the number of documents."""
    ids = [int(pk) for pk in document_ids]
    if not ids:
        return []
    sql = _SQL.replace("{ids}", ", ".join(["%s"] * len(ids)))
    params: list[int | str] = [
        organisation_id,
        *ids,
        str(TaskState.OPEN),
        *(str(status) for status in ACTIVE_PROCESS_STATUSES),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    processes: dict[int, ProcessValues] = {}
    for row in rows:
        if row[0] == 0:
            processes[row[1]] = ProcessValues(
                pk=row[1],
                document_id=row[2],
                route_version_id=row[3],
                round=row[4],
                stage_index=row[5],
                status=row[6],
                version_status=row[7],
                started_at=_moment(row[12]),  # type: ignore[arg-type]
                finished_at=_moment(row[13]),
                published_at=_moment(row[14]),
            )
    tasks: list[tuple[datetime, int, int, OpenTask]] = []
    for row in rows:
        if row[0] == 1:
            processes[row[1]].runs[row[6]] = row[7]
        elif row[0] == 2:
            created = _moment(row[12])
            assert created is not None  # noqa: S101 - a task's created_at is required
            tasks.append(
                (
                    created,
                    row[2],
                    row[1],
                    OpenTask(
                        pk=row[2],
                        kind=row[6],
                        stage_key=row[7],
                        guest_email=row[8] or "",
                        assignee=(
                            Holder(short_name(row[9], row[10], row[11]))
                            if row[11] is not None
                            else None
                        ),
                        created_at=created,
                        due_at=_moment(row[13]),
                        overdue=bool(row[15]),
                    ),
                )
            )
    tasks.sort(key=lambda item: (item[0], item[1]))
    for _created, _pk, process_id, task in tasks:
        processes[process_id].tasks.append(task)
    return list(processes.values())
