"""Read-only queries over documents, types and counterparties, scoped to the user."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from sogla.core.access import is_org_admin
from sogla.core.errors import NotFound, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.core.prepared import Prepared
from sogla.documents.access import access_document, visible_documents
from sogla.documents.fields import display_value
from sogla.documents.models import (
    Counterparty,
    Document,
    DocumentFile,
    DocumentType,
    FieldDef,
    FieldKind,
    FilePreview,
    FileVersion,
    SavedView,
    StatusDef,
)

# the registry's list lives in .registry; callers keep importing it from here
from sogla.documents.selectors.registry import (
    CONTROL_DATE_PATH as CONTROL_DATE_PATH,
)
from sogla.documents.selectors.registry import (
    COUNTED as COUNTED,
)
from sogla.documents.selectors.registry import (
    EXPORT_LIMIT as EXPORT_LIMIT,
)
from sogla.documents.selectors.registry import (
    PAGE_SIZE as PAGE_SIZE,
)
from sogla.documents.selectors.registry import (
    DocumentFilter as DocumentFilter,
)
from sogla.documents.selectors.registry import (
    Page as Page,
)
from sogla.documents.selectors.registry import (
    RowValues as RowValues,
)
from sogla.documents.selectors.registry import (
    document_export as document_export,
)
from sogla.documents.selectors.registry import (
    document_list as document_list,
)
from sogla.documents.selectors.registry import (
    document_queryset as document_queryset,
)
from sogla.documents.selectors.registry import (
    registry_row_values as registry_row_values,
)
from sogla.orgs.models import User


@dataclass
class DocumentCard:
    """A document as its card and the API show it: the row, its live files (versions
    newest first) and its type's fields."""

    document: Document
    files: list[DocumentFile]
    field_defs: list[FieldDef]

    def file(self, pk: int) -> DocumentFile | None:
        return next((f for f in self.files if f.pk == pk), None)

    def field_labels(self) -> dict[str, str]:
        """Field key -> label (the card names a file by its field)."""
        return {f.key: f.label for f in self.field_defs}

    def free_file_fields(self) -> list[FieldDef]:
        """The type's file fields that have no file yet."""
        taken = {file.field_key for file in self.files}
        return [
            f
            for f in self.field_defs
            if f.kind == FieldKind.FILE and f.key not in taken
        ]

    def files_state(self) -> tuple[str, int]:
        """The SHA-256 over the sorted hashes of the files' current versions (what
        a decision is tied to; "" without files) and the highest version number."""
        latest = [
            versions[0] for f in self.files if (versions := list(f.versions.all()))
        ]
        if not latest:
            return "", 0
        joined = "\n".join(sorted(v.sha256 for v in latest))
        sha = hashlib.sha256(joined.encode("ascii")).hexdigest()
        return sha, max(v.version for v in latest)


# The card's reads, on every request: compiled once (``core.prepared``, ADR 0002).
_files_prepared = Prepared(
    lambda document_id: DocumentFile.objects.filter(
        document_id=document_id, archived_at=None
    ).order_by("id"),
    arity=1,
)
_versions_prepared = Prepared(
    lambda document_id: (
        FileVersion.objects.filter(
            file__document_id=document_id, file__archived_at=None
        )
        .select_related("author")
        .order_by("file_id", "-version")
    ),
    arity=1,
)
_fields_prepared = Prepared(
    lambda doc_type_id: FieldDef.objects.filter(doc_type_id=doc_type_id), arity=1
)
_VERSION_FILE = FileVersion._meta.get_field("file")
_BIGGEST_ID = 2**63 - 1


def document_get(*, user: User, pk: int | str) -> DocumentCard:
    """A document the user may see with its files and fields (4 queries)."""
    document = access_document(user, pk)
    files = _files_prepared.all(document.pk)
    versions: dict[int, list[FileVersion]] = {}
    if files:
        for version in _versions_prepared.all(document.pk):
            versions.setdefault(version.file_id, []).append(version)
    for file in files:
        # as prefetch_related("versions") leaves them: newest first, file.versions.all()
        mine = versions.get(file.pk, [])
        for version in mine:
            _VERSION_FILE.set_cached_value(version, file)
        prefetched = file.versions.all()
        prefetched._result_cache = mine
        prefetched._prefetch_done = True  # type: ignore[attr-defined]
        file._prefetched_objects_cache = {"versions": prefetched}  # type: ignore[attr-defined]
    return DocumentCard(
        document=document,
        files=files,
        field_defs=_fields_prepared.all(document.doc_type_id),
    )


def current_files_by_document(
    *, user: User, document_ids: list[int]
) -> dict[int, list[FileVersion]]:
    """The current version of each live file of these documents of the user's
    organisation, by document (one query; for confirmations that name versions)."""
    found: dict[int, dict[int, FileVersion]] = {}
    if user.organisation_id is None:
        return {}
    rows = FileVersion.objects.filter(
        file__document_id__in=document_ids,
        file__document__organisation_id=user.organisation_id,
        file__archived_at=None,
    ).select_related("file")
    for version in rows.order_by("file_id", "version"):
        found.setdefault(version.file.document_id, {})[version.file_id] = version
    return {doc: list(files.values()) for doc, files in found.items()}


