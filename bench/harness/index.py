"""The full-text index of bulk-copied documents, written in bulk.

The copies (copies.py) are rows written past the services, so they have no search
entry. The real indexer (``search_rebuild``) takes about 7 ms per document (field
values, people, stems: 700 s at 100,000); the page benchmarks only need the words a
registry search looks for, so this writes each copy's entry from its number, title,
counterparty (name, tax id, OGRN) and the words the copy put in ``search_text``,
through the same text analysis (``fulltext.normalized`` / ``fulltext.stemmed``) and
the same index columns as ``documents.services.search.write_index``.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from sogla.documents import fulltext

CHUNK = 5000

_MISSING = (
    "SELECT d.id, d.organisation_id, d.number, d.title, d.search_text, "
    "COALESCE(c.name, ''), COALESCE(c.tax_id, ''), COALESCE(c.ogrn, '') "
    "FROM documents_document d "
    "LEFT JOIN documents_counterparty c ON c.id = d.counterparty_id "
    "LEFT JOIN documents_searchentry s ON s.document_id = d.id "
    "WHERE s.document_id IS NULL OR (s.head = '' AND s.indexed_at IS NULL) "
    "ORDER BY d.id LIMIT %s"
)


def index_missing() -> tuple[int, float]:
    """Index every document without an entry (or with the empty entry the
    migration leaves); returns how many and the seconds it took."""
    began = time.perf_counter()
    done = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_MISSING, [CHUNK])
            rows = cursor.fetchall()
        if not rows:
            break
        entries = [
            (
                pk,
                org,
                "\n".join(p for p in (number, title, party, tax_id, ogrn, words) if p),
            )
            for pk, org, number, title, words, party, tax_id, ogrn in rows
        ]
        with transaction.atomic():
            _write(entries)
        done += len(entries)
    return done, time.perf_counter() - began


def _write(entries: list[tuple[int, int, str]]) -> None:
    ids = [(pk,) for pk, _org, _head in entries]
    with connection.cursor() as cursor:
        cursor.executemany(
            "DELETE FROM documents_searchentry WHERE document_id = %s", ids
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS bench_heads "
                "(id bigint, org bigint, head text, words text) ON COMMIT DROP"
            )
            with cursor.cursor.copy(  # type: ignore[attr-defined]
                "COPY bench_heads (id, org, head, words) FROM STDIN"
            ) as copy:
                for pk, org, head in entries:
                    copy.write_row((pk, org, head, fulltext.normalized(head)))
            cursor.execute(
                "INSERT INTO documents_searchentry (document_id, organisation_id, "
                "head, talk, files, pending, generation, indexed_at, vector) "
                "SELECT id, org, head, '', '', false, 0, now(), "
                "setweight(to_tsvector('russian', words), 'A') FROM bench_heads"
            )
        else:
            cursor.executemany(
                "INSERT INTO documents_searchentry (document_id, organisation_id, "
                "head, talk, files, pending, generation, indexed_at) "
                "VALUES (%s, %s, %s, '', '', 0, 0, CURRENT_TIMESTAMP)",
                entries,
            )
            cursor.executemany("DELETE FROM documents_search_fts WHERE rowid = %s", ids)
            cursor.executemany(
                "INSERT INTO documents_search_fts (rowid, head, talk, files) "
                "VALUES (%s, %s, '', '')",
                [(pk, fulltext.stemmed(head)) for pk, _org, head in entries],
            )
