"""Scenario tests S1–S8 (../shared/SCENARIOS.md) over the demo organisation Argo.

Each test loads the demo (``demo_load``, about 0.7 s on SQLite and 1.3 s on
PostgreSQL, so once per test), creates a fresh document of the story's type as its
initiator and drives it through the services the web screens and the API call
(``process_start``, ``task_decide``, ``task_file_add``, ``process_resubmit``,
``timer_fire``), deciding as the demo's people.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.core import mail

from sogla.core.models import AuditEvent
from sogla.core.request_meta import RequestMeta
from sogla.demo.services import demo_load
from sogla.documents.models import Counterparty, Document, DocumentType
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.external.recipients import recipient_of_user
from sogla.external.services.codes import challenge_create
from sogla.notifications.models import Notification
from sogla.orgs.models import Organisation, User
from sogla.workflow import services
from sogla.workflow.confirmations import by_code, code_verify, needs_code
from sogla.workflow.definitions import definition_for
from sogla.workflow.models import (
    Process,
    RouteTemplate,
    StageRun,
    Task,
    TaskState,
)
from tests.conftest import MINIMAL_PDF

META = RequestMeta(ip="198.51.100.20", user_agent="pytest-scenario/1.0")
TODAY = date(2026, 3, 2)


def pdf(field_key: str, name: str, extra: bytes = b"") -> NewFile:
    return NewFile(bytes_upload(field_key, name, MINIMAL_PDF + extra), field_key)


@dataclass
class Story:
    """One document driven through its route, with what it has done so far."""

    org: Organisation
    document: Document
    process: Process
    seen: list[int] = field(default_factory=list)  # task ids already reported

    def refresh(self) -> None:
        self.process.refresh_from_db()
        self.document.refresh_from_db()

    def new_tasks(self) -> list[tuple[str, str, str]]:
        """(stage, step, assignee username) of the tasks opened since the last call.

        Carried-over decisions of a new round are rows too, but nobody was asked:
        they are left out here (``carried_over`` lists them).
        """
        tasks = list(
            Task.objects.filter(process=self.process)
            .exclude(pk__in=self.seen)
            .exclude(state=TaskState.CARRIED_OVER)
            .select_related("assignee")
            .order_by("pk")
        )
        self.seen += [t.pk for t in tasks]
        return [
            (t.stage_key, t.step_key, t.assignee.username if t.assignee else "")
            for t in tasks
        ]

    def open_tasks(self) -> list[tuple[str, str, str]]:
        return [
            (t.stage_key, t.step_key, t.assignee.username if t.assignee else "")
            for t in Task.objects.filter(process=self.process, state=TaskState.OPEN)
            .select_related("assignee")
            .order_by("pk")
        ]

    def carried_over(self) -> list[tuple[int, str, str, str]]:
        """(round, stage, assignee username, carried from) of carried-over decisions."""
        return [
            (
                t.round,
                t.stage_key,
                t.assignee.username if t.assignee else "",
                t.carried_from,
            )
            for t in Task.objects.filter(
                process=self.process, state=TaskState.CARRIED_OVER
            )
            .select_related("assignee")
            .order_by("pk")
        ]

    def stages(self) -> list[tuple[str, str]]:
        """(stage, state) of the stage runs of the current round, in route order."""
        return list(
            StageRun.objects.filter(process=self.process, round=self.process.round)
            .order_by("index")
            .values_list("stage_key", "state")
        )

    def task_of(self, username: str) -> Task:
        return Task.objects.get(
            process=self.process, assignee__username=username, state=TaskState.OPEN
        )

    def decide(self, username: str, outcome: str = "approve", **kwargs: Any) -> Task:
        kwargs.setdefault("request_id", uuid.uuid4().hex)
        kwargs.setdefault("meta", META)
        actor, open_task = user(username), self.task_of(username)
        if needs_code(
            definition_for(open_task.process.route_version).step(
                open_task.stage_key, open_task.step_key
            )
        ):
            # A signing step: a one-time code by mail, checked, then the decision.
            challenge = challenge_create(
                task=open_task,
                recipient=recipient_of_user(actor),
                outcome=outcome,
                files_sha256=services.files_sha256(self.document),
                meta=META,
            )
            code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
            assert code is not None
            code_verify(open_task, f"user:{actor.pk}", str(challenge.pk), code[1])
            kwargs.setdefault("confirmation", by_code(str(challenge.pk)))
        task = services.task_decide(
            actor=actor, task_id=open_task.pk, outcome=outcome, **kwargs
        )
        self.refresh()
        return task

    def status(self) -> str:
        self.document.refresh_from_db()
        return self.document.status.key

    def verbs(self) -> list[str]:
        """The process's audit verbs in order (document events of the card)."""
        return list(
            AuditEvent.objects.filter(document=self.document)
            .order_by("seq")
            .values_list("verb", flat=True)
        )

    def notifications(self) -> list[tuple[str, str]]:
        """(kind, recipient username or e-mail) of the document's outbox, in order."""
        return [
            (
                n.kind,
                n.recipient_user.username if n.recipient_user else n.recipient_email,
            )
            for n in Notification.objects.filter(document=self.document)
            .select_related("recipient_user")
            .order_by("pk")
        ]


def user(username: str) -> User:
    return User.objects.get(organisation__slug="argo", username=username)


def party(name_part: str) -> Counterparty:
    return Counterparty.objects.get(organisation__slug="argo", name__contains=name_part)


def begin(
    *,
    initiator: str,
    doc_type: str,
    route: str,
    values: dict[str, Any],
    files: list[NewFile] | None = None,
) -> Story:
    org = Organisation.objects.get(slug="argo")
    document = document_create(
        actor=user(initiator),
        doc_type=DocumentType.objects.get(organisation=org, key=doc_type),
        values=values,
        files=files or [],
        meta=META,
    )
    template = RouteTemplate.objects.get(organisation=org, key=route)
    process = services.process_start(
        actor=user(initiator), document=document, template=template, meta=META
    )
    story = Story(org=org, document=document, process=process)
    story.refresh()
    return story


@pytest.fixture
def argo(db: None) -> Organisation:
    report = demo_load(today=TODAY)
    assert report.warnings == []
    return Organisation.objects.get(slug="argo")
