"""Both languages: the Russian catalogue covers every string and is compiled."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

from tests.conftest import skip_or_fail

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "sogla"
PO = PACKAGE / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def _catalogue() -> polib.POFile:
    return polib.pofile(str(PO))


def test_every_russian_entry_is_translated(capsys: pytest.CaptureFixture[str]) -> None:
    catalogue = _catalogue()
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    with capsys.disabled():
        print(
            f"\ni18n: ru entries {len(catalogue)}, translated "
            f"{len(catalogue.translated_entries())}, untranslated {len(untranslated)}, "
            f"fuzzy {len(fuzzy)}"
        )
    assert untranslated == []
    assert fuzzy == []


def test_compiled_catalogue_matches_the_source() -> None:
    """The committed .mo gives every .po translation (it was compiled after editing)."""
    stale = []
    with translation.override("ru"):
        for entry in _catalogue().translated_entries():
            if entry.msgid_plural:
                got = translation.ngettext(entry.msgid, entry.msgid_plural, 1)
                want = entry.msgstr_plural[0]
            elif entry.msgctxt:
                got = translation.pgettext(entry.msgctxt, entry.msgid)
                want = entry.msgstr
            else:
                got = translation.gettext(entry.msgid)
                want = entry.msgstr
            if got != want:
                stale.append(entry.msgid)
    assert stale == []


def test_russian_plurals_have_three_forms() -> None:
    catalogue = _catalogue()
    assert "nplurals=3" in catalogue.metadata["Plural-Forms"]
    for entry in catalogue:
        if entry.msgid_plural:
            assert len([v for v in entry.msgstr_plural.values() if v]) == 3, entry.msgid


def test_catalogue_lists_every_string_in_the_source(tmp_path: Path) -> None:
    """makemessages over the current source finds no msgid the catalogue lacks."""
    if shutil.which("xgettext") is None:
        skip_or_fail("GNU gettext (xgettext) is not installed")
    copy = tmp_path / "sogla"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__")
    )
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--locale", "ru", "--no-obsolete"],
        cwd=copy,
        env={"DJANGO_SETTINGS_MODULE": "sogla.settings.test", "PATH": "/usr/bin:/bin",
             "PYTHONPATH": str(PACKAGE.parent)},
        check=True,
        capture_output=True,
    )  # fmt: skip
    fresh = {e.msgid for e in polib.pofile(str(copy / PO.relative_to(PACKAGE)))}
    known = {e.msgid for e in _catalogue()}
    assert sorted(fresh - known) == []
