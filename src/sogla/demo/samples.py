"""Loading the sample documents of the demo, with their files, and moving the
samples that have a ``process`` along their route by the decisions listed, through
the workflow services, as the people would.

Samples come with their document type: they are created in the run that creates the
type, so a second run (or a type the administrator changed) adds none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.utils import timezone

from sogla.core.errors import ApplicationError, ValidationFailed
from sogla.demo.loading import DemoDataError, Loading, MissingUser
from sogla.demo.pdf import simple_pdf
from sogla.demo.schema import DocumentIn, ProcessIn
from sogla.documents.models import Document, StatusDef
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import Role, User
from sogla.workflow.models import Task, TaskState
from sogla.workflow.services import process_resubmit, process_start, task_decide


def load_documents(loading: Loading) -> None:
    for document in loading.data.documents:
        _document(loading, document)


def _document(loading: Loading, data: DocumentIn) -> None:
    doc_type = loading.new_types.get(data.type)
    if doc_type is None:  # the type was there before this run: its samples too
        return
    initiator = loading.user(data.initiator, f"initiator of a {data.type}")
    if initiator is None:
        return
    try:
        values = {key: _value(loading, value) for key, value in data.values.items()}
    except MissingUser:
        return  # already warned
    files = [
        NewFile(bytes_upload(f.field, f.name, simple_pdf(f.lines)), f.field)
        for f in data.files
    ]
    try:
        document = document_create(
            actor=initiator, doc_type=doc_type, values=values, files=files
        )
    except ValidationFailed as error:
        raise DemoDataError(f"a sample {data.type}: {error}") from error
    if data.status is not None:
        # Demo data only: a few documents are shown as already finished.
        document.status = StatusDef.objects.get(doc_type=doc_type, key=data.status)
        document.save(update_fields=["status", "updated_at"])
    loading.created["documents"] += 1
    if data.process is not None:
        _process(loading, document, initiator, data.process)


def _process(
    loading: Loading, document: Document, initiator: User, data: ProcessIn
) -> None:
    """Start the sample's route and make its decisions, as the people would."""
    template = loading.templates.get(data.route)
    if template is None:
        if loading.templates:  # else no routes at all, and that was said once
            loading.warn(f"no route {data.route} for a sample {document.doc_type.key}")
        return
    start = (
        timezone.now() - timedelta(days=data.started_days_ago)
        if data.started_days_ago
        else None
    )
    try:
        process = process_start(
            actor=initiator, document=document, template=template, now=start
        )
        for index, move in enumerate(data.decisions):
            person = loading.user(move.by, f"a decision on {document.number}")
            if person is None:
                return
            if move.outcome == "resubmit":
                process_resubmit(actor=person, process=process, comment=move.comment)
                continue
            task = (
                Task.objects.for_org(loading.org)
                .filter(process=process, assignee=person, state=TaskState.OPEN)
                .order_by("created_at", "pk")
                .first()
            )
            if task is None:
                raise DemoDataError(
                    f"{document.number}: {move.by} has no open task "
                    f"for decision {index + 1}"
                )
            task_decide(
                actor=person,
                task_id=task.pk,
                outcome=move.outcome,
                comment=move.comment,
                request_id=f"demo-{process.pk}-{index + 1}",
                fields={k: _value(loading, v) for k, v in move.fields.items()},
                now=start + timedelta(hours=2 * (index + 1)) if start else None,
            )
    except (ApplicationError, MissingUser) as error:
        raise DemoDataError(f"{document.number}: {error!r}") from error
    loading.created["processes"] += 1


def _value(loading: Loading, value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    if "user" in value:
        return _user_id(loading, value["user"])
    if "users" in value:
        return [_user_id(loading, name) for name in value["users"]]
    if "role" in value:
        role = Role.objects.for_org(loading.org).get(key=value["role"])
        return sorted(role.members.values_list("pk", flat=True))
    if "counterparty" in value:
        party = loading.parties.get(value["counterparty"])
        if party is None:
            raise DemoDataError(f"no demo counterparty {value['counterparty']}")
        return party.pk
    if "days" in value:
        return (loading.today + timedelta(days=int(value["days"]))).isoformat()
    raise DemoDataError(f"unknown reference {dict(value)!r}")


def _user_id(loading: Loading, username: str) -> int:
    user = loading.user(username, "a sample document's field")
    if user is None:
        raise MissingUser(username)
    return user.pk
