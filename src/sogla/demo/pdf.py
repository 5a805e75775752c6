"""Small, valid one-page PDF files for the demo documents.

The bytes depend only on the text, so loading the demo twice stores each file once
(files are addressed by their SHA-256). Standard PDF fonts have no Cyrillic glyphs:
the text inside is kept to ASCII, while file names may be in any language.
"""

from __future__ import annotations

from collections.abc import Sequence

FOOTER = "Sogla demo data. Not a real document."


def _escape(text: str) -> str:
    ascii_only = text.encode("ascii", "replace").decode("ascii")
    return ascii_only.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def simple_pdf(lines: Sequence[str]) -> bytes:
    """A one-page A4 PDF with ``lines`` in Helvetica, a correct xref table and trailer."""
    text = ["BT", "/F1 16 Tf", "72 770 Td", "22 TL"]
    for index, line in enumerate([*lines, "", FOOTER]):
        if index == 1:
            text.append("/F1 12 Tf")
        text.append(f"({_escape(line)}) Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("ascii")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]"
        b"/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>",
        b"<</Length %d>>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)
