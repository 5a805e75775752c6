"""The project's own metadata: one licence, said the same way everywhere."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_one_licence_with_its_text() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # An SPDX string (the TOML-table form stops working in setuptools in 2027).
    assert project["license"] == "AGPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("GNU AFFERO GENERAL PUBLIC LICENSE")
    assert "Version 3, 19 November 2007" in text
    assets = json.loads((ROOT / "package.json").read_text())
    assert assets["license"] == project["license"]
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"][""]["license"] == project["license"]
