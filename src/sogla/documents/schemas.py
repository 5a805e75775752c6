"""API schemas of documents, document types, files and counterparties.

Input schemas forbid unknown keys: a body carrying ``organisation``, ``initiator``,
``number``, ``status``, ``created_at`` or any other key the schema does not name is
refused with 422 (code ``unknown_field``, the key as ``field``), and nothing is saved.
Output is built by the ``*_out`` functions below, so only the listed attributes leave
the server.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.urls import reverse
from ninja import Field, Schema

from sogla.api.schemas import (
    EMAIL_OR_EMPTY,
    KPP,
    MAX_ID,
    NON_BLANK,
    OGRN,
    TAX_ID,
    InSchema,
    RefOut,
)
from sogla.documents.models import (
    Contact,
    Counterparty,
    CounterpartyCategory,
    Document,
    DocumentFile,
    DocumentType,
    FieldDef,
    FileVersion,
    StatusDef,
)
from sogla.documents.selectors import DocumentCard
from sogla.orgs.models import User

In = InSchema


# --- document types ------------------------------------------------------------------


class ChoiceOut(Schema):
    value: str
    label: str
    ru: str
    en: str


class FieldDefOut(Schema):
    key: str
    label: str
    kind: str = Field(
        description="string, text, number, money, date, choice, bool, user, users, counterparty, file or url"
    )
    required: bool
    required_when: dict[str, Any] | None = Field(
        description="A structured condition; the field is required when it holds."
    )
    choices: list[ChoiceOut]
    help: str


class StatusDefOut(Schema):
    key: str
    name: str
    meaning: str = Field(description="draft, active, success, failure or archived")
    token: str = Field(description="Colour token, e.g. neutral, active, approved")
    is_initial: bool


class DocumentTypeOut(Schema):
    key: str
    name: str
    name_ru: str
    name_en: str
    description: str
    prefix: str
    has_files: bool
    confidential: bool
    fields: list[FieldDefOut]
    statuses: list[StatusDefOut]


def field_def_out(field: FieldDef) -> dict[str, Any]:
    return {
        "key": field.key,
        "label": field.label,
        "kind": field.kind,
        "required": field.required,
        "required_when": field.required_when or None,
        "choices": [
            {
                "value": str(choice.get("value", "")),
                "label": field.choice_label(choice.get("value")),
                "ru": str(choice.get("ru", "")),
                "en": str(choice.get("en", "")),
            }
            for choice in (field.choices or [])
            if isinstance(choice, dict)
        ],
        "help": field.help,
    }


def status_def_out(status: StatusDef) -> dict[str, Any]:
    return {
        "key": status.key,
        "name": status.name,
        "meaning": status.meaning,
        "token": status.token,
        "is_initial": status.is_initial,
    }


def document_type_out(
    doc_type: DocumentType, fields: list[FieldDef], statuses: list[StatusDef]
) -> dict[str, Any]:
    return {
        "key": doc_type.key,
        "name": doc_type.name,
        "name_ru": doc_type.name_ru,
        "name_en": doc_type.name_en,
        "description": doc_type.description,
        "prefix": doc_type.prefix,
        "has_files": doc_type.has_files,
        "confidential": doc_type.confidential,
        "fields": [field_def_out(f) for f in fields],
        "statuses": [status_def_out(s) for s in statuses],
    }


# --- documents -------------------------------------------------------------------------


class TypeRefOut(Schema):
    key: str
    name: str


class StatusOut(Schema):
    key: str
    name: str
    meaning: str
    token: str


class DocumentOut(Schema):
    id: int
    number: str
    title: str
    doc_type: TypeRefOut
    status: StatusOut
    fields: dict[str, Any] = Field(
        description="Values by field key: text, decimal strings, ISO dates, booleans, ids."
    )
    initiator: RefOut
    department_id: int | None
    counterparty: RefOut | None
    folder_id: int | None
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class FileVersionOut(Schema):
    id: int = Field(description="The version's id (downloads name it).")
    file_id: int = Field(
        description="The file's id: send it as `file_id` to add the next version."
    )
    version: int
    name: str
    size: int
    mime_type: str
    sha256: str
    author: RefOut
    created_at: datetime
    download_url: str


class FileOut(Schema):
    id: int
    name: str
    field_key: str = Field(description="The file field's key, or '' for general files.")
    versions: list[FileVersionOut] = Field(description="Newest first.")


class DocumentDetailOut(DocumentOut):
    can_edit: bool
    files: list[FileOut]


class DocumentListOut(Schema):
    items: list[DocumentOut]
    total: int
    total_approximate: bool = Field(
        False,
        description="The total is a floor: more documents match than were counted.",
    )
    snippets: dict[int, str] = Field(
        default_factory=dict,
        description=(
            "With `q`: for each found document id, an HTML piece of the text where "
            "the words were found (escaped; found words in <mark>). Results are "
            "then ranked by relevance."
        ),
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class DocumentFilterIn(In):
    doc_type: str = Field("", description="A document type key.")
    status: str = Field("", description="A status key.")
    counterparty: int | None = Field(None, ge=1, le=MAX_ID)
    created_from: date | None = None
    created_to: date | None = None
    mine: bool = Field(False, description="Only documents I started.")
    q: str = Field(
        "",
        max_length=20_000,
        description=(
            "Full-text search in number, title, field values, counterparty name and "
            "tax id, comments and the text of the current file versions. Every word "
            "must be found, as a word start, in any grammatical form (Russian and "
            "English stemming); no operators."
        ),
    )
    archived: bool = False
    cursor: str = Field("", max_length=500)
    limit: int = Field(50, ge=1, le=200)


class DocumentIn(In):
    doc_type: str = Field(
        min_length=1, max_length=60, description="A document type key."
    )
    fields: dict[str, Any] = Field(
        default_factory=dict, description="Values by field key (file fields excluded)."
    )


class DocumentPatchIn(In):
    fields: dict[str, Any] = Field(
        description="Values to change by field key; absent keys keep their values, "
        "null or an empty string clears a value."
    )


def _user_ref(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.get_full_name() or user.username}


def document_out(document: Document) -> dict[str, Any]:
    party = document.counterparty
    return {
        "id": document.pk,
        "number": document.number,
        "title": document.title,
        "doc_type": {"key": document.doc_type.key, "name": document.doc_type.name},
        "status": {
            "key": document.status.key,
            "name": document.status.name,
            "meaning": document.status.meaning,
            "token": document.status.token,
        },
        "fields": document.fields,
        "initiator": _user_ref(document.initiator),
        "department_id": document.department_id,
        "counterparty": {"id": party.pk, "name": party.name} if party else None,
        "folder_id": document.folder_id,
        "created_at": document.created_at,
        "updated_at": document.updated_at,
        "archived_at": document.archived_at,
    }


def file_version_out(version: FileVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "file_id": version.file_id,
        "version": version.version,
        "name": version.original_name,
        "size": version.size,
        "mime_type": version.mime_type,
        "sha256": version.sha256,
        "author": _user_ref(version.author),
        "created_at": version.created_at,
        "download_url": reverse("api:file_download", kwargs={"version_id": version.pk}),
    }


def file_out(file: DocumentFile) -> dict[str, Any]:
    return {
        "id": file.pk,
        "name": file.name,
        "field_key": file.field_key,
        "versions": [file_version_out(v) for v in file.versions.all()],
    }


def document_detail_out(card: DocumentCard, *, can_edit: bool) -> dict[str, Any]:
    return {
        **document_out(card.document),
        "can_edit": can_edit,
        "files": [file_out(f) for f in card.files],
    }


# --- counterparties ------------------------------------------------------------------------


class ContactIn(In):
    name: str = Field(max_length=200, json_schema_extra=NON_BLANK)
    position: str = Field("", max_length=200)
    email: str = Field("", max_length=254, json_schema_extra=EMAIL_OR_EMPTY)
    phone: str = Field("", max_length=32)


class ContactOut(Schema):
    id: int
    name: str
    position: str
    email: str
    phone: str


class CounterpartyIn(In):
    name: str = Field(max_length=300, json_schema_extra=NON_BLANK)
    tax_id: str = Field(
        "",
        max_length=12,
        description="INN: 10 or 12 digits, check digits verified (422 `checksum`).",
        json_schema_extra=TAX_ID,
    )
    kpp: str = Field(
        "", max_length=9, description="KPP: 9 characters.", json_schema_extra=KPP
    )
    ogrn: str = Field(
        "",
        max_length=15,
        description="OGRN (13 digits) or OGRNIP (15), check digit verified.",
        json_schema_extra=OGRN,
    )
    category: CounterpartyCategory = CounterpartyCategory.CUSTOMER
    address: str = Field("", max_length=500)
    note: str = Field("", max_length=5000)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class CounterpartyPatchIn(In):
    name: str | None = Field(None, max_length=300)
    tax_id: str | None = Field(None, max_length=12, json_schema_extra=TAX_ID)
    kpp: str | None = Field(None, max_length=9, json_schema_extra=KPP)
    ogrn: str | None = Field(None, max_length=15, json_schema_extra=OGRN)
    category: CounterpartyCategory | None = None
    address: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=5000)


class CounterpartyOut(Schema):
    id: int
    name: str
    tax_id: str
    kpp: str
    ogrn: str
    category: str
    address: str
    note: str
    crm_link: str
    contacts: list[ContactOut]
    created_at: datetime


def contact_out(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.name,
        "position": contact.position,
        "email": contact.email,
        "phone": contact.phone,
    }


def counterparty_out(party: Counterparty) -> dict[str, Any]:
    return {
        "id": party.pk,
        "name": party.name,
        "tax_id": party.tax_id,
        "kpp": party.kpp,
        "ogrn": party.ogrn,
        "category": party.category,
        "address": party.address,
        "note": party.note,
        "crm_link": party.crm_link,
        "contacts": [contact_out(c) for c in party.contacts.all()],
        "created_at": party.created_at,
    }


# --- setting up document types (administrators) ----------------------------------------


class ChoiceIn(InSchema):
    value: str = Field(min_length=1, max_length=100)
    ru: str = Field(default="", max_length=200)
    en: str = Field(default="", max_length=200)


class FieldDefIn(InSchema):
    key: str = Field(min_length=1, max_length=60)
    label_ru: str = Field(default="", max_length=200)
    label_en: str = Field(default="", max_length=200)
    kind: str = Field(
        description="string, text, number, money, date, choice, bool, user, users, "
        "counterparty, file or url"
    )
    required: bool = False
    required_when: dict[str, Any] | None = None
    choices: list[ChoiceIn] = []
    help_ru: str = Field(default="", max_length=300)
    help_en: str = Field(default="", max_length=300)
    show_in_registry: bool = False


class StatusDefIn(InSchema):
    key: str = Field(min_length=1, max_length=60)
    name_ru: str = Field(default="", max_length=200)
    name_en: str = Field(default="", max_length=200)
    meaning: str = Field(description="draft, active, success, failure or archived")
    token: str = Field(
        description="neutral, active, waiting, overdue, returned, rejected, approved, "
        "signed, guest or cancelled"
    )
    initial: bool = False


class DocumentTypeCreateIn(InSchema):
    key: str = Field(min_length=1, max_length=60)
    name_ru: str = Field(default="", max_length=200)
    name_en: str = Field(default="", max_length=200)
    prefix: str = Field(default="", max_length=20)
    numbering_pattern: str = Field(default="{prefix}-{yyyy}-{seq:05}", max_length=100)
    title_template: str = Field(default="{type} {number}", max_length=300)
    folder_rule: str = Field(default="", max_length=300)
    has_files: bool = True
    confidential: bool = False
    description_ru: str = Field(default="", max_length=5000)
    description_en: str = Field(default="", max_length=5000)
    fields: list[FieldDefIn] = []
    statuses: list[StatusDefIn] = Field(
        default=[],
        description="Empty: the usual set (draft, on_approval, returned, approved, "
        "rejected, cancelled).",
    )


class DocumentTypePatchIn(InSchema):
    name_ru: str | None = Field(default=None, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    prefix: str | None = Field(default=None, max_length=20)
    numbering_pattern: str | None = Field(default=None, max_length=100)
    title_template: str | None = Field(default=None, max_length=300)
    folder_rule: str | None = Field(default=None, max_length=300)
    has_files: bool | None = None
    confidential: bool | None = None
    description_ru: str | None = Field(default=None, max_length=5000)
    description_en: str | None = Field(default=None, max_length=5000)
    is_active: bool | None = None
