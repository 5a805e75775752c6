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

from collections.abc import Mapping
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


# A broad query (a common word) matches tens of thousands of documents; ranking and
# checking every match costs seconds. Only the newest RANKED matches are ranked and
# checked against the visibility rules (the full-text index hands them over newest
# first without ranking the rest); the total then says "at least". A page shows 25-50
# rows: 500 is ten pages' worth (2,000 cost about four times as much per search:
# docs/benchmarks.md, "bench/search.py").
RANKED = 500


@dataclass(frozen=True)
class Hits:
    ids: list[int]  # of this page, best first
    total: int
    next_offset: int | None
    approximate: bool = False  # more documents match than were ranked: total is a floor


def encode_offset(offset: int) -> str:
    return signing.dumps(offset, salt=_SALT)


def decode_offset(cursor: str) -> int:
    try:
        return max(0, int(signing.loads(cursor, salt=_SALT)))
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound("bad cursor") from None


def search_hits(
    candidates: QuerySet[Document],
    query: fulltext.Query,
    *,
    organisation_id: int | None,
    offset: int,
    limit: int,
    ranked: int | None = None,
) -> Hits:
    """The ids of ``candidates`` that match ``query``, ranked, and how many there
    are (one statement).

    The newest ``ranked`` matches of the full-text index within the organisation
    (by document id, which the index yields in order on SQLite and sorts without
    reading the rows' texts on PostgreSQL) are the only ones ranked and checked
    against the candidates' other conditions; when there were that many, the total
    is a floor (``approximate``). The organisation is part of the match: another
    organisation's newer documents never use up the ranked matches.
    """
    if not query or organisation_id is None:
        return Hits([], 0, None)
    ranked = RANKED if ranked is None else ranked
    # The matches first (materialised: the index is read once), then the
    # candidates' conditions checked for those ids only (the planner drives the
    # candidates' query from the matched ids; no order of their own).
    inner, params = (
        candidates.filter(pk__in=RawSQL("SELECT id FROM found", []))
        .order_by()
        .values("pk")
        .query.sql_with_params()
    )
    if query.number:
        numbered = _by_number(query.number, organisation_id, ranked, inner, params)
        if numbered is not None:
            ids, matched = numbered
            more = len(ids) > offset + limit
            return Hits(
                ids[offset : offset + limit],
                len(ids),
                offset + limit if more else None,
                matched >= ranked,
            )
    if connection.vendor == "postgresql":
        found = (
            "SELECT s.document_id AS id FROM documents_searchentry s "
            "WHERE s.vector @@ to_tsquery('russian', %s) AND s.organisation_id = %s "
            "ORDER BY s.document_id DESC LIMIT %s"
        )
        rank = (
            "SELECT f.id, ts_rank(s.vector, to_tsquery('russian', %s)) AS r "
            "FROM found f JOIN documents_searchentry s ON s.document_id = f.id"
        )
        order = "r DESC, id DESC"
        args: list[Any] = [query.tsquery(), organisation_id, ranked, query.tsquery()]
    else:
        # CROSS JOIN keeps FTS5 the outer loop: it yields the matches newest first
        # and the organisation is checked per match by the entry's primary key.
        found = (
            "SELECT f.rowid AS id, bm25(documents_search_fts, 10.0, 4.0, 1.0) AS r "
            "FROM documents_search_fts f CROSS JOIN documents_searchentry s "
            "ON s.document_id = f.rowid "
            "WHERE documents_search_fts MATCH %s AND s.organisation_id = %s "
            "ORDER BY f.rowid DESC LIMIT %s"
        )
        rank = "SELECT id, r FROM found"
        order = "r, id DESC"
        args = [query.fts5(), organisation_id, ranked]
    # The ranked matches, the total comes with the rows.
    sql = (
        f"WITH found AS MATERIALIZED ({found}), "  # noqa: S608 - our SQL, params bound
        f"ranked AS ({rank}) "
        "SELECT id, count(*) OVER (), (SELECT count(*) FROM found) FROM ranked "
        f"WHERE id IN ({inner}) ORDER BY {order} LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, *params, limit + 1, offset])
        rows = cursor.fetchall()
    ids = [row[0] for row in rows]
    total = int(rows[0][1]) if rows else offset if offset else 0
    approximate = bool(rows) and int(rows[0][2]) >= ranked
    more = len(ids) > limit
    return Hits(ids[:limit], total, offset + limit if more else None, approximate)


def _by_number(
    number: str, organisation_id: int, ranked: int, inner: str, params: Any
) -> tuple[list[int], int] | None:
    """The candidates whose number is ``number`` or starts with it, through the
    ``(organisation, number)`` index: the numbers equal to it first, then the
    others by number, highest first; at most ``ranked`` numbers are read. As typed
    and in capitals («д-2026-00669» finds «Д-2026-00669»). With the number match
    count. None when no candidate has such a number: the full-text index decides
    then (a number written in a text, a part of one).

    A number's words («д», «2026») are in nearly every document of an
    organisation, so the full-text index would intersect (and FTS5's ``bm25``
    count) lists as long as the organisation for a query that names one document.
    """
    forms = list(dict.fromkeys([number, number.upper()]))
    # The prefix as an index range, read in the index's order: GLOB on SQLite
    # (case-sensitive, so it uses the index), LIKE on PostgreSQL (the index's
    # varchar_pattern_ops, whose order is ``USING ~>~``, characters' codes, whatever
    # the database's collation). A number has none of their special characters
    # (fulltext._NUMBER).
    if connection.vendor == "postgresql":
        starts, patterns = "LIKE", [f"{form}%" for form in forms]
        highest = "number USING ~>~"
    else:
        starts, patterns = "GLOB", [f"{form}*" for form in forms]
        highest = "number DESC"
    same = ", ".join(["%s"] * len(forms))
    prefixed = " UNION ALL ".join(
        "SELECT * FROM (SELECT id, 1 AS r, number FROM documents_document "  # noqa: S608
        f"WHERE organisation_id = %s AND number {starts} %s "
        f"AND number NOT IN ({same}) ORDER BY {highest} LIMIT %s) AS p{i}"
        for i in range(len(forms))
    )
    sql = (
        "WITH found AS MATERIALIZED ("  # noqa: S608 - our SQL, params bound
        "SELECT id, 0 AS r, number FROM documents_document "
        f"WHERE organisation_id = %s AND number IN ({same}) "
        f"UNION ALL {prefixed}) "
        "SELECT id, (SELECT count(*) FROM found) FROM found "
        f"WHERE id IN ({inner}) ORDER BY r, {highest}, id DESC"
    )
    args: list[Any] = [organisation_id, *forms]
    for pattern in patterns:
        args += [organisation_id, pattern, *forms, ranked]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, *params])
        rows = cursor.fetchall()
    if not rows:
        return None
    return [row[0] for row in rows], int(rows[0][1])


def snippets(
    query: fulltext.Query, ids: list[int], shown: Mapping[int, str] | None = None
) -> dict[int, str]:
    """An HTML snippet per document where a query word is found (one statement):
    from its files, else the talk, else its head (number, title, counterparty,
    fields). ``shown``: what a result's row shows of each document (its number,
    title and counterparty); when that alone holds every word of the query, a piece
    of the head would only repeat it, and the document has none."""
    if not query or not ids:
        return {}
    shown = shown or {}
    found = {}
    for pk, head, talk, files in SearchEntry.objects.filter(
        document_id__in=ids
    ).values_list("document_id", "head", "talk", "files"):
        piece = fulltext.snippet(query, [files, talk])
        if not piece and not query.all_found(shown.get(pk, "")):
            piece = fulltext.snippet(query, [head])
        if piece:
            found[pk] = piece
    return found
