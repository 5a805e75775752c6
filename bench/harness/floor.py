"""The database's share of a decision on SQLite (``bench/engine.py``'s "SQL floor").

``record`` runs decisions through the real services while it keeps every statement
they execute, after it has copied the database file (checkpointed first, so the
copy is the whole database). ``replay`` runs the same statements with the same
parameters through the bare ``sqlite3`` driver on that copy, one transaction per
decision as the services had them, and times each statement and each COMMIT. The
copy starts in the state the decisions started from, so every row id comes out as
it did; nothing of the copy is checked beyond the statements succeeding.

What the replay costs is what the database itself does for a decision (parsing
aside: the driver's statement cache holds them), whatever Python around it could
be saved: a lower bound of a decision with these statements, on this machine.
The WAL frames the replay appends tell how many pages a decision's COMMIT writes.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Statements of the transaction's frame (Django's BEGIN, savepoints) are the
# replay's own BEGIN and COMMIT.
_FRAME = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")
WAL_HEADER, FRAME_HEADER = 32, 24


@dataclass
class Recording:
    """The copy of the database and, per decision, its statements."""

    copy: Path
    decisions: list[list[tuple[str, Any, bool]]] = field(default_factory=list)

    def decide(self, call: Callable[[], Any]) -> Any:
        """Run one decision (``call``), keeping its statements."""
        from django.db import connection

        kept: list[tuple[str, Any, bool]] = []

        def keep(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            kept.append((sql, params, many))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(keep):
            answer = call()
        self.decisions.append(kept)
        return answer


@dataclass
class Floor:
    statements: float  # per decision
    seconds: float  # all statements and COMMITs, per decision
    commit: float  # the COMMIT, per decision
    pages: float  # WAL frames per decision
    by_table: list[tuple[str, float]]  # pages per decision, the most first


def record(copy: Path) -> Recording:
    """Copy the database to ``copy`` (checkpointed first, so the file is all of
    it); the decisions then run through ``Recording.decide``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.fetchall()
    connection.close()  # the copy is the file alone, no WAL beside it
    shutil.copyfile(connection.settings_dict["NAME"], copy)
    return Recording(copy)


def replay(recording: Recording) -> Floor:
    """The recorded decisions again through ``sqlite3`` on the copy (see the module
    docstring)."""
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    wal = Path(f"{recording.copy}-wal")
    raw = sqlite3.connect(recording.copy, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            raw.execute(f"PRAGMA {pragma}")
        raw.execute("PRAGMA wal_autocheckpoint=0")  # every frame stays to be counted
        converter = SQLiteCursorWrapper(raw)  # Django's "%s" -> "?"
        texts: dict[str, str] = {}
        clock = time.perf_counter
        seconds = commit = 0.0
        statements = 0
        for decision in recording.decisions:
            began = clock()
            raw.execute("BEGIN")
            for sql, params, many in decision:
                if sql.lstrip().upper().startswith(_FRAME):
                    continue
                text = texts.get(sql)
                if text is None:
                    text = texts[sql] = converter.convert_query(sql)
                if many:
                    raw.executemany(text, params)
                else:
                    raw.execute(text, params or ()).fetchall()
                statements += 1
            committing = clock()
            raw.execute("COMMIT")
            ended = clock()
            commit += ended - committing
            seconds += ended - began
        pages = _wal_pages(wal)
        by_table = _owners(raw, pages)
    finally:
        raw.close()
    count = max(1, len(recording.decisions))
    return Floor(
        statements=statements / count,
        seconds=seconds / count,
        commit=commit / count,
        pages=sum(pages.values()) / count,
        by_table=[(name, n / count) for name, n in by_table.most_common()],
    )


def _wal_pages(wal: Path) -> Counter[int]:
    """How many frames of each page the WAL file holds."""
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < WAL_HEADER:
        return Counter()
    page_size = struct.unpack(">I", data[8:12])[0]
    pages: Counter[int] = Counter()
    for offset in range(
        WAL_HEADER, len(data) - FRAME_HEADER + 1, FRAME_HEADER + page_size
    ):
        pages[struct.unpack(">I", data[offset : offset + 4])[0]] += 1
    return pages


def _owners(raw: sqlite3.Connection, pages: Counter[int]) -> Counter[str]:
    """Frames per table or index (``dbstat``, when this SQLite has it)."""
    try:
        owner = dict(raw.execute("SELECT pageno, name FROM dbstat").fetchall())
    except sqlite3.OperationalError:
        return Counter()
    counted: Counter[str] = Counter()
    for page, frames in pages.items():
        counted[owner.get(page, "(freed or new)")] += frames
    return counted
