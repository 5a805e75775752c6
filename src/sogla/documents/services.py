"""Commands that change documents, files, folders and counterparties.

Each public function is one transaction: it either does everything or, raising an
ApplicationError, leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sogla.core.audit import audit_record
from sogla.core.errors import (
    NOT_FOUND_MESSAGE,
    FieldProblem,
    PermissionDenied,
    ValidationFailed,
)
from sogla.core.request_meta import RequestMeta
from sogla.documents import naming
from sogla.documents.access import check_can_edit
from sogla.documents.fields import clean_values, display_value
from sogla.documents.models import (
    Contact,
    Counterparty,
    CounterpartyCategory,
    Document,
    DocumentFile,
    DocumentType,
    FieldDef,
    FieldKind,
    FileVersion,
    Folder,
    NumberSequence,
    StatusDef,
    fold,
)
from sogla.documents.uploads import CheckedUpload, storage_key
from sogla.orgs.models import Organisation, User

GENERAL_FILES = "files"


@dataclass
class NewFile:
    """An upload for a document: ``field_key`` is a file field, or '' for general files."""

    upload: CheckedUpload
    field_key: str = ""


@dataclass
class ContactData:
    name: str
    email: str = ""
    phone: str = ""
    position: str = ""


@dataclass
class CounterpartyData:
    name: str
    tax_id: str = ""
    category: str = CounterpartyCategory.CUSTOMER
    address: str = ""
    note: str = ""
    contacts: list[ContactData] = field(default_factory=list)


# --- folders ---------------------------------------------------------------------


def folder_ensure(*, organisation: Organisation | int, path: str) -> Folder | None:
    """The folder at ``path``, creating it and its parents on first use."""
    clean = naming.safe_folder_path(path)
    if not clean:
        return None
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    parent: Folder | None = None
    parts = clean.split("/")
    for depth in range(len(parts)):
        sub_path = "/".join(parts[: depth + 1])
        parent, _created = Folder.objects.get_or_create(
            organisation_id=org_id,
            path=sub_path[:1000],
            defaults={"name": parts[depth][:200], "parent": parent},
        )
    return parent


# --- counterparties ----------------------------------------------------------------

_LEGAL_FORMS = re.compile(
    r"\b(ооо|оао|зао|пао|ао|ип|нко|ано|фгуп|муп|гуп|llc|ltd|inc|gmbh|jsc|plc)\b"
)
_NOT_WORD = re.compile(r"[^\w]+")


def normalize_name(name: str) -> str:
    """'ООО «Ромашка»' and 'Ромашка, ООО' both become 'ромашка'."""
    lowered = name.lower().replace("ё", "е")
    lowered = _LEGAL_FORMS.sub(" ", lowered)
    return " ".join(_NOT_WORD.sub(" ", lowered).split())


def _clean_counterparty(
    data: CounterpartyData,
) -> tuple[str, str, str, list[FieldProblem]]:
    problems: list[FieldProblem] = []
    name = " ".join(data.name.split())
    if not name:
        problems.append(FieldProblem("name", "required", _("This field is required.")))
    elif len(name) > 300:
        problems.append(FieldProblem("name", "too_long", _("At most 300 characters.")))
    tax_id = re.sub(r"\s+", "", data.tax_id or "")
    if tax_id and (not tax_id.isdigit() or len(tax_id) not in (10, 12)):
        problems.append(
            FieldProblem("tax_id", "invalid", _("A tax id (INN) has 10 or 12 digits."))
        )
    if data.category not in CounterpartyCategory.values:
        problems.append(FieldProblem("category", "invalid", _("Choose a category.")))
    for index, contact in enumerate(data.contacts):
        if not contact.name.strip():
            problems.append(
                FieldProblem(
                    f"contacts[{index}].name", "required", _("This field is required.")
                )
            )
        if contact.email and not re.fullmatch(
            r"[^@\s]+@[^@\s]+\.[^@\s]+", contact.email
        ):
            problems.append(
                FieldProblem(
                    f"contacts[{index}].email", "invalid", _("Enter a valid e-mail.")
                )
            )
    return name, tax_id, normalize_name(name), problems


def _duplicate_problems(
    org_id: int, tax_id: str, normalized: str, exclude: int | None
) -> list[FieldProblem]:
    others = Counterparty.objects.for_org(org_id)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if tax_id:
        same = others.filter(tax_id=tax_id).first()
        if same is not None:
            return [
                FieldProblem(
                    "tax_id",
                    "duplicate",
                    _("A counterparty with this tax id already exists: %(name)s.")
                    % {"name": same.name},
                )
            ]
        return []
    same = others.filter(normalized_name=normalized, tax_id="").first()
    if same is not None:
        return [
            FieldProblem(
                "name",
                "duplicate",
                _("It looks like this counterparty already exists: %(name)s.")
                % {"name": same.name},
            )
        ]
    return []


def _counterparty_state(party: Counterparty) -> dict[str, str]:
    return {
        "name": party.name,
        "tax_id": party.tax_id,
        "category": party.category,
        "address": party.address,
        "note": party.note,
    }


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``{key: {"old": ..., "new": ...}}`` for every key whose value differs."""
    return {
        key: {"old": old.get(key), "new": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }


@transaction.atomic
def counterparty_create(
    *, actor: User, data: CounterpartyData, meta: RequestMeta | None = None
) -> Counterparty:
    """Create a counterparty; refuses a duplicate tax id or name with the field named."""
    org_id = _org_id(actor)
    name, tax_id, normalized, problems = _clean_counterparty(data)
    problems += _duplicate_problems(org_id, tax_id, normalized, None)
    if problems:
        raise ValidationFailed(problems)
    try:
        with transaction.atomic():
            party = Counterparty.objects.create(
                organisation_id=org_id,
                name=name,
                normalized_name=normalized,
                tax_id=tax_id,
                category=data.category,
                address=data.address.strip()[:500],
                note=data.note.strip(),
            )
    except IntegrityError:  # a concurrent create of the same counterparty
        raise ValidationFailed(
            _duplicate_problems(org_id, tax_id, normalized, None)
            or [
                FieldProblem(
                    "name", "duplicate", _("This counterparty already exists.")
                )
            ]
        ) from None
    Contact.objects.bulk_create(
        Contact(
            organisation_id=org_id,
            counterparty=party,
            name=c.name.strip(),
            email=c.email.strip(),
            phone=c.phone.strip(),
            position=c.position.strip(),
        )
        for c in data.contacts
    )
    audit_record(
        organisation_id=org_id,
        verb="counterparty.created",
        actor=actor,
        target_type="counterparty",
        target_id=party.pk,
        payload={**_counterparty_state(party), "contacts": len(data.contacts)},
        request_meta=meta,
    )
    return party


@transaction.atomic
def counterparty_update(
    *,
    actor: User,
    counterparty: Counterparty,
    data: CounterpartyData,
    meta: RequestMeta | None = None,
) -> Counterparty:
    org_id = _org_id(actor)
    if counterparty.organisation_id != org_id:
        raise PermissionDenied(NOT_FOUND_MESSAGE)
    name, tax_id, normalized, problems = _clean_counterparty(data)
    problems += _duplicate_problems(org_id, tax_id, normalized, counterparty.pk)
    if problems:
        raise ValidationFailed(problems)
    before = _counterparty_state(counterparty)
    counterparty.name = name
    counterparty.tax_id = tax_id
    counterparty.normalized_name = normalized
    counterparty.category = data.category
    counterparty.address = data.address.strip()[:500]
    counterparty.note = data.note.strip()
    counterparty.save()
    changes = _changes(before, _counterparty_state(counterparty))
    if changes:
        audit_record(
            organisation_id=org_id,
            verb="counterparty.updated",
            actor=actor,
            target_type="counterparty",
            target_id=counterparty.pk,
            payload={"changes": changes},
            request_meta=meta,
        )
    return counterparty


# --- numbering and naming --------------------------------------------------------------


def next_number(
    *, doc_type: DocumentType, at: datetime, department_code: str = ""
) -> str:
    """Take the next number of the type's yearly sequence.

    The UPDATE locks the sequence row until the caller's transaction ends, so
    concurrent creations queue; a rolled-back creation gives its number back.
    Numbers are therefore unique and gap-free.
    """
    local = timezone.localtime(at)
    sequence, _created = NumberSequence.objects.get_or_create(
        organisation_id=doc_type.organisation_id, doc_type=doc_type, year=local.year
    )
    NumberSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + 1)
    value = NumberSequence.objects.values_list("last_value", flat=True).get(
        pk=sequence.pk
    )
    return naming.render(
        doc_type.numbering_pattern,
        {
            "prefix": doc_type.prefix,
            "yyyy": f"{local.year:04d}",
            "yy": f"{local.year % 100:02d}",
            "mm": f"{local.month:02d}",
            "seq": value,
            "department": department_code,
        },
    )


