"""Keeping the full-text index (documents.fulltext, models.SearchEntry) up to date.

- ``search_index_documents(ids)`` rebuilds the entries of these documents from what is
  stored now: the head (number, title, field values, counterparty name and tax id),
  the talk (decision comments and whatever ``register_talk_source`` adds) and the
  text already extracted from their current file versions. The document services
  call it in their own transaction when a document is created or its fields change,
  so a new document is found by its number at once.
- ``search_mark(ids)`` marks entries for the worker, in the caller's transaction
  (a file version was added, a comment written): an outbox row, so a crash between
  the commit and the indexing loses nothing.
- ``search_index_due()`` is the worker's part: it extracts the text of file contents
  not extracted yet (documents.textextract, once per SHA-256 per organisation) and
  rebuilds the marked entries.
- ``search_rebuild()`` marks and rebuilds everything (``sogla search_reindex``).

Each database keeps its own index beside the entry: PostgreSQL a ``tsvector`` (the
``russian`` configuration, weights A/B/C for head/talk/files) with a GIN index,
SQLite the FTS5 table ``documents_search_fts`` holding the stems (rowid = document).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation

from sogla.documents import fulltext
from sogla.documents.fields import display_value
from sogla.documents.models import (
    Document,
    FieldDef,
    FieldKind,
    FileText,
    FileVersion,
    SearchEntry,
)
from sogla.documents.textextract import extract_text
from sogla.orgs.models import User

logger = logging.getLogger("sogla.search")

BATCH = 200
MAX_FILE_BYTES = 60 * 1024 * 1024

# Functions (document ids -> {document id: [texts]}) that add what people wrote on
# documents to the talk part; apps above documents register theirs when they start
# (workflow: decision comments, in WorkflowConfig.ready).
TalkSource = Callable[[Sequence[int]], dict[int, list[str]]]
_TALK_SOURCES: list[TalkSource] = []


def register_talk_source(source: TalkSource) -> None:
    if source not in _TALK_SOURCES:
        _TALK_SOURCES.append(source)


# --- marks -----------------------------------------------------------------------------


def search_mark(document_ids: Iterable[int]) -> None:
    """Mark these documents' entries for the worker (in the caller's transaction)."""
    ids = sorted(set(document_ids))
    if not ids:
        return
    marked = SearchEntry.objects.filter(document_id__in=ids).update(
        pending=True, generation=F("generation") + 1
    )
    if marked == len(ids):
        return
    have = set(
        SearchEntry.objects.filter(document_id__in=ids).values_list(
            "document_id", flat=True
        )
    )
    missing = [i for i in ids if i not in have]
    if missing:
        orgs = dict(
            Document.objects.filter(pk__in=missing).values_list("pk", "organisation_id")
        )
        SearchEntry.objects.bulk_create(
            [
                SearchEntry(
                    document_id=pk, organisation_id=org, pending=True, generation=1
                )
                for pk, org in orgs.items()
            ],
            ignore_conflicts=True,
        )


# --- the worker ------------------------------------------------------------------------


def search_index_due(*, limit: int = 200, seconds: float = 5.0) -> int:
    """Extract and index marked documents, at most ``limit`` of them and for about
    ``seconds`` (the worker's other work must not wait long). Returns how many."""
    started = time.monotonic()
    done = 0
    while done < limit and time.monotonic() - started < seconds:
        due = list(
            SearchEntry.objects.filter(pending=True)
            .order_by("document_id")
            .values_list("document_id", "generation")[: min(BATCH, limit - done)]
        )
        if not due:
            break
        ids = [pk for pk, _gen in due]
        _extract_missing(ids, deadline=started + seconds)
        by_generation: dict[int, list[int]] = defaultdict(list)
        for pk, generation in due:
            by_generation[generation].append(pk)
        with transaction.atomic():
            search_index_documents(ids)
            for generation, marked in by_generation.items():
                SearchEntry.objects.filter(
                    document_id__in=marked, generation=generation
                ).update(pending=False)
        done += len(due)
    return done


def _current_versions(ids: Sequence[int]) -> dict[int, list[FileVersion]]:
    """The current version of each live file of these documents, by document."""
    latest: dict[int, FileVersion] = {}
    rows = FileVersion.objects.filter(
        file__document_id__in=ids, file__archived_at=None
    ).select_related("file")
    for version in rows:
        known = latest.get(version.file_id)
        if known is None or version.version > known.version:
            latest[version.file_id] = version
    found: dict[int, list[FileVersion]] = defaultdict(list)
    for version in sorted(latest.values(), key=lambda v: v.file_id):
        found[version.file.document_id].append(version)
    return found


def _extract_missing(ids: Sequence[int], *, deadline: float) -> None:
    versions = [v for vs in _current_versions(ids).values() for v in vs]
    known = set(
        FileText.objects.filter(sha256__in={v.sha256 for v in versions}).values_list(
            "organisation_id", "sha256"
        )
    )
    for version in versions:
        key = (version.organisation_id, version.sha256)
        if key in known:
            continue
        known.add(key)
        FileText.objects.bulk_create([_extract(version)], ignore_conflicts=True)
        if time.monotonic() > deadline:
            # the rest waits for the next sweep; the entry is indexed with what
            # there is and stays pending only if marked again
            break


def _extract(version: FileVersion) -> FileText:
    row = FileText(organisation_id=version.organisation_id, sha256=version.sha256)
    if version.size > MAX_FILE_BYTES:
        row.state, row.reason = FileText.State.FAILED, "too_large"
        return row
    try:
        with default_storage.open(version.storage_key, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        logger.warning("file %s unreadable for search: %r", version.pk, error)
        row.state, row.reason = FileText.State.FAILED, "missing"
        return row
    got = extract_text(data, version.mime_type)
    row.text = got.text.replace("\x00", "")
    row.reason = got.reason
    if not row.text.strip():
        row.state = FileText.State.FAILED if got.reason else FileText.State.EMPTY
    return row


# --- building entries ------------------------------------------------------------------


def search_index_documents(document_ids: Iterable[int]) -> None:
    """Rebuild the entries of these documents from what is stored now."""
    ids = sorted(set(document_ids))
    for start in range(0, len(ids), BATCH):
        _index_batch(ids[start : start + BATCH])


def _index_batch(ids: list[int]) -> None:
    documents = list(
        Document.objects.filter(pk__in=ids).select_related(
            "doc_type", "counterparty", "initiator", "department", "organisation"
        )
    )
    if not documents:
        return
    fields_by_type: dict[int, list[FieldDef]] = defaultdict(list)
    for f in FieldDef.objects.filter(
        doc_type_id__in={d.doc_type_id for d in documents}
    ):
        fields_by_type[f.doc_type_id].append(f)
    people = _people(documents, fields_by_type)
    talk: dict[int, list[str]] = defaultdict(list)
    for source in _TALK_SOURCES:
        for pk, written in source(ids).items():
            talk[pk].extend(written)
    versions = _current_versions(ids)
    shas = {v.sha256 for vs in versions.values() for v in vs}
    texts = {
        (org, sha): text
        for org, sha, text in FileText.objects.filter(sha256__in=shas).values_list(
            "organisation_id", "sha256", "text"
        )
    }
    now = timezone.now()
    entries = []
    documents.sort(key=lambda d: d.organisation.language)
    for language, group in groupby(documents, key=lambda d: d.organisation.language):
        with translation.override(language):  # field values as the organisation reads
            for document in group:
                entries.append(
                    SearchEntry(
                        document_id=document.pk,
                        organisation_id=document.organisation_id,
                        head=_head(
                            document, fields_by_type[document.doc_type_id], people
                        ),
                        talk="\n".join(talk.get(document.pk, [])),
                        files=_files_text(
                            document, versions.get(document.pk, []), texts
                        ),
                        indexed_at=now,
                    )
                )
    SearchEntry.objects.bulk_create(
        entries,
        update_conflicts=True,
        unique_fields=["document"],
        update_fields=["head", "talk", "files", "indexed_at"],
    )
    write_index(entries)


def _people(
    documents: list[Document], fields_by_type: dict[int, list[FieldDef]]
) -> dict[int, str]:
    wanted: set[int] = set()
    for document in documents:
        for f in fields_by_type[document.doc_type_id]:
            value = document.fields.get(f.key)
            if f.kind == FieldKind.USER and isinstance(value, int):
                wanted.add(value)
            elif f.kind == FieldKind.USERS and isinstance(value, list):
                wanted.update(v for v in value if isinstance(v, int))
    if not wanted:
        return {}
    return {u.pk: u.short_name for u in User.objects.filter(pk__in=wanted)}


def _head(document: Document, fields: list[FieldDef], people: dict[int, str]) -> str:
    """Number, title, counterparty, field values (in the active language)."""
    parts = [document.number, document.title]
    if document.counterparty is not None:
        party = document.counterparty
        parts += [party.name, party.tax_id, party.ogrn]
    for f in fields:
        value = document.fields.get(f.key)
        if value is None or value == "" or f.kind in _NOT_IN_HEAD:
            continue
        if f.kind == FieldKind.USER:
            parts.append(people.get(value, "") if isinstance(value, int) else "")
        elif f.kind == FieldKind.USERS:
            parts += [people.get(v, "") for v in value if isinstance(v, int)]
        elif f.kind in (FieldKind.NUMBER, FieldKind.MONEY):
            parts += [display_value(f, value), str(value)]
        else:
            try:
                parts.append(display_value(f, value))
            except (TypeError, ValueError, ArithmeticError):
                parts.append(str(value))
    return "\n".join(p for p in parts if p)


_NOT_IN_HEAD = (FieldKind.FILE, FieldKind.COUNTERPARTY)


def _files_text(
    document: Document,
    versions: list[FileVersion],
    texts: dict[tuple[int, str], str],
) -> str:
    parts = []
    size = 0
    for version in versions:
        text = texts.get((document.organisation_id, version.sha256), "")
        parts.append(version.original_name)
        if text:
            parts.append(text[: fulltext.MAX_FILES_CHARS - size])
            size += len(parts[-1])
        if size >= fulltext.MAX_FILES_CHARS:
            break
    return "\n".join(parts)


def write_index(entries: Sequence[SearchEntry]) -> None:
    """Write these entries' texts into the database's full-text index."""
    if not entries:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.executemany(
                "UPDATE documents_searchentry SET vector = "
                "setweight(to_tsvector('russian', %s), 'A') || "
                "setweight(to_tsvector('russian', %s), 'B') || "
                "setweight(to_tsvector('russian', %s), 'C') "
                "WHERE document_id = %s",
                [
                    (
                        fulltext.normalized(e.head),
                        fulltext.normalized(e.talk),
                        fulltext.normalized(e.files),
                        e.document_id,
                    )
                    for e in entries
                ],
            )
        else:
            cursor.executemany(
                "DELETE FROM documents_search_fts WHERE rowid = %s",
                [(e.document_id,) for e in entries],
            )
            cursor.executemany(
                "INSERT INTO documents_search_fts (rowid, head, talk, files) "
                "VALUES (%s, %s, %s, %s)",
                [
                    (
                        e.document_id,
                        fulltext.stemmed(e.head),
                        fulltext.stemmed(e.talk),
                        fulltext.stemmed(e.files),
                    )
                    for e in entries
                ],
            )


def search_rebuild(*, organisation_id: int | None = None) -> int:
    """Mark every document (of one organisation) and index them all now."""
    documents = Document.objects.all()
    if organisation_id is not None:
        documents = documents.filter(organisation_id=organisation_id)
    ids = list(documents.values_list("pk", flat=True))
    with transaction.atomic():
        search_mark(ids)
    done = 0
    while True:
        got = search_index_due(limit=10_000, seconds=3600.0)
        done += got
        if not got:
            return done
