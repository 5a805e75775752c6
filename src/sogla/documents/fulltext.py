"""Text analysis for full-text search, the same on SQLite and PostgreSQL.

Both databases see the same words: text is folded (lower case, ё as е) and cut into
words here (letters and digits; every other character separates words, so
``D-2025-00123`` is ``d 2025 00123`` and an e-mail address is its parts). PostgreSQL
gets these words joined by spaces and stems them itself with the ``russian`` text
search configuration (Snowball Russian for Cyrillic words; its Latin words go to the
``english`` Snowball stemmer and stop list). On SQLite, where FTS5 has no stemmer,
the words are stemmed here with the same Snowball algorithms (PyStemmer) and the same
stop lists (copied from PostgreSQL's ``tsearch_data``), and FTS5 indexes the stems.

A query is its words, at most ``MAX_TERMS`` of them, stop words dropped: a document
matches when each word matches a word of the document. The words typed before the
last one are complete and match as words (any form: ``договоры`` finds ``договор``);
the last one may be unfinished and is a prefix (``догов`` finds ``договор``) when it
has at least ``MIN_PREFIX`` characters — a shorter one matches as a word, because a
one- or two-letter prefix matches nearly every document and makes the index merge
the lists of thousands of words. Nothing of the user's text reaches either database's query
syntax unquoted: the words contain only letters and digits, and they are quoted.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path

import Stemmer

MAX_TERMS = 12
MIN_PREFIX = 3
MAX_TERM_CHARS = 60
MAX_QUERY_CHARS = 1000
# The extracted text of a document's files that is indexed (the rest is not searched).
MAX_FILES_CHARS = 200_000

_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[а-я]")
_DATA = Path(__file__).resolve().parent / "data"


def fold(text: str) -> str:
    return text.lower().replace("ё", "е")


def words(text: str) -> list[str]:
    """The folded words of ``text`` (letters and digits, any script)."""
    return _WORD.findall(fold(text))


def normalized(text: str) -> str:
    """The text as both databases index it: its folded words joined by spaces."""
    return " ".join(words(text))


@cache
def stop_words() -> frozenset[str]:
    found: set[str] = set()
    for name in ("russian.stop", "english.stop"):
        for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.add(fold(line.strip()))
    return frozenset(found)


@cache
def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    return Stemmer.Stemmer("russian"), Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of a folded word as PostgreSQL's ``russian`` configuration
    makes it: Cyrillic words by the Russian stemmer, words with digits unchanged,
    other words by the English one."""
    if any(ch.isdigit() for ch in word):
        return word
    russian, english = _stemmers()
    if _CYRILLIC.search(word):
        return str(russian.stemWord(word))
    if word.isascii():
        return str(english.stemWord(word))
    return word


def stemmed(text: str) -> str:
    """The text as SQLite's FTS5 table holds it: the stems of its words, stop words
    left out."""
    stops = stop_words()
    return " ".join(stem(w) for w in words(text) if w not in stops)


# A document number as people type it: groups of letters and digits joined by
# "-", "/" or "." (at least two groups, a digit among them): «Д-2026-00669»,
# «ВХ-0012/26», or the start of one («Д-2026-006»). The characters of LIKE and GLOB
# patterns ("%", "_", "*", "?", "[") cannot occur in it.
_NUMBER = re.compile(r"[^\W_]+(?:[-/.][^\W_]+)+")
MAX_NUMBER_CHARS = 60  # Document.number


