"""Saved registry views: save, replace, share, rename, delete; who may change a shared view;
what another organisation sees (nothing)."""

from __future__ import annotations

import pytest

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.documents import selectors
from sogla.documents.models import SavedView
from sogla.documents.registry_query import clean_query, view_from
from sogla.documents.services.saved_views import (
    saved_view_delete,
    saved_view_rename,
    saved_view_save,
)
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_a_view_keeps_the_registry_parameters_only(tenant_a: Tenant) -> None:
    view = saved_view_save(
        actor=tenant_a.initiator,
        name="  Contracts   in progress ",
        query={
            "type": "contract",
            "mode": "kanban",
            "cols": "status,amount",
            "sort": "-title",
            "cursor": "abc",
            "evil": "x",
            "q": "a" * 5000,
        },
    )
    assert view.name == "Contracts in progress"
    assert set(view.query) == {"type", "mode", "cols", "sort", "q"}
    assert len(view.query["q"]) == 2000
    assert not view.shared
    assert AuditEvent.objects.filter(verb="saved_view.created").count() == 1


def test_saving_the_same_name_replaces_the_view(tenant_a: Tenant) -> None:
    first = saved_view_save(actor=tenant_a.initiator, name="Mine", query={"q": "a"})
    second = saved_view_save(
        actor=tenant_a.initiator, name="Mine", query={"q": "b"}, shared=True
    )
    assert first.pk == second.pk
    assert SavedView.objects.get().query == {"q": "b"}
    assert SavedView.objects.get().shared


def test_a_view_needs_a_name(tenant_a: Tenant) -> None:
    with pytest.raises(ValidationFailed) as error:
        saved_view_save(actor=tenant_a.initiator, name="   ", query={})
    assert error.value.problems[0].field == "name"
    with pytest.raises(ValidationFailed):
        saved_view_save(actor=tenant_a.initiator, name="x" * 101, query={})


def test_personal_views_are_private_shared_ones_seen_by_colleagues(
    tenant_a: Tenant,
) -> None:
    saved_view_save(actor=tenant_a.initiator, name="Private", query={})
    saved_view_save(actor=tenant_a.initiator, name="Team", query={}, shared=True)
    saved_view_save(actor=tenant_a.colleague, name="Own", query={})
    seen = [v.name for v in selectors.saved_views_for(tenant_a.colleague)]
    assert seen == ["Own", "Team"]  # own first, then the shared ones
    assert [v.name for v in selectors.saved_views_for(tenant_a.initiator)] == [
        "Private",
        "Team",
    ]


def test_a_shared_view_is_deleted_only_by_its_owner_or_an_admin(
    tenant_a: Tenant,
) -> None:
    team = saved_view_save(actor=tenant_a.initiator, name="Team", query={}, shared=True)
    private = saved_view_save(actor=tenant_a.initiator, name="Private", query={})
    with pytest.raises(PermissionDenied):
        saved_view_delete(actor=tenant_a.colleague, pk=team.pk)
    with pytest.raises(NotFound):  # a private view of someone else does not exist
        saved_view_delete(actor=tenant_a.colleague, pk=private.pk)
    with pytest.raises(NotFound):  # not even for an administrator
        saved_view_delete(actor=tenant_a.admin, pk=private.pk)
    saved_view_delete(actor=tenant_a.admin, pk=team.pk)
    saved_view_delete(actor=tenant_a.initiator, pk=private.pk)
    assert not SavedView.objects.exists()
    assert AuditEvent.objects.filter(verb="saved_view.deleted").count() == 2


def test_a_view_is_renamed_keeping_its_filters(tenant_a: Tenant) -> None:
    view = saved_view_save(
        actor=tenant_a.initiator, name="Mine", query={"type": "contract"}
    )
    renamed = saved_view_rename(
        actor=tenant_a.initiator, pk=view.pk, name="  Contracts   of mine "
    )
    assert renamed.pk == view.pk
    stored = SavedView.objects.get()
    assert stored.name == "Contracts of mine"
    assert stored.query == {"type": "contract"}
    event = AuditEvent.objects.get(verb="saved_view.renamed")
    assert event.payload["old"] == "Mine"
    assert event.payload["new"] == "Contracts of mine"
    # the same name again changes nothing, writes nothing
    saved_view_rename(actor=tenant_a.initiator, pk=view.pk, name="Contracts of mine")
    assert AuditEvent.objects.filter(verb="saved_view.renamed").count() == 1


def test_a_rename_is_refused_naming_the_field(tenant_a: Tenant) -> None:
    view = saved_view_save(actor=tenant_a.initiator, name="Mine", query={})
    saved_view_save(actor=tenant_a.initiator, name="Other", query={})
    for name, code in (("  ", "required"), ("x" * 101, "too_long"), ("Other", "taken")):
        with pytest.raises(ValidationFailed) as error:
            saved_view_rename(actor=tenant_a.initiator, pk=view.pk, name=name)
        assert [(p.field, p.code) for p in error.value.problems] == [("name", code)]
    assert SavedView.objects.get(pk=view.pk).name == "Mine"
    # another person may have a view of the same name
    theirs = saved_view_save(actor=tenant_a.colleague, name="Theirs", query={})
    saved_view_rename(actor=tenant_a.colleague, pk=theirs.pk, name="Mine")
    assert SavedView.objects.get(pk=theirs.pk).name == "Mine"


def test_who_may_rename_a_view(tenant_a: Tenant, tenant_b: Tenant) -> None:
    team = saved_view_save(actor=tenant_a.initiator, name="Team", query={}, shared=True)
    private = saved_view_save(actor=tenant_a.initiator, name="Private", query={})
    with pytest.raises(PermissionDenied):
        saved_view_rename(actor=tenant_a.colleague, pk=team.pk, name="Hijacked")
    with pytest.raises(NotFound):
        saved_view_rename(actor=tenant_a.colleague, pk=private.pk, name="Seen")
    with pytest.raises(NotFound):
        saved_view_rename(actor=tenant_a.admin, pk=private.pk, name="Seen")
    with pytest.raises(NotFound):
        saved_view_rename(actor=tenant_b.admin, pk=team.pk, name="Foreign")
    saved_view_rename(actor=tenant_a.admin, pk=team.pk, name="Team board")
    assert sorted(SavedView.objects.values_list("name", flat=True)) == [
        "Private",
        "Team board",
    ]


def test_another_organisation_sees_and_deletes_nothing(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    team = saved_view_save(actor=tenant_a.initiator, name="Team", query={}, shared=True)
    assert selectors.saved_views_for(tenant_b.initiator) == []
    assert selectors.saved_views_for(tenant_b.admin) == []
    with pytest.raises(NotFound):
        saved_view_delete(actor=tenant_b.admin, pk=team.pk)
    # the same name in another organisation is another view
    other = saved_view_save(actor=tenant_b.initiator, name="Team", query={})
    assert other.pk != team.pk
    assert other.organisation_id == tenant_b.org.pk


def test_the_view_parameters_are_read_safely() -> None:
    view = view_from({"mode": "kanban", "cols": "amount,bogus,status", "sort": "-x"})
    assert view.mode == "kanban"
    assert view.columns == ("status", "amount")  # the table's order, unknown dropped
    assert view.sort == "-created"
    assert view_from({"mode": "weird"}).mode == "table"
    assert view_from({"cols": ""}).columns == ()
    assert clean_query({"q": "x\x00y", "cols": ""}) == {"q": "xy", "cols": ""}
    assert view_from({"sort": "title"}).sort_link("title") == "-title"
    assert view_from({"sort": "-title"}).aria_sort("title") == "descending"
