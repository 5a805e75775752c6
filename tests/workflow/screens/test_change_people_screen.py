"""The card's "Change participants" control: who sees it, what a post does, and the
refusals said in place."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sogla.workflow.models import Process, Task, TaskState
from tests.conftest import Tenant
from tests.workflow.conftest import approve, person, publish, route, stage
from tests.workflow.screens.conftest import draft, signed_in
from tests.workflow.screens.test_approval_screens import card_url, start

pytestmark = pytest.mark.django_db


def test_the_owner_changes_people_others_do_not_see_or_may_not(
    tenant_a: Tenant,
) -> None:
    lawyer = person(tenant_a, "lawyer", first_name="Pavel", last_name="Petrov")
    other = person(tenant_a, "other", first_name="Ivan", last_name="Kozlov")
    template = publish(
        tenant_a,
        route(stage("s1", approve("first", {"user": "alpha-lawyer"}))),
        owner=tenant_a.admin,
    )
    document = draft(tenant_a)
    start(signed_in(tenant_a.initiator), document, template.key)
    url = reverse("workflow:participants", args=[document.pk])
    admin = signed_in(tenant_a.admin)
    assert "Change participants" in admin.get(card_url(document)).content.decode()
    added = admin.post(
        url, {"stage": "s1", "step": "first", "action": "add", "user": other.pk}
    )
    assert added.status_code == 302
    assert Task.objects.get(assignee=other).state == TaskState.OPEN
    moved = admin.post(
        url,
        {"stage": "s1", "step": "first", "action": "due", "user": other.pk,
         "due": "2030-05-20"},
    )  # fmt: skip
    assert moved.status_code == 302
    assert Task.objects.get(assignee=other).due_at.date().isoformat() == "2030-05-20"  # type: ignore[union-attr]
    bad = admin.post(
        url, {"stage": "s1", "step": "first", "action": "due", "user": other.pk}
    )
    assert bad.status_code == 422
    assert "Enter a date." in bad.content.decode()
    removed = admin.post(
        url, {"stage": "s1", "step": "first", "action": "remove", "user": lawyer.pk}
    )
    assert removed.status_code == 302
    refused = admin.post(
        url, {"stage": "s1", "step": "first", "action": "remove", "user": other.pk}
    )
    assert refused.status_code == 409
    assert "could never be completed" in refused.content.decode()
    # the initiator (the route does not allow it) and a participant: no control, 403
    for user in (tenant_a.initiator, other):
        client = signed_in(user)
        assert (
            "Change participants" not in client.get(card_url(document)).content.decode()
        )
        answer = client.post(
            url, {"stage": "s1", "step": "first", "action": "add", "user": lawyer.pk}
        )
        assert answer.status_code == 403
    assert Process.objects.get(document=document).status == "running"
