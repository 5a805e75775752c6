"""The card's approval rows in one statement: the document's process (chosen as
``route_map.process_for_document`` chooses it) with its route version, template and
initiator, the tasks of this round and the earlier ones with their people, and this
round's stage and step runs (``state_rows.Union``), for ``route_map``.

Every branch is scoped to the document's organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from sogla.documents.models import Document
from sogla.orgs.models import User
from sogla.workflow.models import (
    ACTIVE_PROCESS_STATUSES,
    Process,
    RouteTemplate,
    RouteVersion,
    StageRun,
    StepRun,
    Task,
)
from sogla.workflow.state_rows import Table, Union


@dataclass
class MapRows:
    """A process's rows the route map is drawn from: its tasks of this round and
    the earlier ones (people joined), in (round, id) order, and this round's
    stage and step runs."""

    tasks: list[Task]
    stage_runs: list[StageRun]
    step_runs: list[StepRun]


def _all_fields(model: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in model._meta.concrete_fields)


# The card's process with its route version, template and initiator, the tasks'
# people, the tasks and the runs: one statement (``state_rows.Union``), planned
# once per connection on PostgreSQL.
_CARD_ROWS = Union(
    (
        Table(Process, _all_fields(Process)),
        Table(RouteVersion, _all_fields(RouteVersion)),
        Table(RouteTemplate, _all_fields(RouteTemplate)),
        Table(User, _all_fields(User)),
        Table(Task, _all_fields(Task), ordering=("round", "id")),
        Table(StageRun, _all_fields(StageRun)),
        Table(StepRun, _all_fields(StepRun)),
    )
)
_card_where: dict[str, list[str]] = {}


def _card_clauses() -> list[str]:
    """The WHERE clause of each of ``_CARD_ROWS``' tables: the organisation's rows
    of the document's process (chosen as ``_process_of`` chooses it) and of its
    round. Identifiers come from the models' metadata; values are parameters."""
    quote = connection.ops.quote_name
    processes = quote(Process._meta.db_table)
    tasks = quote(Task._meta.db_table)
    versions = quote(RouteVersion._meta.db_table)
    statuses = ", ".join(["%s"] * len(ACTIVE_PROCESS_STATUSES))
    process = (
        f"(SELECT p.id FROM {processes} p WHERE p.document_id = %s"  # noqa: S608
        " AND p.organisation_id = %s"
        f" ORDER BY CASE WHEN p.status IN ({statuses}) THEN 0 ELSE 1 END,"
        " p.started_at DESC, p.id DESC LIMIT 1)"
    )
    round_ = f"(SELECT p.round FROM {processes} p WHERE p.id = {process})"  # noqa: S608
    version = f"(SELECT p.route_version_id FROM {processes} p WHERE p.id = {process})"  # noqa: S608
    people = " UNION ".join(
        [f"SELECT p.initiator_id FROM {processes} p WHERE p.id = {process}"]  # noqa: S608
        + [
            f"SELECT t.{column} FROM {tasks} t WHERE t.process_id = {process}"  # noqa: S608
            f" AND t.round <= {round_}"
            for column in ("assignee_id", "on_behalf_of_id", "decided_by_id")
        ]
    )
    mine = "organisation_id = %s AND "
    return [
        f"{mine}id = {process}",
        f"{mine}id = {version}",
        f"{mine}id = (SELECT v.template_id FROM {versions} v WHERE v.id = {version})",  # noqa: S608
        f"{mine}id IN ({people})",
        f"{mine}process_id = {process} AND round <= {round_}",
        f"{mine}process_id = {process} AND round = {round_}",
        f"{mine}process_id = {process} AND round = {round_}",
    ]


def card_process(document: Document) -> tuple[Process | None, MapRows]:
    """``process_for_document`` and what ``route_map`` reads of that process, in
    one statement: the card's approval."""
    clauses = _card_where.get(connection.vendor)
    if clauses is None:
        clauses = _card_where[connection.vendor] = _card_clauses()
    org = document.organisation_id
    process_params = [document.pk, org, *ACTIVE_PROCESS_STATUSES]
    # each clause: the organisation, then the process's parameters for each time
    # it names the process
    where = [
        (clause, [org, *process_params * clause.count("p.document_id = %s")])
        for clause in clauses
    ]
    found = _CARD_ROWS.read(where)
    processes, versions, templates, people, tasks, stage_runs, step_runs = found
    if not processes:
        return None, MapRows([], [], [])
    process = processes[0]
    by_id = {person.pk: person for person in people}
    if versions:
        version = versions[0]
        if templates:
            _VERSION_TEMPLATE.set_cached_value(version, templates[0])
        _PROCESS_VERSION.set_cached_value(process, version)
    if process.initiator_id in by_id:
        _PROCESS_INITIATOR.set_cached_value(process, by_id[process.initiator_id])
    for task in tasks:
        for field_ in _TASK_PEOPLE:
            pk = getattr(task, field_.attname)
            if pk is None or pk in by_id:
                field_.set_cached_value(task, by_id.get(pk) if pk else None)
    return process, MapRows(tasks, stage_runs, step_runs)


_VERSION_TEMPLATE: Any = RouteVersion._meta.get_field("template")
_PROCESS_VERSION: Any = Process._meta.get_field("route_version")
_PROCESS_INITIATOR: Any = Process._meta.get_field("initiator")
_TASK_PEOPLE: tuple[Any, ...] = tuple(
    Task._meta.get_field(name) for name in ("assignee", "on_behalf_of", "decided_by")
)
