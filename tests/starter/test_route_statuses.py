"""Setup mistakes are caught where they are made: a route's ``set_status`` is checked
against its type when the route is published, also when the type has no statuses
at all (before, that surfaced only when the first document was created)."""

from __future__ import annotations

import pytest

from sogla.core.errors import ValidationFailed
from sogla.documents.models import StatusDef
from tests.conftest import Tenant
from tests.workflow.conftest import approve, publish, route, stage

pytestmark = pytest.mark.django_db


def _route() -> dict[str, object]:
    return route(
        stage("s", approve("a", {"user": "alpha-colleague"})),
        on_finish=[{"set_status": "approved"}],
    )


def test_publishing_names_a_status_the_type_lacks(tenant_a: Tenant) -> None:
    StatusDef.objects.filter(doc_type=tenant_a.contract, key="approved").delete()
    with pytest.raises(ValidationFailed) as caught:
        publish(tenant_a, _route())
    assert [p.field for p in caught.value.problems] == ["on_finish[0].set_status"]


def test_publishing_over_a_type_without_statuses_is_refused(tenant_a: Tenant) -> None:
    StatusDef.objects.filter(doc_type=tenant_a.contract).delete()
    with pytest.raises(ValidationFailed) as caught:
        publish(tenant_a, _route())
    assert "no status" in str(caught.value.problems[0].message)
