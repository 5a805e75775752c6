"""The API's side of "send back to an earlier stage": the task lists the stages it
may send back to, the decision names one in ``to_stage``; a wrong one answers 422
naming ``to_stage``."""

from __future__ import annotations

import uuid

import pytest

from sogla.orgs.models import User
from sogla.workflow.models import Process
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


def test_decide_sends_back_to_the_stage_named(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    definition = route(
        stage("legal", approve("l", {"user": people["lawyer"].username}),
              name={"ru": "Юристы", "en": "Legal"}),
        stage("ceo", approve("c", {"user": people["ceo"].username},
                             return_to=["legal"])),
    )  # fmt: skip
    process = start(tenant_a, publish(tenant_a, definition), make_document(tenant_a))
    decide(people["lawyer"], open_task(process, people["lawyer"]))
    task = open_task(process, people["ceo"])
    client = token_client(people["ceo"])

    shown = client.get(f"/tasks/{task.pk}")
    assert shown.status_code == 200
    assert "return_to_stage" in shown.json()["outcomes"]
    assert shown.json()["return_stages"] == [{"key": "legal", "name": "Юристы"}]

    wrong = client.post(
        f"/tasks/{task.pk}/decision",
        {"outcome": "return_to_stage", "comment": "x", "to_stage": "ceo",
         "request_id": uuid.uuid4().hex},
    )  # fmt: skip
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["to_stage"]

    done = client.post(
        f"/tasks/{task.pk}/decision",
        {"outcome": "return_to_stage", "comment": "annex missing",
         "to_stage": "legal", "request_id": uuid.uuid4().hex},
    )  # fmt: skip
    assert done.status_code == 200, done.content
    assert done.json()["outcome"] == "return_to_stage"
    process = Process.objects.get(pk=process.pk)
    assert (process.round, process.sent_back_to) == (2, "legal")
    assert open_task(process, people["lawyer"]).round == 2
