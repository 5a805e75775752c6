"""Commands on the registry's saved views: save (create, or replace one of the same
name), rename and delete. A personal view is its owner's; a shared one is seen by the whole
organisation and changed only by its owner or an administrator."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils.translation import gettext as _

from sogla.core.access import is_org_admin
from sogla.core.audit import audit_record
from sogla.core.errors import (
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sogla.documents.models import SavedView
from sogla.documents.registry_query import clean_query
from sogla.documents.services._shared import org_id_of
from sogla.orgs.models import User

NAME_LENGTH = 100
VIEWS_PER_PERSON = 100


def _may_change(actor: User, view: SavedView) -> bool:
    return view.owner_id == actor.pk or (view.shared and is_org_admin(actor))


def _clean_name(name: str) -> str:
    """The name with its spaces folded; refused when empty or too long."""
    clean_name = " ".join(name.split())
    if not clean_name:
        raise ValidationFailed([FieldProblem("name", "required", _("Name the view."))])
    if len(clean_name) > NAME_LENGTH:
        raise ValidationFailed(
            [
                FieldProblem(
                    "name",
                    "too_long",
                    _("At most %(n)d characters.") % {"n": NAME_LENGTH},
                )
            ]
        )
    return clean_name


def _changeable(actor: User, pk: int, refusal: str) -> SavedView:
    """The view ``pk``, locked, that the actor may change. A view the actor may not
    see is NotFound; one they see but may not change is refused with ``refusal``."""
    view = (
        SavedView.objects.select_for_update()
        .filter(organisation_id=org_id_of(actor), pk=pk)
        .first()
    )
    if view is None or not (view.owner_id == actor.pk or view.shared):
        raise NotFound()
    if not _may_change(actor, view):
        raise PermissionDenied(refusal)
    return view


@transaction.atomic
def saved_view_save(
    *,
    actor: User,
    name: str,
    query: Mapping[str, str],
    shared: bool = False,
) -> SavedView:
    """Save the registry's current parameters under ``name``: a new view, or the
    actor's own view of that name replaced. Anyone may share their own view with
    the organisation; it stays theirs (and the administrators') to change."""
    org_id = org_id_of(actor)
    clean_name = _clean_name(name)
    kept = clean_query(query)
    view = (
        SavedView.objects.select_for_update()
        .filter(organisation_id=org_id, owner=actor, name=clean_name)
        .first()
    )
    if view is None:
        mine = SavedView.objects.filter(organisation_id=org_id, owner=actor)
        if mine.count() >= VIEWS_PER_PERSON:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "name",
                        "too_many",
                        _("At most %(n)d saved views; delete one first.")
                        % {"n": VIEWS_PER_PERSON},
                    )
                ]
            )
        view = SavedView.objects.create(
            organisation_id=org_id,
            owner=actor,
            name=clean_name,
            shared=shared,
            query=kept,
            position=mine.count(),
        )
        verb = "saved_view.created"
    else:
        view.query = kept
        view.shared = shared
        view.save(update_fields=["query", "shared", "updated_at"])
        verb = "saved_view.changed"
    audit_record(
        organisation_id=org_id,
        verb=verb,
        actor=actor,
        target_type="saved_view",
        target_id=view.pk,
        payload={"name": view.name, "shared": view.shared, "query": kept},
    )
    return view


@transaction.atomic
def saved_view_rename(*, actor: User, pk: int, name: str) -> SavedView:
    """Rename a view: one's own, or (an administrator) a shared one; its owner may
    not have another view of the new name."""
    view = _changeable(
        actor, pk, _("Only its owner or an administrator may rename a shared view.")
    )
    clean_name = _clean_name(name)
    if clean_name == view.name:
        return view
    taken = (
        SavedView.objects.filter(
            organisation_id=view.organisation_id,
            owner_id=view.owner_id,
            name=clean_name,
        )
        .exclude(pk=view.pk)
        .exists()
    )
    if taken:
        raise ValidationFailed(
            [FieldProblem("name", "taken", _("A view with this name exists."))]
        )
    old_name = view.name
    view.name = clean_name
    view.save(update_fields=["name", "updated_at"])
    audit_record(
        organisation_id=view.organisation_id,
        verb="saved_view.renamed",
        actor=actor,
        target_type="saved_view",
        target_id=view.pk,
        payload={"old": old_name, "new": view.name, "shared": view.shared},
    )
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, pk: int) -> None:
    """Delete a view: one's own, or (an administrator) a shared one. A view the
    actor may not see is NotFound; one they see but may not change is refused."""
    view = _changeable(
        actor, pk, _("Only its owner or an administrator may delete a shared view.")
    )
    audit_record(
        organisation_id=view.organisation_id,
        verb="saved_view.deleted",
        actor=actor,
        target_type="saved_view",
        target_id=view.pk,
        payload={"name": view.name, "shared": view.shared},
    )
    view.delete()
