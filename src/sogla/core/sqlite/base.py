"""Django's SQLite backend, with one change: the ``%s`` -> ``?`` conversion of a
statement's text is remembered.

Django's ``SQLiteCursorWrapper`` rewrites every statement's text with a regular
expression before handing it to ``sqlite3`` (the ORM writes ``%s``, SQLite wants
``?``). On the decision path that was about a tenth of a decision's CPU: the state's
``UNION ALL`` alone is several kilobytes of text, run again on every decision. The
conversion is a pure function of the text (values are parameters, never in the
text), so this cursor keeps the converted texts it has seen, up to
``_KEPT`` of them (then it starts over). Everything else is Django's backend
unchanged; ``settings`` names this module as the ENGINE when the URL is SQLite
(docs/decisions/0002-hand-compiled-sql.md).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base as sqlite_base

_KEPT = 2048
_converted: dict[str, str] = {}


class CursorWrapper(sqlite_base.SQLiteCursorWrapper):
    """``SQLiteCursorWrapper`` remembering its "format" -> "qmark" conversions."""

    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is not None:  # "pyformat": Django's, unchanged
            return str(super().convert_query(query, param_names=param_names))
        converted = _converted.get(query)
        if converted is None:
            converted = str(super().convert_query(query))
            if len(_converted) >= _KEPT:
                _converted.clear()
            _converted[query] = converted
        return converted


class DatabaseWrapper(sqlite_base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> Any:  # noqa: ARG002 - Django's
        return self.connection.cursor(factory=CursorWrapper)