def _naming_values(
    document: Document, fields: Sequence[FieldDef], users: Mapping[int, str]
) -> dict[str, object]:
    values: dict[str, object] = {
        "number": document.number,
        "type": document.doc_type.name,
        "counterparty": document.counterparty.name if document.counterparty else "",
        "initiator": document.initiator.short_name,
        "department": document.department.name if document.department else "",
        "yyyy": f"{timezone.localtime(document.created_at).year}",
    }
    for f in fields:
        value = document.fields.get(f.key)
        if f.kind == FieldKind.USER and value is not None:
            values[f.key] = users.get(value, "")
        elif f.kind == FieldKind.COUNTERPARTY:
            values[f.key] = values["counterparty"]
        elif f.kind not in (FieldKind.USERS, FieldKind.FILE):
            values[f.key] = display_value(f, value)
    return values


def naming_values(document: Document) -> dict[str, object]:
    """The values titles and folder rules render (``naming.render``) for a document.

    The same values as the type's title template: number, type, counterparty,
    initiator, department and every field shown as on the card, in the
    organisation's language. The caller may add more (the workflow's filing adds
    ``{<user field>.department}``).
    """
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    users = _user_names(document, fields)
    with translation.override(document.organisation.language):
        return _naming_values(document, fields, users)


def _user_names(document: Document, fields: Sequence[FieldDef]) -> dict[int, str]:
    user_ids = [
        document.fields[f.key]
        for f in fields
        if f.kind == FieldKind.USER and document.fields.get(f.key) is not None
    ]
    if not user_ids:
        return {}
    return {u.pk: u.short_name for u in User.objects.filter(pk__in=user_ids)}


