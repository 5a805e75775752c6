"""Guests: a route with a guest step, its invitation delivered, the link opened."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from sogla.notifications.delivery import notifications_deliver_due
from sogla.workflow.models import Process, Task, TaskState
from tests.conftest import Tenant
from tests.workflow.conftest import (
    approve,
    decide,
    make_document,
    person,
    publish,
    route,
    stage,
    start,
)

GUEST = "partner@example.com"
LINK = re.compile(r"https?://[^\s\"<>]+/g/([A-Za-z0-9_\-]{40,})/")


@pytest.fixture
def staff(tenant_a: Tenant) -> dict[str, Any]:
    from sogla.orgs.models import User

    return {
        "head": User.objects.get(username="alpha-head"),
        "ceo": person(tenant_a, "ceo"),
    }


@pytest.fixture(autouse=True)
def _english(request: pytest.FixtureRequest) -> None:
    if "tenant_a" in request.fixturenames:
        tenant: Tenant = request.getfixturevalue("tenant_a")
        tenant.org.language = "en"
        tenant.org.save(update_fields=["language"])


def guest_route(
    people: dict[str, Any], *, otp: bool = False, **extra: Any
) -> dict[str, Any]:
    step = approve(
        "partner",
        {"guests": [GUEST]},
        guest_fields=["subject", "amount"],
        outcomes=["approve", "approve_with_remarks", "return", "reject"],
    )
    if otp:
        step["confirm"] = "otp"
    return route(
        stage("head", approve("head", {"user": people["head"].username})),
        stage("guest", step),
        stage("ceo", approve("ceo", {"user": people["ceo"].username})),
        **extra,
    )


def found(pattern: str, text: Any) -> str:
    """The first group of ``pattern`` in ``text`` (which must match)."""
    match = re.search(pattern, str(text))
    assert match is not None, f"{pattern!r} not found"
    return match.group(1)


def deliver() -> list[Any]:
    before = len(mail.outbox)
    notifications_deliver_due()
    return mail.outbox[before:]


def links_in(messages: list[Any]) -> list[str]:
    found = []
    for message in messages:
        found += LINK.findall(message.body)
    return found


def to_guest_stage(
    tenant: Tenant, people: dict[str, Any], **kw: Any
) -> tuple[Process, Task, str]:
    template = publish(tenant, guest_route(people, **kw))
    document = make_document(tenant)
    process = start(tenant, template, document)
    head_task = Task.objects.get(
        process=process, assignee=people["head"], state=TaskState.OPEN
    )
    decide(people["head"], head_task)
    sent = [m for m in deliver() if GUEST in m.to]
    assert sent, "the guest got no mail"
    tokens = links_in(sent)
    assert tokens, sent[0].body
    task = Task.objects.get(process=process, guest_email=GUEST, state=TaskState.OPEN)
    return process, task, tokens[-1]


def open_link(client: Client, token: str, **extra: Any) -> Any:
    extra.setdefault("HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64) Chrome/130")
    return client.get(f"/g/{token}/", **extra)
