"""What changed between two versions of a file: their text, paragraph by paragraph.

The text comes from python-docx for DOCX (real paragraphs) and otherwise from the
preview's extracted text (pypdfium2 over the PDF, or over LibreOffice's PDF of an
office file), whose lines are joined back into paragraphs. ``compare_texts`` pairs
the paragraphs with difflib and, inside a changed paragraph, marks the changed words.
"""

from __future__ import annotations

import difflib
import io
import re
from dataclasses import dataclass, field
from typing import IO

MAX_PARAGRAPHS = 5000
_SENTENCE_END = re.compile(r"[.:;!?»)\]]$")
_ITEM_START = re.compile(r"^(\d+[.)]|[-•–—*]|[A-Za-zА-Яа-я][.)])\s")
_WORDS = re.compile(r"\s+|[^\s\w]|\w+", re.UNICODE)


@dataclass(frozen=True)
class Paragraph:
    page: int  # 1-based; 0 when the source has no pages (DOCX)
    text: str


@dataclass
class Block:
    """One run of the comparison: ``same``, ``added``, ``removed`` or ``changed``."""

    kind: str
    old: list[Paragraph] = field(default_factory=list)
    new: list[Paragraph] = field(default_factory=list)
    # For "changed": (op, text) pieces, op in "same", "added", "removed".
    words: list[list[tuple[str, str]]] = field(default_factory=list)
    number: int = 0  # the change's number for the navigator (0 for "same")

    @property
    def first(self) -> Paragraph:
        return (self.new or self.old)[0]

    @property
    def page(self) -> int:
        return self.first.page


@dataclass
class Comparison:
    blocks: list[Block]
    added: int = 0
    removed: int = 0
    changed: int = 0

    @property
    def changes(self) -> list[Block]:
        return [b for b in self.blocks if b.kind != "same"]

    @property
    def identical(self) -> bool:
        return not self.changes


def docx_paragraphs(source: IO[bytes]) -> list[Paragraph]:
    """The non-empty paragraphs of a DOCX, tables' cells included, in order."""
    import docx

    document = docx.Document(io.BytesIO(source.read()))
    out: list[Paragraph] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = "".join(t.text or "" for t in block.iter() if t.tag.endswith("}t"))
            if text.strip():
                out.append(Paragraph(0, " ".join(text.split())))
        elif tag == "tbl":
            for row in block.iter():
                if row.tag.endswith("}tr"):
                    cells = [
                        "".join(
                            t.text or "" for t in cell.iter() if t.tag.endswith("}t")
                        )
                        for cell in row
                        if cell.tag.endswith("}tc")
                    ]
                    text = " | ".join(" ".join(c.split()) for c in cells)
                    if text.strip(" |"):
                        out.append(Paragraph(0, text))
        if len(out) >= MAX_PARAGRAPHS:
            break
    return out


def _flush(out: list[Paragraph], lines: list[str], page: int) -> None:
    if lines:
        out.append(Paragraph(page, " ".join(lines)))
        lines.clear()


def text_paragraphs(text: str) -> list[Paragraph]:
    """Paragraphs from extracted PDF text (pages separated by form feeds).

    A line joins the previous one unless the previous ends a sentence, is short
    (a heading or the last line of a paragraph), or this one starts a numbered or
    bulleted item; a blank line always ends a paragraph.
    """
    out: list[Paragraph] = []
    for number, page in enumerate(text.split("\f"), start=1):
        lines = [" ".join(line.split()) for line in page.split("\n")]
        widest = max((len(line) for line in lines), default=0)
        current: list[str] = []
        for line in lines:
            if not line:
                _flush(out, current, number)
                continue
            if current:
                previous = current[-1]
                if (
                    _SENTENCE_END.search(previous)
                    or len(previous) < 0.6 * widest
                    or _ITEM_START.match(line)
                ):
                    _flush(out, current, number)
            current.append(line)
        _flush(out, current, number)
        if len(out) >= MAX_PARAGRAPHS:
            break
    return out[:MAX_PARAGRAPHS]


def _words(old: str, new: str) -> list[tuple[str, str]]:
    a = _WORDS.findall(old)
    b = _WORDS.findall(new)
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("removed", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("added", "".join(b[j1:j2])))
    return pieces


def _alike(old: str, new: str) -> bool:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio() >= 0.5


def compare_texts(old: list[Paragraph], new: list[Paragraph]) -> Comparison:
    matcher = difflib.SequenceMatcher(
        a=[p.text for p in old], b=[p.text for p in new], autojunk=False
    )
    result = Comparison(blocks=[])
    number = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            result.blocks.append(Block("same", old[i1:i2], new[j1:j2]))
            continue
        if op == "replace":
            # Pair paragraphs one to one as changed when they are alike; unlike
            # ones (and the rest) are removed and added.
            pairs = min(i2 - i1, j2 - j1)
            for k in range(pairs):
                a, b = old[i1 + k], new[j1 + k]
                if _alike(a.text, b.text):
                    number += 1
                    result.changed += 1
                    result.blocks.append(
                        Block("changed", [a], [b], [_words(a.text, b.text)], number)
                    )
                    continue
                number += 1
                result.removed += 1
                result.blocks.append(Block("removed", [a], number=number))
                number += 1
                result.added += 1
                result.blocks.append(Block("added", new=[b], number=number))
            i1 += pairs
            j1 += pairs
        if i2 > i1:
            number += 1
            result.removed += i2 - i1
            result.blocks.append(Block("removed", old[i1:i2], number=number))
        if j2 > j1:
            number += 1
            result.added += j2 - j1
            result.blocks.append(Block("added", new=new[j1:j2], number=number))
    return result
