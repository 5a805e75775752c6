"""Files of a document: adding a file or its next version (by the initiator on a
draft, or for an approval step), and the hash over the current versions that
decisions record."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from sogla.core.audit import audit_record
from sogla.core.errors import FieldProblem, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.documents.access import check_can_edit
from sogla.documents.models import (
    Document,
    DocumentFile,
    FieldDef,
    FieldKind,
    FileVersion,
)
from sogla.documents.services._shared import locked
from sogla.documents.uploads import CheckedUpload, bytes_upload, storage_key
from sogla.orgs.models import User

GENERAL_FILES = "files"


@dataclass
class NewFile:
    """An upload for a document: ``field_key`` is a file field, or '' for general files."""

    upload: CheckedUpload
    field_key: str = ""


def check_file_fields(
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
def file_add(
    *,
    actor: User,
    document: Document,
    new: NewFile,
    file: DocumentFile | None = None,
    meta: RequestMeta | None = None,
) -> FileVersion:
    """Add a file to a draft, or a new version of ``file`` (or of the field's file)."""
    document = locked(document)
    check_can_edit(actor, document)
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    problems = check_file_fields(fields, [new], has_files=document.doc_type.has_files)
    if problems:
        raise ValidationFailed(problems)
    return add_version(actor=actor, document=document, new=new, file=file, meta=meta)


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
    document = locked(document)
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    problems = check_file_fields(fields, [new], has_files=document.doc_type.has_files)
    if problems:
        raise ValidationFailed(problems)
    return add_version(
        actor=actor, document=document, new=new, file=None, meta=meta, context=context
    )


@transaction.atomic
def file_add_generated(
    *,
    author: User,
    document: Document,
    name: str,
    data: bytes,
    context: Mapping[str, Any] | None = None,
) -> FileVersion:
    """Attach a file Sogla made (the approval sheet, the stamped copy) to the
    document as a general file of its own; no draft or type check (nobody uploads
    it). ``author`` is whom the file is shown as added by (the process's
    initiator); ``context`` says what made it, in the audit event."""
    document = locked(document)
    new = NewFile(upload=bytes_upload(GENERAL_FILES, name, data))
    return add_version(
        actor=author,
        document=document,
        new=new,
        file=None,
        meta=None,
        context={"generated": True, **(context or {})},
    )


def add_version(
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
