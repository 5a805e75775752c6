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
from django.db.models.expressions import RawSQL

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
    """The ids of ``candidates`` that match ``query``, ranked, and how many there
    are (one statement)."""
    if not query:
        return Hits([], 0, None)
    # The matches first (materialised: the full-text index is read once), then the
    # candidates' conditions checked for those ids only (the planner drives the
    # candidates' query from the matched ids), ranked; the total comes with the rows.
    inner, params = (
        candidates.filter(pk__in=RawSQL("SELECT id FROM found", []))
        .values("pk")
        .query.sql_with_params()
    )
    if connection.vendor == "postgresql":
        found = (
            "SELECT s.document_id AS id, ts_rank(s.vector, q) AS r "
            "FROM documents_searchentry s, to_tsquery('russian', %s) q "
            "WHERE s.vector @@ q"
        )
        order = "r DESC, id DESC"
        args: list[Any] = [query.tsquery()]
    else:
        found = (
            "SELECT rowid AS id, bm25(documents_search_fts, 10.0, 4.0, 1.0) AS r "
            "FROM documents_search_fts WHERE documents_search_fts MATCH %s"
        )
        order = "r, id DESC"
        args = [query.fts5()]
    sql = (
        f"WITH found AS MATERIALIZED ({found}) "  # noqa: S608 - our SQL, params bound
        f"SELECT id, count(*) OVER () FROM found WHERE id IN ({inner}) "
        f"ORDER BY {order} LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, *params, limit + 1, offset])
        rows = cursor.fetchall()
    ids = [row[0] for row in rows]
    total = int(rows[0][1]) if rows else offset if offset else 0
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
