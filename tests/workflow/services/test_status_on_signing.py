"""A step sets the document's status when it is done (issue 11, item 2): a sign
step's ``on_done: {"set_status": "signed"}`` makes a contract «Подписан» and keeps
it so when the route then finishes; checked against the type's statuses at
publishing; audited and told in the history."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.core import mail

from sogla.core.errors import ValidationFailed
from sogla.core.models import AuditEvent
from sogla.documents.models import Document, StatusDef, StatusMeaning
from sogla.orgs.models import User
from sogla.workflow.models import ProcessStatus, Task
from tests.api.conftest import token_client
from tests.conftest import Tenant
from tests.workflow.conftest import (
    approve,
    decide,
    make_document,
    open_task,
    publish,
    route,
    stage,
    start,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(tenant_a: Tenant) -> StatusDef:
    return StatusDef.objects.create(
        organisation=tenant_a.org,
        doc_type=tenant_a.contract,
        key="signed",
        name_ru="Подписан",
        name_en="Signed",
        meaning=StatusMeaning.SUCCESS,
        token="approved",
        order=5,
    )


def sign(key: str, user: User, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "sign",
        "assignee": {"user": user.username},
        "on_done": {"set_status": "signed"},
        **extra,
    }


def approving(key: str, user: User) -> dict[str, Any]:
    """An approve step that sets the status too (``on_done`` fits any step)."""
    return {**sign(key, user), "kind": "approve"}


def sign_with_a_code(user: User, task: Task) -> None:
    """Sign through the API: a one-time code by e-mail, then the decision."""
    client = token_client(user)
    sent = client.post(f"/tasks/{task.pk}/challenge", {"outcome": "approve"})
    assert sent.status_code == 201, sent.content
    found = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert found is not None
    done = client.post(
        f"/tasks/{task.pk}/decision",
        {
            "outcome": "approve",
            "request_id": uuid.uuid4().hex,
            "challenge_id": sent.json()["challenge_id"],
            "code": found[1],
        },
    )
    assert done.status_code == 200, done.content


def status_of(document: Document) -> str:
    document.refresh_from_db()
    return document.status.key


def test_a_signed_contract_is_signed_and_stays_so_when_the_route_finishes(
    tenant_a: Tenant, people: dict[str, User], signed: StatusDef
) -> None:
    lawyer, ceo = people["lawyer"], people["ceo"]
    template = publish(
        tenant_a,
        route(
            stage("legal", approve("l", {"user": lawyer.username})),
            stage("signing", sign("ceo", ceo)),
        ),
    )
    document = make_document(tenant_a)
    process = start(tenant_a, template, document)
    decide(lawyer, open_task(process, lawyer))
    assert status_of(document) == "on_approval"
    sign_with_a_code(ceo, open_task(process, ceo))
    process.refresh_from_db()
    assert process.status == ProcessStatus.APPROVED
    assert status_of(document) == "signed"
    event = AuditEvent.objects.get(verb="process.status_set", document_id=document.pk)
    assert event.payload["status"] == "signed"
    assert event.payload["stage"] == "signing"
    assert event.payload["step"] == "ceo"
    assert event.payload["name_ru"] == "Подписан"


def test_the_status_is_set_when_the_step_is_done_not_when_the_route_ends(
    tenant_a: Tenant, people: dict[str, User], signed: StatusDef
) -> None:
    lawyer, ceo = people["lawyer"], people["ceo"]
    template = publish(
        tenant_a,
        route(
            stage("signing", approving("ceo", ceo)),
            stage("filing", approve("l", {"user": lawyer.username})),
        ),
    )
    document = make_document(tenant_a)
    process = start(tenant_a, template, document)
    decide(ceo, open_task(process, ceo))
    assert status_of(document) == "signed"  # the process still runs
    process.refresh_from_db()
    assert process.status == ProcessStatus.RUNNING
    decide(lawyer, open_task(process, lawyer))
    assert status_of(document) == "signed"


def test_a_returned_signature_sets_no_status(
    tenant_a: Tenant, people: dict[str, User], signed: StatusDef
) -> None:
    ceo = people["ceo"]
    template = publish(tenant_a, route(stage("signing", approving("ceo", ceo))))
    document = make_document(tenant_a)
    process = start(tenant_a, template, document)
    decide(ceo, open_task(process, ceo), "return", comment="wrong page")
    assert status_of(document) != "signed"
    assert not AuditEvent.objects.filter(verb="process.status_set").exists()


def test_publishing_refuses_a_status_the_type_does_not_have(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        publish(tenant_a, route(stage("signing", sign("ceo", people["ceo"]))))
    assert (
        'stages[0].steps[0].on_done.set_status: no status "signed" in this document type'
        in str(refused.value)
    ), refused.value