@dataclass(frozen=True)
class Query:
    """A search string as terms: the words (for PostgreSQL, which stems them) and
    their stems (for SQLite and for highlighting). ``number``: the string as typed
    when it looks like a document number (or its start), which the search looks up
    by number before the full-text index (documents.searching)."""

    terms: tuple[str, ...]
    number: str = ""

    @classmethod
    def parse(cls, text: str) -> Query:
        digits = "".join(text.split())
        if len(digits) >= 5 and digits.isdigit():
            # A tax id or a number typed in groups ("77070 83893"): one term.
            return cls((digits[:MAX_TERM_CHARS],))
        stripped = text.strip()
        number = (
            stripped
            if len(stripped) <= MAX_NUMBER_CHARS
            and _NUMBER.fullmatch(stripped)
            and any(ch.isdigit() for ch in stripped)
            else ""
        )
        stops = stop_words()
        seen: list[str] = []
        for word in words(text.replace("\x00", "")[:MAX_QUERY_CHARS]):
            word = word[:MAX_TERM_CHARS]
            if word in stops or word in seen:
                continue
            seen.append(word)
            if len(seen) == MAX_TERMS:
                break
        return cls(tuple(seen), number)

    def __bool__(self) -> bool:
        return bool(self.terms)

    @cached_property
    def stems(self) -> tuple[str, ...]:
        return tuple(stem(t) for t in self.terms)

    def _prefix(self, index: int) -> bool:
        """Whether the term at ``index`` is a prefix: the last one, if long enough."""
        return index == len(self.terms) - 1 and len(self.terms[index]) >= MIN_PREFIX

    def tsquery(self) -> str:
        """For ``to_tsquery('russian', …)``: each word quoted, the last one as a
        prefix, all of them required."""
        return " & ".join(
            "'{}'{}".format(t.replace("'", "''"), ":*" if self._prefix(i) else "")
            for i, t in enumerate(self.terms)
        )

    def fts5(self) -> str:
        """For FTS5 ``MATCH``: each stem quoted, the last one as a prefix, all of
        them required."""
        return " ".join(
            '"{}"{}'.format(s.replace('"', '""'), "*" if self._prefix(i) else "")
            for i, s in enumerate(self.stems)
        )

    def _finds(self, index: int, word_stem: str) -> bool:
        """Whether the term at ``index`` finds a word with this stem."""
        term = self.stems[index]
        return word_stem.startswith(term) if self._prefix(index) else word_stem == term

    def matches(self, word: str) -> bool:
        """Whether a folded word of a text is one the query finds."""
        word_stem = stem(word)
        return any(self._finds(i, word_stem) for i in range(len(self.terms)))

    def all_found(self, text: str) -> bool:
        """Whether ``text`` holds a word for every term of the query."""
        stems = {stem(w) for w in words(text)}
        return bool(self.terms) and all(
            any(self._finds(i, w) for w in stems) for i in range(len(self.terms))
        )


SNIPPET_WORDS = 24
_SCAN_CHARS = 400_000
_CONTEXT_CHARS = 120


def snippet(query: Query, texts: list[str]) -> str:
    """A short piece of the first of ``texts`` that holds a word of the query, as
    HTML: escaped, with the found words in ``<mark>``; "" when none does."""
    for text in texts:
        piece = _window(query, text[:_SCAN_CHARS])
        if piece:
            return piece
    return ""


def _first_hit(query: Query, folded: str) -> int:
    """Where the first word the query finds starts in ``folded``, or -1.

    Candidates are found with ``str.find`` (a stem is nearly always the start of its
    word), then each is checked as a word."""
    needles = {s for s in query.stems if s} | set(query.terms)
    best = -1
    for needle in needles:
        at = folded.find(needle)
        while at != -1 and (best == -1 or at < best):
            word_start = at
            while word_start > 0 and (
                folded[word_start - 1].isalnum() and folded[word_start - 1] != "_"
            ):
                word_start -= 1
            match = _WORD.match(folded, word_start)
            if match and query.matches(match.group()):
                best = word_start
                break
            at = folded.find(needle, at + 1)
    return best


def _window(query: Query, text: str) -> str:
    folded = fold(text)
    first = _first_hit(query, folded)
    if first == -1:
        return ""
    lo = max(0, first - _CONTEXT_CHARS // 2)
    hi = min(len(text), first + _CONTEXT_CHARS)
    spans = [m.span() for m in _WORD.finditer(folded, lo, hi)]
    if lo > 0 and spans and spans[0][0] == lo:
        spans = spans[1:]  # a cut word
    if hi < len(text) and spans and spans[-1][1] == hi:
        spans = spans[:-1]
    if not spans:
        return ""
    out: list[str] = ["… " if spans[0][0] > 0 else ""]
    cursor = spans[0][0]
    for a, b in spans:
        out.append(html.escape(text[cursor:a]))
        word = html.escape(text[a:b])
        out.append(f"<mark>{word}</mark>" if query.matches(folded[a:b]) else word)
        cursor = b
    if spans[-1][1] < len(text.rstrip()):
        out.append(" …")
    return " ".join("".join(out).split())
