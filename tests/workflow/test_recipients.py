"""Who a notice reaches: every notify target reaches someone or is audited."""

from __future__ import annotations

import pytest

from sogla.core.models import AuditEvent
from sogla.documents.models import FieldKind
from sogla.documents.services import document_create
from sogla.notifications.models import Notification
from sogla.orgs.models import User
from sogla.workflow import services
from tests.conftest import Tenant
from tests.factories import (
    RoleFactory,
    add_field,
)
from tests.workflow.conftest import (
    approve,
    decide,
    open_task,
    person,
    publish,
    route,
    stage,
)

pytestmark = pytest.mark.django_db


def test_every_notify_target_reaches_someone_or_is_audited(tenant_a: Tenant) -> None:
    add_field(tenant_a.contract, "watcher", FieldKind.USER)
    add_field(tenant_a.contract, "watchers", FieldKind.USERS)
    add_field(tenant_a.contract, "client_email", FieldKind.STRING)
    owner = person(tenant_a, "owner")
    role_holder = person(tenant_a, "accountant")
    RoleFactory(organisation=tenant_a.org, key="accounting").members.add(role_holder)
    RoleFactory(organisation=tenant_a.org, key="empty-role")
    watcher = person(tenant_a, "watcher")
    watchers = [person(tenant_a, "w1"), person(tenant_a, "w2")]
    template = publish(
        tenant_a,
        route(
            stage("ok", approve("ok", {"user": "alpha-head"})),
            on_finish=[
                {
                    "notify": [
                        "initiator",
                        "owner",
                        "role:accounting",
                        "user:alpha-colleague",
                        "field:watcher",
                        "field:watchers",
                        "field:client_email",
                        "role:empty-role",
                        "user:nobody",
                        "field:end_date",
                        "somebody",
                    ]
                }
            ],
        ),
        owner=owner,
    )
    document = document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={
            "subject": "S",
            "amount": "1",
            "watcher": watcher.pk,
            "watchers": [w.pk for w in watchers],
            "client_email": "Buyer@Example.com",
        },
    )
    process = services.process_start(
        actor=tenant_a.initiator, document=document, template=template
    )
    head = User.objects.get(username="alpha-head")
    decide(head, open_task(process, head))
    sent = Notification.objects.filter(kind="workflow.route_notice")
    assert {n.recipient_user_id for n in sent if n.recipient_user_id} == {
        tenant_a.initiator.pk,
        owner.pk,
        role_holder.pk,
        tenant_a.colleague.pk,
        watcher.pk,
        *(w.pk for w in watchers),
    }
    assert [n.recipient_email for n in sent if not n.recipient_user_id] == [
        "buyer@example.com"
    ]
    unresolved = {
        e.payload["target"]: e.payload["reason"]
        for e in AuditEvent.objects.filter(verb="process.notify_unresolved")
    }
    assert unresolved == {
        "role:empty-role": 'nobody holds the role "empty-role"',
        "user:nobody": 'no active user "nobody"',
        "field:end_date": 'the field "end_date" is empty',
        "somebody": "unknown notify target",
    }
    # The card's history says so in words, as the route's own sentence.
    from sogla.workflow.screens.history import history_days

    events = AuditEvent.objects.filter(document_id=document.pk).order_by("seq")
    texts = [
        (entry.actor, entry.text)
        for day in history_days(events=events, show_ip=False)
        for entry in day.entries
    ]
    assert ("", "A notice reached nobody: role:empty-role") in texts
    assert ("", "A notice reached nobody: somebody") in texts
