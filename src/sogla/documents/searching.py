"""Full-text search over documents: one selector, the same results on SQLite and
PostgreSQL (documents.fulltext says how text becomes words).

The documents the user may see under the other filters (``visible_documents`` plus
the registry's filters: organisation, confidential types, archive ...) are the only
candidates; the database's full-text index picks those holding every word of the
query and ranks them (PostgreSQL ``ts_rank`` over weights A/B/C for head, talk and
files; SQLite FTS5 ``bm25`` with the same order of weights), best first and then the
newest id. A page of results carries an HTML snippet per document (escaped, found
words in ``<mark>``), made here from the stored texts, the same on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import connection
from django.db.models import QuerySet

from sogla.core.errors import NotFound
from sogla.documents import fulltext
from sogla.documents.models import Document, SearchEntry

_SALT = "sogla.documents.search"


@dataclass(frozen=True)
class Hits:
    ids: list[int]  # of this page, best first
    total: int
    next_offset: int | None


def encode_offset(offset: int) -> str:
    return signing.dumps(offset, salt=_SALT)


def decode_offset(cursor: str) -> int:
    try:
        return max(0, int(signing.loads(cursor, salt=_SALT)))
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound("bad cursor") from None


def search_hits(
    candidates: QuerySet[Document], query: fulltext.Query, *, offset: int, limit: int
) -> Hits:
    """The ids of ``candidates`` that match ``query``, ranked (two statements)."""
    if not query:
        return Hits([], 0, None)
    inner, params = candidates.values("pk").query.sql_with_params()
    if connection.vendor == "postgresql":
        match = (
            "FROM documents_searchentry s, to_tsquery('russian', %s) q "
            f"WHERE s.vector @@ q AND s.document_id IN ({inner})"
        )
        args: list[Any] = [query.tsquery(), *params]
        count_sql = f"SELECT count(*) {match}"
        rows_sql = (
            f"SELECT s.document_id {match} "
            "ORDER BY ts_rank(s.vector, q) DESC, s.document_id DESC LIMIT %s OFFSET %s"
        )
    else:
        match = (
            "FROM documents_search_fts WHERE documents_search_fts MATCH %s "
            f"AND rowid IN ({inner})"
        )
        args = [query.fts5(), *params]
        count_sql = f"SELECT count(*) {match}"
        rows_sql = (
            f"SELECT rowid {match} "
            "ORDER BY bm25(documents_search_fts, 10.0, 4.0, 1.0), rowid DESC "
            "LIMIT %s OFFSET %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(rows_sql, [*args, limit + 1, offset])
        ids = [row[0] for row in cursor.fetchall()]
        if offset == 0 and len(ids) <= limit:
            total = len(ids)
        else:
            cursor.execute(count_sql, args)
            total = int(cursor.fetchone()[0])
    more = len(ids) > limit
    return Hits(ids[:limit], total, offset + limit if more else None)


def snippets(query: fulltext.Query, ids: list[int]) -> dict[int, str]:
    """An HTML snippet per document where a query word is found (one statement)."""
    if not query or not ids:
        return {}
    found = {}
    for pk, head, talk, files in SearchEntry.objects.filter(
        document_id__in=ids
    ).values_list("document_id", "head", "talk", "files"):
        piece = fulltext.snippet(query, [files, talk, head])
        if piece:
            found[pk] = piece
    return found
