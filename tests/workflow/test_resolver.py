"""The resolver reads the people a stage names by username together."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from sogla.engine.definition import Assignee, RouteDefinition
from sogla.engine.run import Unresolved
from sogla.engine.states import Participant
from sogla.orgs.models import User
from sogla.workflow.resolver import Resolver
from tests.conftest import Tenant
from tests.workflow.conftest import approve, make_document, route, stage

pytestmark = pytest.mark.django_db


def test_a_stages_named_people_are_read_in_one_statement(
    tenant_a: Tenant,
    people: dict[str, User],
    django_assert_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    lawyer, cfo, ceo = (people[k] for k in ("lawyer", "cfo", "ceo"))
    definition = RouteDefinition.model_validate(
        route(
            stage(
                "checks",
                approve("l", {"user": lawyer.username}),
                approve("n", {"user": "nobody"}),
                approve("c", {"user": cfo.username}),
            ),
            stage("ceo", approve("ceo", {"user": ceo.username})),
        )
    )
    resolve = Resolver(make_document(tenant_a), definition=definition)
    with django_assert_num_queries(2):  # the stage's people, today's delegations
        assert resolve(Assignee(user=lawyer.username)) == [Participant.user(lawyer.pk)]
        assert resolve(Assignee(user="nobody")) == Unresolved(
            'no user "nobody" in this organisation'
        )
        assert resolve(Assignee(user=cfo.username)) == [Participant.user(cfo.pk)]
    with django_assert_num_queries(1):  # another stage's person
        assert resolve(Assignee(user=ceo.username)) == [Participant.user(ceo.pk)]
