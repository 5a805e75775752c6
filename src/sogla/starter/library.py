"""The library of ready templates (``library/*.json``), built from the stories of
SCENARIOS.md: each is a document type with its fields, statuses, numbering and
folder rule, the routes that run over it, and the roles those routes ask for.

Read once and checked on reading. A step written ``{"for_each_department": {...}}``
stands for one step per department that has a head: ``{code}`` and ``{name}`` in
its strings become the department's code and name (the hiring route asks the head
of the department the candidate joins). Where no department has a head, the step's
``fallback`` (when given) stands in its place.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

LIBRARY_DIR = Path(__file__).resolve().parent / "library"

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=60)
]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceIn(_Data):
    value: str
    ru: str
    en: str


class FieldIn(_Data):
    key: Slug
    label_ru: str
    label_en: str
    kind: str
    required: bool = False
    required_when: dict[str, Any] | None = None
    choices: list[ChoiceIn] = []
    choices_from: Literal["departments"] | None = None
    help_ru: str = ""
    help_en: str = ""
    show_in_registry: bool = False


class StatusIn(_Data):
    key: Slug
    name_ru: str
    name_en: str
    meaning: str
    token: str
    initial: bool = False


class DocumentTypeIn(_Data):
    key: Slug
    name_ru: str
    name_en: str
    prefix: str
    numbering_pattern: str
    title_template: str
    folder_rule: str = ""
    has_files: bool = True
    confidential: bool = False
    description_ru: str = ""
    description_en: str = ""
    fields: list[FieldIn]
    statuses: list[StatusIn]


class RoleIn(_Data):
    key: Slug
    name_ru: str
    name_en: str


class RouteIn(_Data):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,59}$")]
    name_ru: str
    name_en: str
    suggest_when: dict[str, Any] | None = None
    owner_role: str | None = None
    order: int = 0
    definition: dict[str, Any]


class LibraryTemplate(_Data):
    key: Slug
    story: str = ""
    order: int = 0
    name_ru: str
    name_en: str
    description_ru: str = ""
    description_en: str = ""
    roles: list[RoleIn] = []
    document_type: DocumentTypeIn
    routes: list[RouteIn] = []

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_ru

    def description(self, language: str) -> str:
        return self.description_en if language == "en" else self.description_ru


@functools.cache
def library() -> tuple[LibraryTemplate, ...]:
    """Every template of the library, in its order."""
    templates = [
        LibraryTemplate.model_validate(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(LIBRARY_DIR.glob("*.json"))
    ]
    return tuple(sorted(templates, key=lambda t: (t.order, t.key)))


def library_template(key: str) -> LibraryTemplate | None:
    return next((t for t in library() if t.key == key), None)


# --- one step per department ------------------------------------------------------------


def _fill(value: Any, code: str, name: str) -> Any:
    if isinstance(value, str):
        return value.replace("{code}", code).replace("{name}", name)
    if isinstance(value, list):
        return [_fill(v, code, name) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, code, name) for k, v in value.items()}
    return value


def expand_definition(
    definition: dict[str, Any], departments: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """The route definition for an organisation whose departments with a head are
    ``departments`` (code, name), in their order."""
    stages = []
    for stage in definition.get("stages", []):
        steps: list[Any] = []
        for step in stage.get("steps", []):
            pattern = (
                step.get("for_each_department") if isinstance(step, dict) else None
            )
            if pattern is None:
                steps.append(step)
                continue
            body = {k: v for k, v in pattern.items() if k != "fallback"}
            steps += [_fill(body, code, name) for code, name in departments]
            if not departments and "fallback" in pattern:
                steps.append(pattern["fallback"])
        stages.append({**stage, "steps": steps})
    return {**definition, "stages": stages}


def type_choices(
    doc_type: DocumentTypeIn, departments: Sequence[tuple[str, str, str]]
) -> dict[str, list[dict[str, str]]]:
    """Each field's choices; ``choices_from: departments`` lists the organisation's
    (code, name, English name: the Russian one where there is none)."""
    return {
        f.key: (
            [
                {"value": code, "ru": name, "en": name_en or name}
                for code, name, name_en in departments
            ]
            if f.choices_from == "departments"
            else [c.model_dump() for c in f.choices]
        )
        for f in doc_type.fields
    }
