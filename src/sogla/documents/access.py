"""Which documents a user may see and change. Everything is scoped to their organisation.

Failing checks raise NotFound, never "forbidden", so that ids of other people's or
other organisations' documents reveal nothing (design rule I7).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from sogla.core.errors import NotFound, PermissionDenied
from sogla.core.prepared import Prepared
from sogla.documents.models import Document, StatusMeaning
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import User


def visible_documents(user: User) -> QuerySet[Document]:
    """Documents of the user's organisation that the user may open.

    A confidential type's document: its initiator, their manager, the head of its
    department, administrators, and everyone who has or had a task in its approval
    (or whose seat a stand-in held). Others get 404.
    """
    if user.organisation_id is None:
        return Document.objects.none()
    documents = Document.objects.for_org(user.organisation_id)
    if is_org_admin(user):
        return documents
    return _visible_to(documents, user.pk, user.organisation_id)


def _visible_to(
    documents: QuerySet[Document], user_id: int, organisation_id: int
) -> QuerySet[Document]:
    return documents.filter(
        Q(doc_type__confidential=False)
        | Q(initiator_id=user_id)
        | Q(initiator__manager_id=user_id)
        | Q(department__head_id=user_id)
        | Exists(_participations(user_id, organisation_id))
    )


def _participations(user: User | int, organisation_id: int) -> QuerySet[Any]:
    """Tasks of the document's approvals the user has (or had), also as the seat.

    Built through the app registry so that documents does not import workflow (the
    workflow app depends on documents, not the other way round); an ``Exists``
    subquery, so a document with several tasks is listed once.

    On PostgreSQL the document's processes are a subquery of their own
    (``process_id IN (the document's processes)``), not a join: with the join the
    planner may check the condition by hashing *every* task of the user against a
    sequential scan of all the organisation's processes, once per statement — a
    cost that grows with the organisation (40 ms of the registry's first page at
    100,000 documents). With the document one level further down it cannot hash
    it, and checks only the rows it reads, through the indexes on the document's
    processes and their tasks. SQLite checks row by row either way, and the join
    is its cheaper form (docs/benchmarks.md, "scale, fourth round").
    """
    task_model = apps.get_model("workflow", "Task")
    tasks = task_model.objects.filter(organisation_id=organisation_id)
    if connection.vendor == "postgresql":
        # the task's process model, reached through the one sanctioned lookup
        process_model = task_model._meta.get_field("process").related_model
        processes = process_model._default_manager.filter(
            document=OuterRef(OuterRef("pk"))
        )
        tasks = tasks.filter(process__in=processes.values("pk"))
    else:
        tasks = tasks.filter(process__document=OuterRef("pk"))
    return tasks.filter(Q(assignee=user) | Q(on_behalf_of=user))


_ORGANISATION = User._meta.get_field("organisation")
# the card shows them; the initiator's department is a condition's fact
_WITH = (
    "doc_type",
    "status",
    "counterparty",
    "initiator__department",
    "department",
    "folder",
)
_BIGGEST_ID = 2**63 - 1


def _one_for_admin(organisation_id: int, pk: int) -> QuerySet[Document]:
    return (
        Document.objects.for_org(organisation_id).select_related(*_WITH).filter(pk=pk)
    )


def _one_visible(organisation_id: int, user_id: int, pk: int) -> QuerySet[Document]:
    documents = Document.objects.for_org(organisation_id)
    return (
        _visible_to(documents, user_id, organisation_id)
        .select_related(*_WITH)
        .filter(pk=pk)
    )


# Every card, edit and file request reads the document so: compiled once
# (``core.prepared``, ADR 0002), the same SQL as ``visible_documents(user)``'s.
_admin_prepared = Prepared(_one_for_admin, arity=2)
_visible_prepared = Prepared(_one_visible, arity=3)


def access_document(user: User, pk: int | str, *, for_write: bool = False) -> Document:
    """The document if ``user`` may see it (and change it, with ``for_write``)."""
    try:
        wanted = int(pk)
    except (ValueError, TypeError):
        raise NotFound() from None
    org_id = user.organisation_id
    if org_id is None or not 0 < wanted <= _BIGGEST_ID:
        raise NotFound()
    if is_org_admin(user):
        found = _admin_prepared.all(org_id, wanted)
    else:
        found = _visible_prepared.all(org_id, user.pk, wanted)
    if not found:
        raise NotFound()
    document = found[0]
    organisation = user.organisation if _ORGANISATION.is_cached(user) else None
    if organisation is not None and organisation.pk == document.organisation_id:
        # the user's organisation, already read with the user: not read again
        document.organisation = organisation
    if for_write:
        check_can_edit(user, document)
    return document


def in_revision(document: Document) -> bool:
    """The document's approval was returned for revision (sogla.workflow)."""
    return document.processes.filter(status="revision").exists()


def is_draft(document: Document) -> bool:
    """The document's status has the draft meaning."""
    return document.status.meaning == StatusMeaning.DRAFT


def is_editable_state(document: Document) -> bool:
    """Fields and files change in a draft, or while the approval is in revision."""
    return is_draft(document) or in_revision(document)


def can_edit(user: User, document: Document) -> bool:
    return (
        document.archived_at is None
        and (document.initiator_id == user.pk or is_org_admin(user))
        and is_editable_state(document)
    )


def check_can_edit(user: User, document: Document) -> None:
    from django.utils.translation import gettext as _

    if document.initiator_id != user.pk and not is_org_admin(user):
        raise PermissionDenied(
            _("Only the initiator or an administrator may change it.")
        )
    if document.archived_at is not None:
        raise PermissionDenied(_("The document is archived."))
    if not is_editable_state(document):
        raise PermissionDenied(_("Fields and files can be changed only in a draft."))
