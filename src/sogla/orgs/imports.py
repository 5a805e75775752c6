"""Import of departments and people from CSV or XLSX: preview first, then all or
nothing.

A file is one table with a header row. Its columns say what it holds:

* **departments**: ``code``, ``name`` (required), ``parent`` (a code), ``head``
  (an e-mail);
* **people**: ``email`` (required), ``last_name``, ``first_name``, ``middle_name``,
  ``department`` (a code or a name), ``position``, ``phone``, ``manager`` (an
  e-mail), ``admin`` (yes/no).

Headers may be in Russian (``эл. почта``, ``фамилия``, ``подразделение`` ...).
``import_preview`` reads and checks every row and saves nothing; ``import_apply``
checks again and, when no row has an error, writes everything in one transaction
(or nothing). Rows are matched by department code and by e-mail, so importing the
same file twice changes nothing the second time. Cells that are formulas
(``=SUM(...)``) are refused, not evaluated. CSV may be UTF-8 (with or without BOM)
or Windows-1251, separated by commas, semicolons or tabs. At most
``SOGLA_IMPORT_MAX_ROWS`` rows (the whole file is refused above that).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sogla.core.access import is_org_admin
from sogla.core.audit import audit_record
from sogla.core.errors import Message, NotFound
from sogla.core.request_meta import RequestMeta
from sogla.orgs.models import Department, Position, User

ALIASES = {
    "email": {"email", "e-mail", "эл. почта", "эл.почта", "почта", "электронная почта"},
    "last_name": {"last_name", "last name", "фамилия"},
    "first_name": {"first_name", "first name", "имя"},
    "middle_name": {"middle_name", "middle name", "отчество"},
    "department": {"department", "подразделение", "отдел"},
    "position": {"position", "должность"},
    "phone": {"phone", "телефон"},
    "manager": {"manager", "руководитель"},
    "admin": {"admin", "администратор"},
    "code": {"code", "код"},
    "name": {"name", "название", "наименование"},
    "parent": {"parent", "родитель", "вышестоящее"},
    "head": {"head", "начальник", "руководитель подразделения"},
}
YES = {"1", "yes", "y", "true", "да", "д", "+"}
NO = {"", "0", "no", "n", "false", "нет", "н", "-"}
FORMULA_START = ("=",)


def max_rows() -> int:
    return int(getattr(settings, "SOGLA_IMPORT_MAX_ROWS", 50_000))


@dataclass(frozen=True)
class RowProblem:
    row: int  # the row number in the file (the header is row 1)
    column: str
    message: Message


@dataclass
class Preview:
    """What an import would do: the rows, their problems, the counts."""

    kind: str = ""  # "people" or "departments"
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    file_errors: list[Message] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    to_create: int = 0
    to_update: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.problems

    @property
    def rows_with_problems(self) -> int:
        return len({p.row for p in self.problems})


class ImportRefused(Exception):
    def __init__(self, preview: Preview) -> None:
        super().__init__("import refused")
        self.preview = preview


# --- reading -------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text, newline=""), dialect)


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    sheet = book.worksheets[0]
    for values in sheet.iter_rows(values_only=True):
        yield ["" if v is None else str(v) for v in values]
    book.close()


def _rows(name: str, data: bytes) -> Iterator[list[str]]:
    if data[:4] == b"PK\x03\x04" or name.lower().endswith(".xlsx"):
        try:
            yield from _xlsx_rows(data)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            raise _FileError(_("The file is not a readable XLSX workbook.")) from error
        return
    yield from _csv_rows(data)


class _FileError(Exception):
    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


def _header(cells: list[str]) -> tuple[list[str | None], list[str]]:
    mapped: list[str | None] = []
    ignored: list[str] = []
    for cell in cells:
        label = " ".join(cell.strip().lower().replace("_", " ").split())
        key = next(
            (
                k
                for k, names in ALIASES.items()
                if label in {n.replace("_", " ") for n in names}
            ),
            None,
        )
        mapped.append(key)
        if key is None and cell.strip():
            ignored.append(cell.strip())
    return mapped, ignored


# --- checking ------------------------------------------------------------------------


def import_preview(*, actor: User, name: str, data: bytes) -> Preview:
    """Read and check the file; nothing is saved."""
    if not is_org_admin(actor):
        raise NotFound()
    org_id = actor.organisation_id
    assert org_id is not None  # noqa: S101 - is_org_admin
    preview = Preview()
    try:
        rows = _rows(name, data)
        header = next(rows, None)
        if header is None:
            preview.file_errors.append(_("The file is empty."))
            return preview
        columns, preview.ignored_columns = _header(header)
        present = {c for c in columns if c}
        if "email" in present:
            preview.kind = "people"
        elif {"code", "name"} <= present:
            preview.kind = "departments"
        else:
            preview.file_errors.append(
                _(
                    "Columns not recognised. People need an “email” column (and "
                    "last_name, first_name, department ...); departments need “code” "
                    "and “name” (and parent, head)."
                )
            )
            return preview
        preview.columns = [c for c in columns if c]
        limit = max_rows()
        for index, cells in enumerate(rows, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(preview.rows) >= limit:
                preview.file_errors.append(
                    _(
                        "The file has more than %(limit)d rows; split it into smaller files."
                    )
                    % {"limit": limit}
                )
                preview.rows = []
                return preview
            record = {"_row": str(index)}
            for key, value in zip(columns, cells, strict=False):
                if key:
                    record[key] = value.strip()
            preview.rows.append(record)
    except (_FileError, UnicodeDecodeError, csv.Error) as error:
        preview.file_errors.append(
            getattr(error, "message", _("The file could not be read as CSV or XLSX."))
        )
        return preview
    if not preview.rows:
        preview.file_errors.append(_("The file has no rows below the header."))
        return preview
    if preview.kind == "people":
        _check_people(org_id, preview)
    else:
        _check_departments(org_id, preview)
    return preview


def _problem(
    preview: Preview, record: dict[str, str], column: str, message: Message
) -> None:
    preview.problems.append(RowProblem(int(record["_row"]), column, message))


def _formulas(preview: Preview, record: dict[str, str]) -> bool:
    found = False
    for key, value in record.items():
        if key != "_row" and value.startswith(FORMULA_START):
            _problem(preview, record, key, _("A formula; put the value in the cell."))
            found = True
    return found


def _too_long(preview: Preview, record: dict[str, str], limits: dict[str, int]) -> None:
    for key, limit in limits.items():
        if len(record.get(key, "")) > limit:
            _problem(
                preview, record, key,
                _("At most %(limit)d characters.") % {"limit": limit},
            )  # fmt: skip


def _departments_of(org_id: int) -> tuple[dict[str, Department], dict[str, Department]]:
    by_code: dict[str, Department] = {}
    by_name: dict[str, Department] = {}
    for department in Department.objects.for_org(org_id):
        by_code[department.code.lower()] = department
        by_name.setdefault(department.name.lower(), department)
    return by_code, by_name


def _check_people(org_id: int, preview: Preview) -> None:
    by_code, by_name = _departments_of(org_id)
    emails = [r.get("email", "").lower() for r in preview.rows]
    existing = {
        u.username.lower(): u
        for u in User.objects.filter(username__in=[e for e in emails if e])
    }
    existing |= {
        u.email.lower(): u
        for u in User.objects.filter(email__in=[e for e in emails if e])
    }
    in_file = {e for e in emails if e}
    seen: set[str] = set()
    for record in preview.rows:
        if _formulas(preview, record):
            continue
        _too_long(preview, record, {"last_name": 150, "first_name": 150,
                                     "middle_name": 150, "position": 200, "phone": 32})  # fmt: skip
        email = record.get("email", "").lower()
        record["email"] = email
        if not email:
            _problem(preview, record, "email", _("This field is required."))
            continue
        try:
            validate_email(email)
        except ValidationError:
            _problem(preview, record, "email", _("Enter a valid e-mail."))
            continue
        if email in seen:
            _problem(
                preview, record, "email", _("This e-mail is already in an earlier row.")
            )
            continue
        seen.add(email)
        user = existing.get(email)
        if user is not None and user.organisation_id != org_id:
            _problem(
                preview, record, "email",
                _("An account with this e-mail already exists on this server."),
            )  # fmt: skip
            continue
        department = record.get("department", "")
        if (
            department
            and department.lower() not in by_code
            and department.lower() not in by_name
        ):
            _problem(
                preview, record, "department",
                _("No department “%(name)s”; import departments first.") % {"name": department},
            )  # fmt: skip
        manager = record.get("manager", "").lower()
        if (
            manager
            and manager not in in_file
            and not (
                (m := existing.get(manager)) is not None and m.organisation_id == org_id
            )
        ):
            _problem(preview, record, "manager", _("No person with this e-mail."))
        admin = record.get("admin", "").lower()
        if admin not in YES | NO:
            _problem(preview, record, "admin", _("Write “yes” or “no”."))
        if user is None:
            preview.to_create += 1
        elif _person_changes(user, record, by_code, by_name):
            preview.to_update += 1
        else:
            preview.unchanged += 1


def _department_for(
    value: str, by_code: dict[str, Department], by_name: dict[str, Department]
) -> Department | None:
    key = value.lower()
    return by_code.get(key) or by_name.get(key) if key else None


def _person_changes(
    user: User,
    record: dict[str, str],
    by_code: dict[str, Department],
    by_name: dict[str, Department],
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in ("last_name", "first_name", "middle_name", "phone"):
        if key in record and record[key] != getattr(user, key):
            changes[key] = record[key]
    if "department" in record:
        department = _department_for(record["department"], by_code, by_name)
        if (department.pk if department else None) != user.department_id:
            changes["department"] = department
    if "admin" in record:
        wanted = record["admin"].lower() in YES
        if wanted != user.is_staff:
            changes["is_staff"] = wanted
    return changes


def _check_departments(org_id: int, preview: Preview) -> None:
    by_code, _by_name = _departments_of(org_id)
    codes_in_file = {r.get("code", "").lower() for r in preview.rows}
    heads = {
        u.email.lower(): u
        for u in User.objects.filter(
            organisation_id=org_id,
            email__in=[
                r.get("head", "").lower() for r in preview.rows if r.get("head")
            ],
        )
    }
    seen: set[str] = set()
    parents: dict[str, str] = {}
    for record in preview.rows:
        if _formulas(preview, record):
            continue
        _too_long(preview, record, {"name": 200, "code": 60})
        code = record.get("code", "").lower()
        record["code"] = code
        if not code or not record.get("name"):
            _problem(
                preview,
                record,
                "code" if not code else "name",
                _("This field is required."),
            )
            continue
        if not all(ch.isalnum() or ch in "-_" for ch in code):
            _problem(preview, record, "code", _("Letters, digits, - and _ only."))
            continue
        if code in seen:
            _problem(
                preview, record, "code", _("This code is already in an earlier row.")
            )
            continue
        seen.add(code)
        parent = record.get("parent", "").lower()
        if parent and parent not in codes_in_file and parent not in by_code:
            _problem(preview, record, "parent", _("No department with this code."))
        if parent == code:
            _problem(
                preview, record, "parent", _("A department cannot be its own parent.")
            )
        parents[code] = parent
        head = record.get("head", "").lower()
        if head and head not in heads:
            _problem(preview, record, "head", _("No person with this e-mail."))
        existing = by_code.get(code)
        if existing is None:
            preview.to_create += 1
        elif existing.name != record["name"] or (
            "parent" in record
            and (existing.parent.code.lower() if existing.parent else "") != parent
        ):
            preview.to_update += 1
        else:
            preview.unchanged += 1
    # a cycle in the file (a -> b -> a) is refused on the row that closes it
    for code in parents:
        walk, current = {code}, parents.get(code, "")
        while current:
            if current in walk:
                row = next(r for r in preview.rows if r.get("code") == code)
                _problem(preview, row, "parent", _("The parents form a cycle."))
                break
            walk.add(current)
            current = parents.get(current) or _stored_parent(by_code, current)


def _stored_parent(by_code: dict[str, Department], code: str) -> str:
    department = by_code.get(code)
    parent = department.parent if department is not None else None
    return parent.code.lower() if parent is not None else ""


# --- applying ------------------------------------------------------------------------


def import_apply(
    *, actor: User, name: str, data: bytes, request_meta: RequestMeta | None = None
) -> Preview:
    """Check again and write every row in one transaction, or nothing
    (ImportRefused with the preview when a row has a problem)."""
    preview = import_preview(actor=actor, name=name, data=data)
    if not preview.ok:
        raise ImportRefused(preview)
    org_id = actor.organisation_id
    assert org_id is not None  # noqa: S101
    with transaction.atomic():
        if preview.kind == "people":
            _apply_people(org_id, preview)
        else:
            _apply_departments(org_id, preview)
        audit_record(
            organisation_id=org_id,
            verb=f"{preview.kind}.imported",
            actor=actor,
            target_type="organisation",
            target_id=org_id,
            payload={
                "file": name[:200],
                "rows": len(preview.rows),
                "created": preview.to_create,
                "updated": preview.to_update,
                "unchanged": preview.unchanged,
            },
            request_meta=request_meta,
        )
    return preview


def _apply_people(org_id: int, preview: Preview) -> None:
    by_code, by_name = _departments_of(org_id)
    existing = {
        u.email.lower(): u
        for u in User.objects.filter(
            organisation_id=org_id, email__in=[r["email"] for r in preview.rows]
        )
    }
    positions = {p.name: p for p in Position.objects.for_org(org_id)}
    new: list[User] = []
    for record in preview.rows:
        user = existing.get(record["email"])
        position = None
        if record.get("position"):
            position = positions.get(record["position"])
            if position is None:
                position = Position.objects.create(
                    organisation_id=org_id, name=record["position"]
                )
                positions[position.name] = position
        if user is None:
            user = User(
                username=record["email"],
                email=record["email"],
                organisation_id=org_id,
                first_name=record.get("first_name", ""),
                last_name=record.get("last_name", ""),
                middle_name=record.get("middle_name", ""),
                phone=record.get("phone", ""),
                department=_department_for(
                    record.get("department", ""), by_code, by_name
                ),
                position=position,
                is_staff=record.get("admin", "").lower() in YES,
            )
            user.set_unusable_password()
            new.append(user)
            existing[record["email"]] = user
            continue
        changes = _person_changes(user, record, by_code, by_name)
        if position is not None and user.position_id != position.pk:
            changes["position"] = position
        if changes:
            for key, value in changes.items():
                setattr(user, key, value)
            user.save(update_fields=list(changes))
    User.objects.bulk_create(new, batch_size=1000)
    # managers, once everyone exists
    fresh = {
        u.email.lower(): u
        for u in User.objects.filter(
            organisation_id=org_id, email__in=[r["email"] for r in preview.rows]
        )
    }
    managers = {
        u.email.lower(): u
        for u in User.objects.filter(
            organisation_id=org_id,
            email__in=[r["manager"].lower() for r in preview.rows if r.get("manager")],
        )
    }
    changed: list[User] = []
    for record in preview.rows:
        if not record.get("manager"):
            continue
        user, manager = fresh[record["email"]], managers[record["manager"].lower()]
        if user.manager_id != manager.pk and manager.pk != user.pk:
            user.manager = manager
            changed.append(user)
    User.objects.bulk_update(changed, ["manager"], batch_size=1000)


def _apply_departments(org_id: int, preview: Preview) -> None:
    by_code, _by_name = _departments_of(org_id)
    for record in preview.rows:
        department = by_code.get(record["code"])
        if department is None:
            department = Department.objects.create(
                organisation_id=org_id, code=record["code"], name=record["name"]
            )
            by_code[record["code"]] = department
        elif department.name != record["name"]:
            department.name = record["name"]
            department.save(update_fields=["name"])
    heads = {
        u.email.lower(): u
        for u in User.objects.filter(
            organisation_id=org_id,
            email__in=[r["head"].lower() for r in preview.rows if r.get("head")],
        )
    }
    for record in preview.rows:
        department = by_code[record["code"]]
        fields = []
        if "parent" in record:
            parent = by_code.get(record["parent"].lower()) if record["parent"] else None
            if department.parent_id != (parent.pk if parent else None):
                department.parent = parent
                fields.append("parent")
        if record.get("head"):
            head = heads[record["head"].lower()]
            if department.head_id != head.pk:
                department.head = head
                fields.append("head")
        if fields:
            department.save(update_fields=fields)


IMPORT_HELP = gettext_lazy(
    "People: email, last_name, first_name, middle_name, department, position, phone, "
    "manager, admin. Departments: code, name, parent, head."
)
