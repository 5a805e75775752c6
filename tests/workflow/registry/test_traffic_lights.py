"""The registry's traffic lights, read in one statement (``selectors.lights``), and
the document types and statuses of its filters, kept per organisation
(``tenant.type_lists``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sogla.documents.models import StatusDef
from sogla.workflow import tenant
from sogla.workflow.models import Process, ProcessStatus
from sogla.workflow.screens.traffic_light import stage_summaries
from sogla.workflow.services import process_start
from tests.conftest import Tenant
from tests.workflow.conftest import decide, open_task
from tests.workflow.screens.conftest import Flow, draft, flow  # noqa: F401

pytestmark = pytest.mark.django_db


def _colours(summary: object) -> list[str]:
    return [s.css.split()[-1] for s in summary.segments]  # type: ignore[attr-defined]


def test_each_documents_light_in_one_statement(
    flow: Flow,  # noqa: F811
    tenant_b: Tenant,
) -> None:
    at_manager = draft(flow.tenant, "At the manager")
    process_start(
        actor=flow.tenant.initiator, document=at_manager, template=flow.template
    )
    at_lawyer = draft(flow.tenant, "At the lawyer")
    process = process_start(
        actor=flow.tenant.initiator, document=at_lawyer, template=flow.template
    )
    decide(flow.head, open_task(process, flow.head))
    # a later finished process of the same document does not win over the active one
    Process.objects.create(
        organisation=flow.tenant.org,
        document=at_lawyer,
        route_version=process.route_version,
        status=ProcessStatus.APPROVED,
        initiator=flow.tenant.initiator,
        started_at=timezone.now() + timedelta(hours=1),
        finished_at=timezone.now() + timedelta(hours=2),
    )
    not_started = draft(flow.tenant, "Draft")
    user = flow.tenant.initiator
    ids = [at_manager.pk, at_lawyer.pk, not_started.pk]
    stage_summaries(user=user, document_ids=ids)  # the route's definition kept
    with CaptureQueriesContext(connection) as queries:
        lights = stage_summaries(user=user, document_ids=ids)
    assert len(queries) == 1
    assert set(lights) == {at_manager.pk, at_lawyer.pk}
    first, second = lights[at_manager.pk], lights[at_lawyer.pk]
    assert (first.position, first.total) == (1, 3)
    assert _colours(first) == ["tl-current", "tl-future", "tl-future"]
    assert first.holder is not None
    assert first.holder.short_name == flow.head.short_name
    assert first.waiting
    assert (second.position, second.total) == (2, 3)
    assert _colours(second) == ["tl-done", "tl-current", "tl-future"]
    assert second.holder is not None
    assert second.holder.short_name == "Petrov P."
    assert second.current_name == "Lawyer"
    assert second.process.finished_at is None
    assert second.more_holders == 0
    # another organisation's person sees no light of these documents
    assert stage_summaries(user=tenant_b.initiator, document_ids=ids) == {}


def test_a_finished_process_shows_its_end(flow: Flow) -> None:  # noqa: F811
    document = draft(flow.tenant, "Stopped")
    process = process_start(
        actor=flow.tenant.initiator, document=document, template=flow.template
    )
    ended = timezone.now()
    Process.objects.filter(pk=process.pk).update(
        status=ProcessStatus.APPROVED, finished_at=ended
    )
    light = stage_summaries(user=flow.tenant.initiator, document_ids=[document.pk])[
        document.pk
    ]
    assert light.position == light.total == 3
    assert light.holder is None
    assert light.process.finished_at == ended


def test_type_lists_follow_changes(tenant_a: Tenant, tenant_b: Tenant) -> None:
    types, statuses = tenant.type_lists(tenant_a.org.pk)
    assert tenant_a.contract in types
    assert tenant_b.contract not in types
    with CaptureQueriesContext(connection) as queries:
        assert tenant.type_lists(tenant_a.org.pk) == (types, statuses)
    assert len(queries) == 0
    tenant_a.contract.is_active = False
    tenant_a.contract.save()
    assert tenant_a.contract not in tenant.type_lists(tenant_a.org.pk)[0]
    StatusDef.objects.create(
        organisation=tenant_a.org,
        doc_type=tenant_a.contract,
        key="shelved",
        name_ru="Отложен",
        name_en="Shelved",
        order=99,
    )
    assert "shelved" in [s.key for s in tenant.type_lists(tenant_a.org.pk)[1]]
    assert tenant.type_lists(tenant_b.org.pk)[0] == (tenant_b.contract,)
