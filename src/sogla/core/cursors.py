"""Keyset cursors for paged lists: the (moment, id) of a page's last row, signed.

A list ordered by a moment and then the id continues after the row a cursor names,
so a page never repeats or skips a row when rows are added meanwhile. The cursor is
signed with a salt of its own per list, so that it cannot be forged or replayed on
another list; a cursor that does not verify is NotFound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing

from sogla.core.errors import NotFound

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)  # the sort key of "no moment": last


@dataclass(frozen=True)
class Keyset:
    """Encodes and decodes the cursors of one list (``salt`` names the list)."""

    salt: str

    def encode(self, at: datetime, pk: int) -> str:
        return signing.dumps([at.isoformat(), pk], salt=self.salt, compress=True)

    def decode(self, cursor: str) -> tuple[datetime, int]:
        try:
            at, pk = signing.loads(cursor, salt=self.salt)
            return datetime.fromisoformat(at), int(pk)
        except (signing.BadSignature, ValueError, TypeError):
            raise NotFound("bad cursor") from None
