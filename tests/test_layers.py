"""The floors have one sanctioned arrow that import analysis cannot see.

``pyproject.toml``'s import contracts keep the floors, but an app can still reach a
higher one by name at run time (``apps.get_model``, ``import_string``...). The one
such lookup allowed is written up above the contracts: documents' access check
asks for workflow's ``Task``. This test keeps it the only one.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "sogla"
BY_NAME = {"get_model", "import_string", "import_module", "__import__"}
SANCTIONED = {("documents/access.py", "get_model", ("workflow", "Task"))}


def _lookups_by_name() -> set[tuple[str, str, tuple[object, ...]]]:
    found: set[tuple[str, str, tuple[object, ...]]] = set()
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:  # data migrations use the historical models
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else getattr(func, "id", "")
            )
            if name in BY_NAME:
                args = tuple(
                    a.value if isinstance(a, ast.Constant) else ast.dump(a)
                    for a in node.args
                )
                found.add((path.relative_to(PACKAGE).as_posix(), name, args))
    return found


def test_the_only_lookup_by_name_is_the_sanctioned_one() -> None:
    assert _lookups_by_name() == SANCTIONED
