"""CSV and XLSX files people open in a spreadsheet, safe from formula injection.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) get a leading apostrophe, in both formats.
CSV is UTF-8 with a byte-order mark, so that Excel reads the Cyrillic right.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"

Cell = str | int | float | None


def guard(value: Cell) -> Cell:
    """A text cell that cannot run as a spreadsheet formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([guard(h) for h in header])
    for row in rows:
        writer.writerow(["" if c is None else guard(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header_cells: list[Any] = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=guard(text))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([guard(c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
