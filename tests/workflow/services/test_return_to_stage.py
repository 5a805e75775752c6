"""Sending a document back to a chosen earlier stage (issue 11): the decider picks
one of the stages the step lists; a new round starts there, its people are asked
again, the initiator is told, and the history says where it went. Refusals name the
field ``to_stage`` and change nothing. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.core.errors import ValidationFailed
from sogla.core.models import AuditEvent
from sogla.engine.validation import OrgFacts
from sogla.notifications.models import Notification
from sogla.orgs.models import User
from sogla.workflow import services
from sogla.workflow.models import Process, ProcessStatus, Task, TaskState
from sogla.workflow.selectors import task_get_for_decision
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


def definition(people: dict[str, User], **extra: Any) -> dict[str, Any]:
    return route(
        stage(
            "legal",
            approve("lawyer", {"user": people["lawyer"].username}),
            name={"ru": "Юристы", "en": "Legal"},
        ),
        stage("finance", approve("cfo", {"user": people["cfo"].username})),
        stage(
            "ceo",
            approve(
                "ceo", {"user": people["ceo"].username}, return_to=["legal", "finance"]
            ),
        ),
        **extra,
    )


def at_the_ceo(tenant: Tenant, people: dict[str, User], **extra: Any) -> Process:
    process = start(tenant, publish(tenant, definition(people, **extra)),
                    make_document(tenant))  # fmt: skip
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    decide(people["cfo"], open_task(process, people["cfo"]))
    return process


def test_the_ceo_sends_it_back_to_legal(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = at_the_ceo(tenant_a, people)
    mine = open_task(process, people["ceo"])
    panel = task_get_for_decision(user=people["ceo"], task_id=mine.pk)
    assert "return_to_stage" in panel.outcomes
    assert panel.return_stages == [("legal", "Legal"), ("finance", "finance")]

    done = decide(
        people["ceo"], mine, "return_to_stage", comment="annex 2 missing",
        to_stage="legal",
    )  # fmt: skip
    assert done.outcome == "return_to_stage"
    process.refresh_from_db()
    assert process.status == ProcessStatus.RUNNING
    assert process.round == 2
    assert process.sent_back_to == "legal"
    lawyer_task = open_task(process, people["lawyer"])
    assert (lawyer_task.round, lawyer_task.stage_key) == (2, "legal")
    assert not Task.objects.filter(process=process, state=TaskState.OPEN).exclude(
        pk=lawyer_task.pk
    )
    event = AuditEvent.objects.get(verb="process.sent_back")
    assert event.payload["to_stage"] == "legal"
    assert event.payload["to_ru"] == "Юристы"
    assert event.payload["comment"] == "annex 2 missing"
    decided = AuditEvent.objects.get(verb="task.decided", payload__task=mine.pk)
    assert decided.payload["to_stage"] == "legal"
    told = Notification.objects.get(kind="workflow.sent_back")
    assert told.recipient_user == tenant_a.initiator
    assert told.context["to_en"] == "Legal"
    assert (
        Notification.objects.filter(
            kind="workflow.task_assigned", recipient_user=people["lawyer"]
        ).count()
        == 2
    )  # round 1 and round 2

    # the new round runs through to the end
    decide(people["lawyer"], lawyer_task)
    decide(people["cfo"], open_task(process, people["cfo"]))
    decide(people["ceo"], open_task(process, people["ceo"]))
    process.refresh_from_db()
    assert process.status == ProcessStatus.APPROVED


def test_reask_not_approved_carries_the_later_stages_but_not_the_chosen_one(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = at_the_ceo(tenant_a, people, on_return={"reask": "not_approved"})
    decide(people["ceo"], open_task(process, people["ceo"]), "return_to_stage",
           comment="check again", to_stage="legal")  # fmt: skip
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    carried = Task.objects.get(process=process, round=2, stage_key="finance")
    assert carried.state == TaskState.CARRIED_OVER
    assert open_task(process, people["ceo"]).round == 2


@pytest.mark.parametrize("to_stage", ["", "ceo", "nowhere"])
def test_a_stage_not_offered_is_refused_naming_the_field(
    tenant_a: Tenant, people: dict[str, User], to_stage: str
) -> None:
    process = at_the_ceo(tenant_a, people)
    mine = open_task(process, people["ceo"])
    with pytest.raises(ValidationFailed) as refused:
        decide(people["ceo"], mine, "return_to_stage", comment="x", to_stage=to_stage)
    assert list(refused.value.by_field()) == ["to_stage"]
    process.refresh_from_db()
    assert (process.round, process.status) == (1, ProcessStatus.RUNNING)
    mine.refresh_from_db()
    assert mine.state == TaskState.OPEN


def test_a_step_without_return_to_does_not_offer_it(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    process = at_the_ceo(tenant_a, people)
    decide(people["ceo"], open_task(process, people["ceo"]), "return_to_stage",
           comment="x", to_stage="finance")  # fmt: skip
    mine = open_task(process, people["cfo"])
    assert (
        "return_to_stage"
        not in task_get_for_decision(user=people["cfo"], task_id=mine.pk).outcomes
    )
    with pytest.raises(ValidationFailed) as refused:
        decide(people["cfo"], mine, "return_to_stage", comment="x", to_stage="legal")
    assert list(refused.value.by_field()) == ["outcome"]


def test_publishing_a_later_stage_or_a_cycle_is_refused(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    bad = route(
        stage("a", approve("x", {"user": people["lawyer"].username},
                           return_to=["b"])),
        stage("b", approve("y", {"user": people["cfo"].username}, return_to=["a"])),
    )  # fmt: skip
    facts = OrgFacts(usernames=frozenset({people["lawyer"].username,
                                          people["cfo"].username}))  # fmt: skip
    from sogla.engine.validation import validate_route

    paths = [p.path for p in validate_route(bad, facts)]
    assert paths == [
        "stages[0].steps[0].return_to[0]",
        "stages[1].steps[0].return_to[0]",
    ]
    template = services.route_template_create(
        actor=tenant_a.admin, doc_type=tenant_a.contract, key="bad", name_ru="Плохой",
    )  # fmt: skip
    version = services.route_version_save_draft(
        actor=tenant_a.admin, template=template, definition=bad
    )
    with pytest.raises(ValidationFailed):
        services.route_version_publish(actor=tenant_a.admin, version=version)
