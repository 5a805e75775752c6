"""The shape of the demo data files, checked when they are read.

Each folder under ``data/`` is one organisation: ``organisation.json`` (calendar,
departments, roles, people), ``counterparties.json``, ``document_types.json`` and
``documents.json``, and one file per route template under ``routes/`` (``template``:
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


class OrganisationBundle(_Data):
    organisation: OrganisationData
    counterparties: list[CounterpartyIn] = []
    document_types: list[DocumentTypeIn] = []
    documents: list[DocumentIn] = []
    routes: list[RouteFileIn] = []


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def read_bundle(folder: Path) -> OrganisationBundle:
    """One organisation's data; raises pydantic.ValidationError on a malformed file."""
    return OrganisationBundle.model_validate(
        {
            "organisation": _read(folder / "organisation.json"),
            "counterparties": _read(folder / "counterparties.json"),
            "document_types": _read(folder / "document_types.json"),
            "documents": _read(folder / "documents.json"),
            "routes": [_read(path) for path in sorted(folder.glob("routes/*.json"))],
        }
    )


def read_bundles(data_dir: Path = DATA_DIR) -> list[OrganisationBundle]:
    """Every organisation under ``data_dir``, in folder name order."""
    return [
        read_bundle(folder)
        for folder in sorted(data_dir.iterdir())
        if (folder / "organisation.json").is_file()
    ]
