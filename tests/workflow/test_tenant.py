"""The tenant's configuration a command reads from the process's cache: a change
saved through the ORM is seen at once, and again after its transaction commits;
anything else is forgotten after ``TTL`` seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from sogla.documents.models import Document, StatusDef
from sogla.orgs.models import Role
from sogla.workflow import tenant
from tests.conftest import Tenant
from tests.workflow.conftest import make_document

pytestmark = pytest.mark.django_db


def fresh(document: Document) -> Document:
    """The document read alone (one table), its relations from the cache."""
    return tenant.attach(Document.objects.get(pk=document.pk))


def test_a_saved_change_is_seen_at_once_and_after_the_commit(
    tenant_a: Tenant,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]],
    django_assert_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    document = make_document(tenant_a)
    first = fresh(document)
    assert first.organisation.time_zone == "Europe/Moscow"
    with django_capture_on_commit_callbacks(execute=True):
        org = tenant_a.org
        org.time_zone = "Asia/Yekaterinburg"
        org.save()
        doc_type = tenant_a.contract
        doc_type.title_template = "{number}"
        doc_type.save()
        status = StatusDef.objects.get(pk=document.status_id)
        status.name_en = "Fresh draft"
        status.save()
        inside = fresh(document)  # dropped at once: the new rows
        assert inside.organisation.time_zone == "Asia/Yekaterinburg"
        assert inside.doc_type.title_template == "{number}"
        assert inside.status.name_en == "Fresh draft"
    # Dropped again at the commit (another thread may have read the old rows in
    # between): the three are read once more.
    with django_assert_num_queries(4):
        after = fresh(document)
    assert after.organisation.time_zone == "Asia/Yekaterinburg"
    offset = tenant.local_now(after.organisation).utcoffset()
    assert offset is not None
    assert offset.total_seconds() == 5 * 3600


def test_one_read_per_row_then_none_until_the_ttl_passes(
    tenant_a: Tenant,
    django_assert_num_queries: Callable[[int], AbstractContextManager[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = make_document(tenant_a)
    tenant.cache_clear()
    with django_assert_num_queries(4):  # the document, its type, status, organisation
        fresh(document)
    with django_assert_num_queries(1):  # the document only
        fresh(document)
    later = time.monotonic() + tenant.TTL + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    with django_assert_num_queries(4):
        fresh(document)


def test_department_and_role_names_are_kept_until_one_is_saved(
    tenant_a: Tenant,
    django_assert_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    org_id = tenant_a.org.pk
    Role.objects.create(
        organisation=tenant_a.org, key="lawyer", name_ru="Юрист", name_en="Lawyer"
    )
    tenant.cache_clear()
    with django_assert_num_queries(2):
        tenant.department_names(org_id)
        tenant.roles(org_id)
    with django_assert_num_queries(0):
        names = tenant.department_names(org_id)
        assert tenant.roles(org_id)["lawyer"].name_ru == "Юрист"
    department = tenant_a.department
    assert names[department.code][0] == department.name
    department.name = "Renamed"
    department.save()
    role = Role.objects.get(organisation=tenant_a.org, key="lawyer")
    role.name_ru = "Юрист (новый)"
    role.save()
    assert tenant.department_names(org_id)[department.code][0] == "Renamed"
    assert tenant.roles(org_id)["lawyer"].name_ru == "Юрист (новый)"
    role.delete()
    assert "lawyer" not in tenant.roles(org_id)
