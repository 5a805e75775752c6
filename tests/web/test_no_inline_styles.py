"""No inline styles (issue 13, item 15): the CSP is ``style-src 'self'``, so a
``style`` attribute or a <style> element in a page or an htmx fragment is refused by
the browser with a console error. Only e-mails (no CSP there) may carry them.

Checked by hand in Chromium on the demo (the new-contract form with its errors and
the counterparty quick-create, a decision on the card): the console stays clean.
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "sogla"
INLINE = re.compile(r"""<style[\s>]|\sstyle\s*=\s*["'{]""", re.IGNORECASE)


# evidence renders PDFs with WeasyPrint (no CSP there).
KNOWN_APPS = {"evidence"}
KNOWN_FILES: set[str] = set()


def is_mail(path: Path) -> bool:
    """E-mail templates (a mail folder, or a name ending in _email)."""
    return bool({"email", "mail"} & set(path.parts)) or path.stem.endswith("_email")


def test_no_template_has_an_inline_style() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("templates/**/*.html")
        if not is_mail(path)
        and path.parts[len(SRC.parts)] not in KNOWN_APPS
        and str(path.relative_to(SRC)) not in KNOWN_FILES
        and INLINE.search(path.read_text())
    ]
    assert offenders == []


def test_htmx_adds_no_indicator_style_element() -> None:
    base = (SRC / "web/templates/web/base_page.html").read_text()
    assert '"includeIndicatorStyles":false' in base
