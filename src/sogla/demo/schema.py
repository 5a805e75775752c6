"""The shape of the demo data files, checked when they are read.

Each folder under ``data/`` is one organisation: ``organisation.json`` (calendar,
departments, roles, people), ``counterparties.json``, ``templates.json`` (the
templates of the library, ``sogla.starter``, it installs: their document types and
routes are read from the library, as the installer makes them for the
organisation), its own ``document_types.json`` and ``documents.json``, and one file
per route template of its own under ``routes/`` (``template``:
key, names, document type, suggestion condition, owner, order; ``definition``: the
route JSON of ``sogla.engine.definition``). People, departments, roles and
counterparties are referred to by their stable keys (username, code, role key, tax
id), never by database ids.
"""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from sogla.starter.library import (
    DocumentTypeIn,
    expand_definition,
    library_template,
)

DATA_DIR = Path(__file__).resolve().parent / "data"

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=60)
]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarData(_Data):
    working_weekdays: str = "0,1,2,3,4"
    day_starts: time = time(9)
    day_ends: time = time(18)
    use_public_holidays: bool = True


class DepartmentData(_Data):
    code: Slug
    name: str
    name_en: str = ""
    parent: str | None = None
    head: str | None = None


class RoleData(_Data):
    key: Slug
    name_ru: str
    name_en: str


class UserData(_Data):
    username: str
    last_name: str
    first_name: str
    middle_name: str = ""
    department: str | None = None
    position: str | None = None
    manager: str | None = None
    language: Literal["ru", "en"] = "ru"
    phone: str = ""
    roles: list[str] = []
    is_staff: bool = False


class OrganisationData(_Data):
    slug: Slug
    name: str
    name_en: str = ""
    country: str = "RU"
    time_zone: str = "Europe/Moscow"
    language: Literal["ru", "en"] = "ru"
    email_domain: str
    actor: str = Field(description="The user who creates the organisation's records.")
    calendar: CalendarData = CalendarData()
    departments: list[DepartmentData] = []
    roles: list[RoleData] = []
    users: list[UserData] = []
    folders: list[str] = []


class ContactIn(_Data):
    name: str
    position: str = ""
    email: str = ""
    phone: str = ""


class CounterpartyIn(_Data):
    name: str
    tax_id: str
    category: str
    address: str = ""
    note: str = ""
    folder: str = ""
    contacts: list[ContactIn] = []


class FileIn(_Data):
    field: str = ""
    name: str
    lines: list[str]


class DecisionIn(_Data):
    """One move in a sample process: ``by`` decides their open task, or, with the
    outcome ``resubmit``, the initiator sends the returned document again. Field
    values take the same reference objects as a document's values."""

    by: str
    outcome: str = "approve"
    comment: str = ""
    fields: dict[str, Any] = {}


class ProcessIn(_Data):
    """A sample process: the route template's key and the decisions made so far."""

    route: str
    decisions: list[DecisionIn] = []
    # The process started this many days ago, decisions two hours apart: the open
    # tasks may be past their deadlines, and the worker marks them overdue.
    started_days_ago: int = Field(default=0, ge=0, le=60)


class DocumentIn(_Data):
    """A sample document. A value may be a reference object: ``{"user": username}``,
    ``{"users": [...]}``, ``{"role": key}`` (its members), ``{"counterparty": tax_id}``
    or ``{"days": n}`` (a date n days from today)."""

    type: str
    initiator: str
    values: dict[str, Any]
    files: list[FileIn] = []
    status: str | None = None
    process: ProcessIn | None = None


class RouteTemplateIn(_Data):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,59}$")]
    name_ru: str
    name_en: str
    doc_type: Slug
    suggest_when: dict[str, Any] | None = None
    owner: str | None = None
    order: int = 0


class RouteFileIn(_Data):
    """A route template as the administrator would save it, published on load."""

    template: RouteTemplateIn
    definition: dict[str, Any]


class TemplatesIn(_Data):
    """The library templates the organisation installs (``templates.json``), and the
    demo user who owns each of their routes (by route key)."""

    install: list[Slug] = []
    route_owners: dict[str, str] = {}


class OrganisationBundle(_Data):
    organisation: OrganisationData
    counterparties: list[CounterpartyIn] = []
    templates: TemplatesIn = TemplatesIn()
    document_types: list[DocumentTypeIn] = []
    documents: list[DocumentIn] = []
    routes: list[RouteFileIn] = []

    def own_type(self, key: str) -> bool:
        """Whether the type ``key`` is the organisation's own (not a template's)."""
        return key not in self.library_types

    @property
    def library_types(self) -> frozenset[str]:
        return frozenset(
            t.document_type.key
            for key in self.templates.install
            if (t := library_template(key)) is not None
        )


def _library_parts(
    templates: TemplatesIn, organisation: OrganisationData
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The document types and routes (as route files) of the installed templates,
    as the installer makes them for this organisation's departments."""
    departments = [(d.code, d.name) for d in organisation.departments if d.head]
    choices = [
        {"value": d.code, "ru": d.name, "en": d.name_en or d.name}
        for d in organisation.departments
    ]
    types: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
    for key in templates.install:
        template = library_template(key)
        if template is None:
            msg = f"no library template {key}"
            raise ValueError(msg)
        data = template.document_type.model_dump()
        for f in data["fields"]:
            if f.pop("choices_from", None) == "departments":
                f["choices"] = choices
        types.append(data)
        for route in template.routes:
            routes.append(
                {
                    "template": {
                        "key": route.key,
                        "name_ru": route.name_ru,
                        "name_en": route.name_en,
                        "doc_type": template.document_type.key,
                        "suggest_when": route.suggest_when,
                        "owner": templates.route_owners.get(route.key),
                        "order": route.order,
                    },
                    "definition": expand_definition(route.definition, departments),
                }
            )
    return types, routes


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def read_bundle(folder: Path) -> OrganisationBundle:
    """One organisation's data; raises pydantic.ValidationError on a malformed file."""
    organisation = OrganisationData.model_validate(_read(folder / "organisation.json"))
    templates = TemplatesIn.model_validate(_read(folder / "templates.json") or {})
    types, routes = _library_parts(templates, organisation)
    return OrganisationBundle.model_validate(
        {
            "organisation": organisation,
            "counterparties": _read(folder / "counterparties.json"),
            "templates": templates,
            "document_types": types + _read(folder / "document_types.json"),
            "documents": _read(folder / "documents.json"),
            "routes": routes
            + [_read(path) for path in sorted(folder.glob("routes/*.json"))],
        }
    )


def read_bundles(data_dir: Path = DATA_DIR) -> list[OrganisationBundle]:
    """Every organisation under ``data_dir``, in folder name order."""
    return [
        read_bundle(folder)
        for folder in sorted(data_dir.iterdir())
        if (folder / "organisation.json").is_file()
    ]
