"""The icons main.css draws (instead of an ``<i aria-hidden>`` per row) are the ones
the Python names: the registry's status chips and the inbox's overdue chip
(``sogla_web.STATUS_ICONS``) and the inbox's task kinds (``workflow.labels.KINDS``),
each with its bootstrap-icons glyph and empty alternative text."""

from __future__ import annotations

import re
from pathlib import Path

from sogla.web.templatetags.sogla_web import STATUS_ICONS
from sogla.workflow.labels import KINDS, kind_icon

ROOT = Path(__file__).resolve().parents[2]
CSS = (ROOT / "assets" / "main.css").read_text()
ICONS = (ROOT / "node_modules/bootstrap-icons/font/bootstrap-icons.css").read_text()


def glyph(icon: str) -> str:
    found = re.search(
        rf'\.{re.escape(icon)}::before {{ content: "(\\[0-9a-f]+)"', ICONS
    )
    assert found, icon
    return found.group(1)


def drawn(selector: str) -> str:
    found = re.search(
        rf'{re.escape(selector)}::before[^{{]*{{ content: "(\\[0-9a-f]+)"; '
        r'content: "(\\[0-9a-f]+)" / ""; }',
        CSS,
    )
    assert found, selector
    assert found.group(1) == found.group(2), selector
    return found.group(1)


def test_status_chips_of_the_registry() -> None:
    for token, icon in STATUS_ICONS.items():
        assert drawn(f".registry-table .status-{token}") == glyph(icon), token


def test_the_inbox_overdue_chip() -> None:
    overdue = ".inbox-group-overdue .inbox-row > td:nth-last-child(4) > span"
    assert drawn(overdue) == glyph(STATUS_ICONS["overdue"])


def test_task_kinds_of_the_inbox() -> None:
    for icon in {kind_icon(kind) for kind in KINDS} | {kind_icon("unknown")}:
        assert drawn(f".inbox-table td.{icon}") == glyph(icon), icon
