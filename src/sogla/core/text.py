"""Cleaning user text that is shown to other people.

Bidirectional-text controls make text display in another order than it is stored:
``"invoice\u202efdp.exe"`` shows as ``"invoiceexe.pdf"``. File names (and any other
text that must read the way it is stored) have them removed.
"""

from __future__ import annotations

import re

# Embeddings and overrides (U+202A..U+202E), isolates (U+2066..U+2069), and the
# invisible direction marks (LRM, RLM, the Arabic letter mark).
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_DROP_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional-text control characters."""
    return text.translate(_DROP_BIDI)


def without_number(title: str, number: str) -> str:
    """A title shown next to its number, the number said once: titles made from a
    template often repeat it ("Договор Д-2026-00007 с …" beside "Д-2026-00007"
    reads "Договор с …"; "Заявка ЗО-1: уборка" reads "Заявка: уборка")."""
    title, number = str(title or "").strip(), str(number or "").strip()
    if not number or number not in title:
        return title
    shorter = " ".join(title.replace(number, " ").split())
    shorter = re.sub(r"\s+([:,.;])", r"\1", shorter).strip(" :,.;")
    return shorter or title