def _apply_naming(document: Document, fields: Sequence[FieldDef]) -> None:
    users = _user_names(document, fields)
    with translation.override(document.organisation.language):
        values = _naming_values(document, fields, users)
        title = naming.render(document.doc_type.title_template, values)
        document.title = (title or document.number)[:500]
        document.search_text = fold(
            " ".join([document.number, document.title, *map(str, values.values())])
        )
        if document.doc_type.folder_rule and document.folder_id is None:
            document.folder = folder_ensure(
                organisation=document.organisation_id,
                path=naming.render(document.doc_type.folder_rule, values),
            )


# --- documents ---------------------------------------------------------------------


def _org_id(actor: User) -> int:
    if actor.organisation_id is None:
        raise PermissionDenied(_("Your account does not belong to an organisation."))
    return actor.organisation_id


def _counterparty_from(
    fields: Sequence[FieldDef], values: Mapping[str, Any]
) -> int | None:
    for f in fields:
        if f.kind == FieldKind.COUNTERPARTY and values.get(f.key) is not None:
            return int(values[f.key])
    return None


def _check_file_fields(
    fields: Sequence[FieldDef], files: Sequence[NewFile], *, has_files: bool
) -> list[FieldProblem]:
    file_keys = {f.key for f in fields if f.kind == FieldKind.FILE}
    problems = []
    for new in files:
        if new.field_key and new.field_key not in file_keys:
            problems.append(
                FieldProblem(
                    new.field_key, "unknown_field", _("There is no such field.")
                )
            )
        if not new.field_key and not has_files:
            problems.append(
                FieldProblem(GENERAL_FILES, "no_files", _("This type has no files."))
            )
    return problems


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
    org_id = _org_id(actor)
    if doc_type.organisation_id != org_id or not doc_type.is_active:
        raise ValidationFailed.single(
            "doc_type", "unknown_type", _("No such document type.")
        )
    fields = list(FieldDef.objects.filter(doc_type=doc_type))
    problems = _check_file_fields(fields, files, has_files=doc_type.has_files)
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
    _apply_naming(document, fields)
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
        _add_version(actor=actor, document=document, new=new, file=None, meta=meta)
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
    document = _locked(document)
    check_can_edit(actor, document)
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    present = set(
        DocumentFile.objects.filter(document=document, archived_at=None)
        .exclude(field_key="")
        .values_list("field_key", flat=True)
    )
    old_fields, old_title = dict(document.fields), document.title
    document.fields = clean_values(
        organisation_id=document.organisation_id,
        fields=fields,
        raw=values,
        present_files=present,
        existing=document.fields,
    )
    document.counterparty_id = _counterparty_from(fields, document.fields)
    _apply_naming(document, fields)
    document.save()
    changes = _changes(old_fields, document.fields)
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
    from ``values`` keep their values. ``actor`` is None for the route itself.
    """
    document = _locked(document)
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    present = set(
        DocumentFile.objects.filter(document=document, archived_at=None)
        .exclude(field_key="")
        .values_list("field_key", flat=True)
    )
    document.fields = clean_values(
        organisation_id=document.organisation_id,
        fields=fields,
        raw=values,
        present_files=present,
        existing=document.fields,
    )
    document.counterparty_id = _counterparty_from(fields, document.fields)
    _apply_naming(document, fields)
    document.save()
    return document


@transaction.atomic
def document_archive(
    *, actor: User, document: Document, meta: RequestMeta | None = None
) -> Document:
    """Deleting a document archives it: it leaves the registry, nothing is erased."""
    document = _locked(document)
    if document.initiator_id != actor.pk and not _is_admin(actor):
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


@transaction.atomic
def file_add(
    *,
    actor: User,
    document: Document,
    new: NewFile,
    file: DocumentFile | None = None,
    meta: RequestMeta | None = None,
) -> FileVersion:
    """Add a file to a draft, or a new version of ``file`` (or of the field's file)."""
    document = _locked(document)
    check_can_edit(actor, document)
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    problems = _check_file_fields(fields, [new], has_files=document.doc_type.has_files)
    if problems:
        raise ValidationFailed(problems)
    return _add_version(actor=actor, document=document, new=new, file=file, meta=meta)


@transaction.atomic
def file_add_for_step(
    *,
    actor: User,
    document: Document,
    new: NewFile,
    context: Mapping[str, Any] | None = None,
    meta: RequestMeta | None = None,
) -> FileVersion:
    """Add a file (or the field's next version) for an approval step: a task's result.

    No draft or initiator check: the approval process decides who may attach what
    and when (the caller is ``sogla.workflow.services.task_file_add``, which checks
    the task). The field must be a file field of the type, or '' for general files
    when the type has them. ``context`` (e.g. the task) goes into the audit event.
    """
    document = _locked(document)
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    problems = _check_file_fields(fields, [new], has_files=document.doc_type.has_files)
    if problems:
        raise ValidationFailed(problems)
    return _add_version(
        actor=actor, document=document, new=new, file=None, meta=meta, context=context
    )


def _add_version(
    *,
    actor: User,
    document: Document,
    new: NewFile,
    file: DocumentFile | None,
    meta: RequestMeta | None,
    context: Mapping[str, Any] | None = None,
) -> FileVersion:
    if file is None and new.field_key:
        file = DocumentFile.objects.filter(
            document=document, field_key=new.field_key, archived_at=None
        ).first()
    if file is None:
        file = DocumentFile.objects.create(
            organisation_id=document.organisation_id,
            document=document,
            field_key=new.field_key,
            name=new.upload.name,
        )
    elif file.document_id != document.pk:
        raise ValidationFailed.single("file", "unknown_file", _("No such file."))
    last = FileVersion.objects.filter(file=file).aggregate(last=Max("version"))["last"]
    key = storage_key(document.organisation_id, new.upload.sha256)
    if not default_storage.exists(key):
        key = default_storage.save(key, new.upload.content)
    version = FileVersion.objects.create(
        organisation_id=document.organisation_id,
        file=file,
        version=(last or 0) + 1,
        original_name=new.upload.name,
        sha256=new.upload.sha256,
        size=new.upload.size,
        mime_type=new.upload.mime_type,
        storage_key=key,
        author=actor,
    )
    if file.name != new.upload.name:
        file.name = new.upload.name
        file.save(update_fields=["name"])
    document.files_sha256 = document_files_sha256(document.pk)
    Document.objects.filter(pk=document.pk).update(files_sha256=document.files_sha256)
    audit_record(
        organisation_id=document.organisation_id,
        verb="document.file_version_added",
        actor=actor,
        target_type="file_version",
        target_id=version.pk,
        document_id=document.pk,
        payload={
            "file": file.pk,
            "field": new.field_key,
            "name": version.original_name,
            "version": version.version,
            "sha256": version.sha256,
            "size": version.size,
            "mime_type": version.mime_type,
            **(context or {}),
        },
        request_meta=meta,
    )
    return version


def document_files_sha256(document_id: int) -> str:
    """SHA-256 over the sorted hashes of the document's current file versions
    (what ``Document.files_sha256`` keeps)."""
    rows = FileVersion.objects.filter(
        file__document_id=document_id, file__archived_at=None
    ).values_list("file_id", "version", "sha256")
    latest: dict[int, tuple[int, str]] = {}
    for file_id, version, sha in rows:
        if file_id not in latest or version > latest[file_id][0]:
            latest[file_id] = (version, sha)
    joined = "\n".join(sorted(sha for _v, sha in latest.values()))
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


def _locked(document: Document) -> Document:
    """Re-read the document under a row lock (PostgreSQL; SQLite's write lock is global)."""
    return (
        Document.objects.select_for_update(of=("self",))
        .select_related("doc_type", "status", "organisation", "initiator", "department")
        .get(pk=document.pk, organisation_id=document.organisation_id)
    )


def _is_admin(actor: User) -> bool:
    from sogla.orgs.access import is_org_admin

    return is_org_admin(actor)


def document_missing_required(document: Document) -> list[FieldProblem]:
    """What a document still lacks before it can be sent for approval (fields, files)."""
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    present = set(
        DocumentFile.objects.filter(document=document, archived_at=None)
        .exclude(field_key="")
        .values_list("field_key", flat=True)
    )
    try:
        clean_values(
            organisation_id=document.organisation_id,
            fields=fields,
            raw={},
            present_files=present,
            existing=document.fields,
        )
    except ValidationFailed as error:
        return error.problems
    return []