def document_types_for(user: User) -> QuerySet[DocumentType]:
    if user.organisation_id is None:
        return DocumentType.objects.none()
    return DocumentType.objects.for_org(user.organisation_id).filter(is_active=True)


def document_type_get(user: User, key: str) -> DocumentType:
    try:
        return document_types_for(user).get(key=key)
    except DocumentType.DoesNotExist:
        raise NotFound("no such type") from None


def document_type_chosen(user: User, key: str) -> DocumentType:
    """The type a request body names in ``doc_type``; unknown -> 422 on that field."""
    try:
        return document_type_get(user, key)
    except NotFound:
        raise ValidationFailed.single(
            "doc_type", "unknown_type", _("No such document type.")
        ) from None


@dataclass
class TypeWithFields:
    doc_type: DocumentType
    field_defs: list[FieldDef]


def document_type_with_fields(user: User, key: str) -> TypeWithFields:
    doc_type = document_type_get(user, key)
    return TypeWithFields(doc_type, list(FieldDef.objects.filter(doc_type=doc_type)))


def statuses_for(user: User) -> QuerySet[StatusDef]:
    return StatusDef.objects.for_org(user.organisation_id or 0).select_related(
        "doc_type"
    )


def file_version_get(*, user: User, pk: int | str) -> FileVersion:
    """A file version of a document the user may see; NotFound otherwise."""
    try:
        return FileVersion.objects.select_related("file").get(
            pk=int(pk), file__document__in=visible_documents(user)
        )
    except (FileVersion.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such file") from None


def counterparty_search(
    *, user: User, q: str = "", limit: int = 20
) -> QuerySet[Counterparty]:
    """Counterparties by name or tax id, for the combobox (one query)."""
    parties = Counterparty.objects.for_org(user.organisation_id or 0)
    text = q.replace("\x00", "").strip()
    if text:
        from sogla.documents.counterparties import normalize_name

        parties = parties.filter(
            Q(name__icontains=text)
            | Q(normalized_name__contains=normalize_name(text))
            | Q(tax_id__startswith=text)
        )
    return parties.order_by("name")[:limit]


def counterparty_get(*, user: User, pk: int | str) -> Counterparty:
    try:
        return (
            Counterparty.objects.for_org(user.organisation_id or 0)
            .prefetch_related("contacts")
            .get(pk=int(pk))
        )
    except (Counterparty.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such counterparty") from None


# By number of ids (the card names a few people): compiled once each.
_users_prepared: dict[int, Prepared[User]] = {}
_PREPARED_IDS = 8


def users_by_id(user: User, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    if user.organisation_id is None:
        return {}
    if len(ids) > _PREPARED_IDS or not all(0 < i <= _BIGGEST_ID for i in ids):
        users = User.objects.filter(organisation_id=user.organisation_id, pk__in=ids)
        return {u.pk: u for u in users}
    prepared = _users_prepared.get(len(ids))
    if prepared is None:
        prepared = _users_prepared.setdefault(
            len(ids),
            Prepared(
                lambda org, *wanted: User.objects.filter(
                    organisation_id=org, pk__in=list(wanted)
                ),
                arity=len(ids) + 1,
            ),
        )
    return {u.pk: u for u in prepared.all(user.organisation_id, *sorted(ids))}


# --- for the web screens -------------------------------------------------------------


def org_users(user: User) -> QuerySet[User]:
    """Active people of the user's organisation, for user pickers (one query)."""
    return User.objects.filter(
        organisation_id=user.organisation_id or 0, is_active=True
    ).order_by("last_name", "first_name", "username")


def counterparties_by_id(user: User, ids: set[int]) -> dict[int, Counterparty]:
    if not ids:
        return {}
    return {
        c.pk: c
        for c in Counterparty.objects.for_org(user.organisation_id or 0).filter(
            pk__in=ids
        )
    }


def document_file_get(*, document: Document, pk: int | str) -> DocumentFile:
    """A live file slot of ``document`` (already access-checked by the caller)."""
    try:
        return DocumentFile.objects.get(pk=int(pk), document=document, archived_at=None)
    except (DocumentFile.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such file") from None


def document_history(*, user: User, document: Document) -> list[AuditEvent]:
    """The document's audit events, oldest first (the card's History tab).

    The caller has already checked that ``user`` may see ``document``; events of
    another organisation are never returned.
    """
    if document.organisation_id != user.organisation_id:
        return []
    return list(
        AuditEvent.objects.for_org(document.organisation_id)
        .filter(document_id=document.pk)
        .select_related("actor")
        .order_by("chain", "seq")  # events from before document chains come first
    )


@dataclass
class FieldRow:
    """A filled or empty non-file field of a document as its card shows it."""

    field: FieldDef
    text: str = ""
    link: str = ""  # a URL field's address
    party: Counterparty | None = None  # a counterparty field's counterparty

    @property
    def is_money(self) -> bool:
        return self.field.kind == FieldKind.MONEY and bool(self.text)


def document_field_rows(*, user: User, card: DocumentCard) -> list[FieldRow]:
    """Label and display text of every non-file field; the names in 2 queries."""
    document = card.document
    users, parties = _named(user, document, card.field_defs)
    return [
        _field_row(f, document.fields.get(f.key), users, parties)
        for f in card.field_defs
        if f.kind != FieldKind.FILE
    ]


def _named(
    user: User, document: Document, fields: list[FieldDef]
) -> tuple[dict[int, User], dict[int, Counterparty]]:
    """The people and counterparties the document's fields name, by id."""
    user_ids: set[int] = set()
    party_ids: set[int] = set()
    for f in fields:
        value = document.fields.get(f.key)
        if value in (None, "", []):
            continue
        if f.kind == FieldKind.USER:
            user_ids.add(int(value))
        elif f.kind == FieldKind.USERS:
            user_ids.update(int(v) for v in value)
        elif f.kind == FieldKind.COUNTERPARTY:
            party_ids.add(int(value))
    if document.counterparty_id is not None and document.counterparty is not None:
        party_ids.discard(document.counterparty_id)
    users = users_by_id(user, user_ids)
    parties = counterparties_by_id(user, party_ids)
    if document.counterparty is not None:
        parties[document.counterparty.pk] = document.counterparty
    return users, parties


def _field_row(
    f: FieldDef,
    value: Any,
    users: dict[int, User],
    parties: dict[int, Counterparty],
) -> FieldRow:
    row = FieldRow(f)
    if value in (None, "", []):
        return row
    if f.kind == FieldKind.USER:
        person = users.get(int(value))
        row.text = person.get_full_name() if person else "—"
    elif f.kind == FieldKind.USERS:
        row.text = ", ".join(
            users[int(v)].get_full_name() for v in value if int(v) in users
        )
    elif f.kind == FieldKind.COUNTERPARTY:
        row.party = parties.get(int(value))
        row.text = row.party.name if row.party else "—"
    elif f.kind == FieldKind.URL:
        row.text = row.link = str(value)
    else:
        row.text = display_value(f, value)
    return row


def file_preview(version: FileVersion) -> FilePreview | None:
    """The preview row of a version's content (None before it was requested)."""
    return FilePreview.objects.filter(
        organisation_id=version.organisation_id, sha256=version.sha256
    ).first()


def file_version_with_preview(
    *, user: User, pk: int | str
) -> tuple[FileVersion, FilePreview | None]:
    """A version the user may see (NotFound otherwise) and its preview row."""
    version = file_version_get(user=user, pk=pk)
    return version, file_preview(version)


def first_page_thumbnails(*, document_ids: list[int]) -> dict[int, int]:
    """Document id -> the version whose thumbnail the registry shows: the current
    version of the document's first live file that has one (one query). The ids
    come from a list the user may already see."""
    if not document_ids:
        return {}
    ready = FilePreview.objects.filter(
        organisation_id=OuterRef("organisation_id"),
        sha256=OuterRef("sha256"),
        state=FilePreview.State.READY,
    ).exclude(thumb_key="")
    rows = (
        FileVersion.objects.filter(
            file__document_id__in=document_ids, file__archived_at=None
        )
        .annotate(has_thumb=Exists(ready))
        .order_by("file__document_id", "file_id", "-version")
        .values_list("file__document_id", "file_id", "pk", "has_thumb")
    )
    thumbs: dict[int, int] = {}
    seen_files: set[int] = set()
    for document_id, file_id, pk, has_thumb in rows:
        if file_id in seen_files:
            continue
        seen_files.add(file_id)  # only the current (newest) version counts
        if has_thumb and document_id not in thumbs:
            thumbs[document_id] = pk
    return thumbs


def document_type_for_admin(user: User, key: str) -> DocumentType:
    """Any type of the administrator's organisation (also one closed for new
    documents); NotFound for anyone else and for other organisations' types."""
    if not is_org_admin(user):
        raise NotFound("no such type")
    try:
        return DocumentType.objects.for_org(user.organisation_id or 0).get(key=key)
    except DocumentType.DoesNotExist:
        raise NotFound("no such type") from None


def document_types_for_admin(user: User) -> QuerySet[DocumentType]:
    return DocumentType.objects.for_org(user.organisation_id or 0).order_by(
        "order", "key"
    )


def saved_views_for(user: User) -> list[SavedView]:
    """The registry views a person may pick: their own, then the organisation's
    shared ones (one query, owners joined)."""
    if user.organisation_id is None:
        return []
    views = list(
        SavedView.objects.filter(organisation_id=user.organisation_id)
        .filter(Q(owner=user) | Q(shared=True))
        .select_related("owner")
        .order_by("position", "name", "id")
    )
    return [v for v in views if v.owner_id == user.pk] + [
        v for v in views if v.owner_id != user.pk
    ]
