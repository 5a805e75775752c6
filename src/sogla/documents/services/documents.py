"""Commands on documents: create a draft, change its fields (by the initiator, or by
an approval step), archive it; and what it still lacks before it is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.access import is_org_admin
from sogla.core.audit import audit_record
from sogla.core.errors import FieldProblem, PermissionDenied, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.documents.access import check_can_edit
from sogla.documents.fields import clean_values
from sogla.documents.models import (
    Document,
    DocumentFile,
    DocumentType,
    FieldDef,
    FieldKind,
    StatusDef,
)
from sogla.documents.services._shared import changes_between, locked, org_id_of
from sogla.documents.services.files import NewFile, add_version, check_file_fields
from sogla.documents.services.numbering import apply_naming, next_number
from sogla.orgs.models import User


def _counterparty_from(
    fields: Sequence[FieldDef], values: Mapping[str, Any]
) -> int | None:
    for f in fields:
        if f.kind == FieldKind.COUNTERPARTY and values.get(f.key) is not None:
            return int(values[f.key])
    return None


@transaction.atomic
def document_create(
    *,
    actor: User,
    doc_type: DocumentType,
    values: Mapping[str, Any],
    files: Sequence[NewFile] = (),
    files_later: bool = False,
    meta: RequestMeta | None = None,
) -> Document:
    """Create a draft document with a new number, its title, folder and files.

    With ``files_later`` (the API, which uploads files in separate requests) required
    file fields may still be empty; sending for approval checks them
    (``document_missing_required``).
    """
    org_id = org_id_of(actor)
    if doc_type.organisation_id != org_id or not doc_type.is_active:
        raise ValidationFailed.single(
            "doc_type", "unknown_type", _("No such document type.")
        )
    fields = list(FieldDef.objects.filter(doc_type=doc_type))
    problems = check_file_fields(fields, files, has_files=doc_type.has_files)
    try:
        cleaned = clean_values(
            organisation_id=org_id,
            fields=fields,
            raw=values,
            present_files=(
                None if files_later else {f.field_key for f in files if f.field_key}
            ),
        )
    except ValidationFailed as error:
        problems += error.problems
    if problems:
        raise ValidationFailed(problems)
    status = _initial_status(doc_type)
    now = timezone.now()
    document = Document(
        organisation_id=org_id,
        doc_type=doc_type,
        fields=cleaned,
        initiator=actor,
        department_id=actor.department_id,
        counterparty_id=_counterparty_from(fields, cleaned),
        status=status,
        created_at=now,
    )
    department_code = actor.department.code if actor.department else ""
    document.number = next_number(
        doc_type=doc_type, at=now, department_code=department_code
    )
    apply_naming(document, fields)
    document.save()
    audit_record(
        organisation_id=org_id,
        verb="document.created",
        actor=actor,
        target_type="document",
        target_id=document.pk,
        document_id=document.pk,
        payload={
            "number": document.number,
            "type": doc_type.key,
            "title": document.title,
            "status": status.key,
            "fields": document.fields,
        },
        request_meta=meta,
    )
    for new in files:
        add_version(actor=actor, document=document, new=new, file=None, meta=meta)
    return document


def _initial_status(doc_type: DocumentType) -> StatusDef:
    status = (
        StatusDef.objects.filter(doc_type=doc_type)
        .order_by("-is_initial", "order")
        .first()
    )
    if status is None:
        raise ValidationFailed.single(
            "doc_type", "no_status", _("This document type has no statuses yet.")
        )
    return status


@transaction.atomic
def document_update_fields(
    *,
    actor: User,
    document: Document,
    values: Mapping[str, Any],
    meta: RequestMeta | None = None,
) -> Document:
    """Change field values of a draft; the number stays, the title follows the fields."""
    document = locked(document)
    check_can_edit(actor, document)
    return _write_fields(document, values, actor=actor, meta=meta)


@transaction.atomic
def document_fields_set(
    *,
    actor: User | None,
    document: Document,
    values: Mapping[str, Any],
    meta: RequestMeta | None = None,
) -> Document:
    """Write field values for an approval step (request_info answers, route actions).

    No draft check: the approval process decides when its steps write (the caller
    is ``sogla.workflow``). Values are validated exactly like an edit; keys absent
    from ``values`` keep their values. ``actor`` is None for the route itself; the
    ``document.fields_changed`` event then names the system.
    """
    return _write_fields(locked(document), values, actor=actor, meta=meta)


def _write_fields(
    document: Document,
    values: Mapping[str, Any],
    *,
    actor: User | None,
    meta: RequestMeta | None,
) -> Document:
    """Clean and save the values of a locked document; audit what changed."""
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    old_fields, old_title = dict(document.fields), document.title
    document.fields = clean_values(
        organisation_id=document.organisation_id,
        fields=fields,
        raw=values,
        present_files=_present_file_fields(document),
        existing=document.fields,
    )
    document.counterparty_id = _counterparty_from(fields, document.fields)
    apply_naming(document, fields)
    document.save()
    changes = changes_between(old_fields, document.fields)
    if changes:
        payload: dict[str, Any] = {"changes": changes}
        if document.title != old_title:
            payload["title"] = {"old": old_title, "new": document.title}
        audit_record(
            organisation_id=document.organisation_id,
            verb="document.fields_changed",
            actor=actor,
            target_type="document",
            target_id=document.pk,
            document_id=document.pk,
            payload=payload,
            request_meta=meta,
        )
    return document


def _present_file_fields(document: Document) -> set[str]:
    """The file fields of the document that have a current file."""
    return set(
        DocumentFile.objects.filter(document=document, archived_at=None)
        .exclude(field_key="")
        .values_list("field_key", flat=True)
    )


@transaction.atomic
def document_archive(
    *, actor: User, document: Document, meta: RequestMeta | None = None
) -> Document:
    """Deleting a document archives it: it leaves the registry, nothing is erased."""
    document = locked(document)
    if document.initiator_id != actor.pk and not is_org_admin(actor):
        raise PermissionDenied(
            _("Only the initiator or an administrator may change it.")
        )
    if document.archived_at is None:
        document.archived_at = timezone.now()
        document.save(update_fields=["archived_at", "updated_at"])
        audit_record(
            organisation_id=document.organisation_id,
            verb="document.archived",
            actor=actor,
            target_type="document",
            target_id=document.pk,
            document_id=document.pk,
            payload={"number": document.number},
            request_meta=meta,
        )
    return document


def document_missing_required(document: Document) -> list[FieldProblem]:
    """What a document still lacks before it can be sent for approval (fields, files)."""
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    try:
        clean_values(
            organisation_id=document.organisation_id,
            fields=fields,
            raw={},
            present_files=_present_file_fields(document),
            existing=document.fields,
        )
    except ValidationFailed as error:
        labels = {f.key: f.label for f in fields}
        # Said away from the form (on the card's start panel): each names its field.
        return [
            FieldProblem(
                p.field,
                p.code,
                _("%(field)s: %(problem)s")
                % {"field": labels.get(p.field, p.field), "problem": p.message},
            )
            for p in error.problems
        ]
    return []
