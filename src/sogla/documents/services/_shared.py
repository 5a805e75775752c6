"""What the document services share: the actor's organisation, the document's row
lock and the change list an audit event records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from sogla.core.errors import PermissionDenied
from sogla.documents.models import Document
from sogla.orgs.models import User


def org_id_of(actor: User) -> int:
    if actor.organisation_id is None:
        raise PermissionDenied(_("Your account does not belong to an organisation."))
    return actor.organisation_id


def changes_between(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``{key: {"old": ..., "new": ...}}`` for every key whose value differs."""
    return {
        key: {"old": old.get(key), "new": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }


def locked(document: Document) -> Document:
    """Re-read the document under a row lock (PostgreSQL; SQLite's write lock is global)."""
    return (
        Document.objects.select_for_update(of=("self",))
        .select_related("doc_type", "status", "organisation", "initiator", "department")
        .get(pk=document.pk, organisation_id=document.organisation_id)
    )
