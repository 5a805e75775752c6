"""A real SMTP server on loopback (aiosmtpd) and an approval that queues notices."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from sogla.documents.models import Document
from sogla.notifications.models import Notification
from sogla.workflow.models import Process, RouteTemplate, Task, TaskState
from tests.conftest import Tenant
from tests.workflow.conftest import approve, make_document, publish, route, stage, start


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sink:
    """What the SMTP server received: parsed messages, in order."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse: bool = False

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 5.7.1 refused by the test"
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


class Smtp:
    """Start and stop the server on one port, as an SMTP outage would."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sink = Sink()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture(autouse=True)
def _english_organisation(request: pytest.FixtureRequest) -> None:
    """Tenant A speaks English unless a test says otherwise (its default is ru)."""
    if "tenant_a" in request.fixturenames:
        tenant: Tenant = request.getfixturevalue("tenant_a")
        tenant.org.language = "en"
        tenant.org.save(update_fields=["language"])


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.start()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=server.port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_TIMEOUT=5,
        SITE_URL="http://testserver",
    ):
        yield server
    server.stop()


@dataclass
class Approval:
    tenant: Tenant
    template: RouteTemplate
    document: Document
    process: Process
    task: Task

    def notices(self) -> list[Notification]:
        return list(Notification.objects.filter(document=self.document).order_by("pk"))


def start_approval(tenant: Tenant, **values: Any) -> Approval:
    """A one-stage route: the department head approves the initiator's contract."""
    template = RouteTemplate.objects.filter(
        organisation=tenant.org, key="notify-route"
    ).first() or publish(
        tenant,
        route(stage("head", approve("head", {"department_head": "initiator"}))),
        key="notify-route",
    )
    document = make_document(tenant, **values)
    process = start(tenant, template, document)
    task = Task.objects.get(process=process, state=TaskState.OPEN)
    return Approval(tenant, template, document, process, task)


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())


def subject(message: EmailMessage) -> str:
    """The decoded subject (a folded encoded header reads with a leading space)."""
    return str(message["Subject"]).strip()
