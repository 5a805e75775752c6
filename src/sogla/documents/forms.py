"""Forms of the document screens: registry filters, typed fields, counterparties.

Typed document fields are not Django form fields: their values are parsed by
``documents.fields.clean_values`` (the same parser the API uses). This module only
reads raw values out of a POST and builds what the templates need to render them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from sogla.core.errors import FieldProblem
from sogla.documents.fields import _required_reason, required_condition
from sogla.documents.models import (
    Counterparty,
    CounterpartyCategory,
    FieldDef,
    FieldKind,
)
from sogla.documents.selectors import DocumentFilter
from sogla.documents.services import (
    GENERAL_FILES,
    ContactData,
    CounterpartyData,
)
from sogla.orgs.models import User
from sogla.web.forms import BootstrapForm

INPUT_PREFIX = "f-"
RADIO_LIMIT = 4
CONTACT_SLOTS = 3


# --- registry --------------------------------------------------------------------


class RegistryFilterForm(BootstrapForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=20_000)
    type = forms.ChoiceField(label=_("Type"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    # A counterparty by its name or tax id (a search box; was a select of 200).
    party = forms.CharField(label=_("Counterparty"), required=False, max_length=300)
    # One counterparty by id: links from the counterparty's page and the API.
    counterparty = forms.TypedChoiceField(
        label=_("Counterparty"), required=False, coerce=int, empty_value=None
    )
    created_from = forms.DateField(
        label=_("Created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    created_to = forms.DateField(
        label=_("Created to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    mine = forms.BooleanField(label=_("My documents"), required=False)
    # Correspondence: the letter's control date (its ``control_date`` field).
    control_from = forms.DateField(
        label=_("Control date from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    control_to = forms.DateField(
        label=_("Control date to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self,
        data: QueryDict,
        *,
        types: Iterable[tuple[str, str]],
        statuses: Iterable[tuple[str, str]],
        counterparties: Iterable[tuple[int, str]],
    ) -> None:
        super().__init__(data)
        anything = [("", _("Any"))]
        self.fields["type"].choices = [*anything, *types]  # type: ignore[attr-defined]
        self.fields["status"].choices = [*anything, *statuses]  # type: ignore[attr-defined]
        self.fields["counterparty"].choices = [*anything, *counterparties]  # type: ignore[attr-defined]

    def to_filter(self) -> DocumentFilter:
        """The filter from the valid parts of the query (invalid parts are ignored)."""
        data = self.cleaned_data if self.is_bound else {}
        clean = {k: v for k, v in data.items() if k not in self.errors}
        return DocumentFilter(
            doc_type=clean.get("type") or "",
            status=clean.get("status") or "",
            counterparty=clean.get("counterparty"),
            party=(clean.get("party") or "").strip(),
            created_from=clean.get("created_from"),
            created_to=clean.get("created_to"),
            mine=bool(clean.get("mine")),
            q=(clean.get("q") or "").strip(),
            control_from=clean.get("control_from"),
            control_to=clean.get("control_to"),
        )

    def active_filters(self) -> list[tuple[str, str]]:
        """(label, shown value) of each filter in use, for «Nothing found: …»."""
        shown = []
        for name in (
            "q",
            "type",
            "status",
            "party",
            "counterparty",
            "created_from",
            "created_to",
            "control_from",
            "control_to",
        ):
            value = self.cleaned_data.get(name) if self.is_bound else None
            if value in (None, "") or name in self.errors:
                continue
            bound = self[name]
            text = str(value)
            choices = getattr(self.fields[name], "choices", None)
            if choices:
                text = next(
                    (str(lbl) for v, lbl in choices if str(v) == str(value)), text
                )
            shown.append((str(bound.label), text))
        if self.is_bound and self.cleaned_data.get("mine"):
            shown.append((str(_("My documents")), str(_("Yes"))))
        return shown


# --- typed document fields -----------------------------------------------------------


def input_name(key: str) -> str:
    return f"{INPUT_PREFIX}{key}"


def values_from_post(fields: Sequence[FieldDef], data: QueryDict) -> dict[str, Any]:
    """Raw values of every non-file field, as ``clean_values`` expects them."""
    values: dict[str, Any] = {}
    for f in fields:
        name = input_name(f.key)
        if f.kind == FieldKind.FILE:
            continue
        if f.kind == FieldKind.USERS:
            values[f.key] = [v for v in data.getlist(name) if v.strip()]
        elif f.kind == FieldKind.BOOL:
            values[f.key] = "1" if data.get(name) else "0"
        else:
            values[f.key] = data.get(name, "")
    return values


def uploads_from_post(
    fields: Sequence[FieldDef], files: MultiValueDict[str, Any], *, has_files: bool
) -> list[tuple[str, Any]]:
    """(field key or '' for general files, uploaded file) of every file sent."""
    found: list[tuple[str, Any]] = []
    for f in fields:
        if f.kind == FieldKind.FILE and (upload := files.get(input_name(f.key))):
            found.append((f.key, upload))
    if has_files:
        found += [("", upload) for upload in files.getlist(GENERAL_FILES)]
    return found


@dataclass
class FieldWidget:
    """What the template needs to render one typed field."""

    definition: FieldDef
    name: str
    value: Any
    errors: list[str]
    required: bool
    required_help: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    selected_party: Counterparty | None = None
    # The category a counterparty created here gets unless the person picks another.
    party_category: str = CounterpartyCategory.CUSTOMER

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def category_choices(self) -> list[tuple[str, str]]:
        return [(str(v), str(label)) for v, label in CounterpartyCategory.choices]

    @property
    def kind(self) -> str:
        return self.definition.kind

    @property
    def input_id(self) -> str:
        return f"id_{self.name}"

    @property
    def as_radios(self) -> bool:
        return self.kind == FieldKind.CHOICE and len(self.options) <= RADIO_LIMIT

    @property
    def value_list(self) -> list[str]:
        if isinstance(self.value, list | tuple):
            return [str(v) for v in self.value]
        return [str(self.value)] if self.value not in (None, "") else []

    @property
    def text_value(self) -> str:
        if self.value is None or isinstance(self.value, list | bool):
            return ""
        return str(self.value)

    @property
    def checked(self) -> bool:
        return str(self.value).lower() in {"1", "true", "on", "yes"}


def build_widgets(
    fields: Sequence[FieldDef],
    values: Mapping[str, Any],
    problems: Mapping[str, list[str]],
    *,
    users: Sequence[User] = (),
    parties: Mapping[int, Counterparty] | None = None,
    party_category: str = "",
) -> list[FieldWidget]:
    by_key = {f.key: f for f in fields}
    user_options = [(str(u.pk), u.get_full_name() or u.username) for u in users]
    widgets = []
    for f in fields:
        value = values.get(f.key)
        options: list[tuple[str, str]] = []
        if f.kind == FieldKind.CHOICE:
            options = [
                (str(c.get("value")), f.choice_label(c.get("value")))
                for c in f.choices or []
            ]
        elif f.kind in (FieldKind.USER, FieldKind.USERS):
            options = user_options
        party = None
        if f.kind == FieldKind.COUNTERPARTY and value not in (None, "") and parties:
            try:
                party = parties.get(int(value))
            except (TypeError, ValueError):
                party = None
        required_help = ""
        if required_condition(f) is not None and not f.required:
            required_help = _required_reason(f, by_key)
        widgets.append(
            FieldWidget(
                definition=f,
                name=input_name(f.key),
                value=value,
                errors=problems.get(f.key, []),
                required=f.required,
                required_help=required_help,
                options=options,
                selected_party=party,
                party_category=party_category or CounterpartyCategory.CUSTOMER,
            )
        )
    return widgets


def merge_problems(problems: Iterable[FieldProblem]) -> dict[str, list[str]]:
    """Problems grouped by field; a «required» next to a real upload error is dropped."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for p in problems:
        grouped.setdefault(p.field, []).append((p.code, str(p.message)))
    result: dict[str, list[str]] = {}
    for key, items in grouped.items():
        if len(items) > 1 and any(code != "required" for code, _m in items):
            items = [(c, m) for c, m in items if c != "required"]
        seen: list[str] = []
        for _code, message in items:
            if message not in seen:
                seen.append(message)
        result[key] = seen
    return result


# --- counterparties ------------------------------------------------------------------


class CounterpartyForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=300)
    tax_id = forms.CharField(
        label=_("Tax id (INN)"),
        max_length=20,
        required=False,
        help_text=_("10 digits for a company, 12 for a person."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    kpp = forms.CharField(
        label=_("KPP"),
        max_length=12,
        required=False,
        help_text=_("9 characters; organisations only."),
    )
    ogrn = forms.CharField(
        label=_("OGRN"),
        max_length=20,
        required=False,
        help_text=_("13 digits; 15 for a sole trader (OGRNIP)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    category = forms.ChoiceField(
        label=_("Category"),
        choices=CounterpartyCategory.choices,
        initial=CounterpartyCategory.CUSTOMER,
    )
    address = forms.CharField(label=_("Address"), max_length=500, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(CONTACT_SLOTS):
            self.fields[f"contact_{i}_name"] = forms.CharField(
                label=_("Contact name"), max_length=200, required=False
            )
            self.fields[f"contact_{i}_position"] = forms.CharField(
                label=_("Position"), max_length=200, required=False
            )
            self.fields[f"contact_{i}_email"] = forms.EmailField(
                label=_("E-mail"), required=False
            )
            self.fields[f"contact_{i}_phone"] = forms.CharField(
                label=_("Phone"),
                max_length=32,
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "tel"}),
            )
        self._slots: list[int] = []
        # The Bootstrap classes for the fields added above.
        for name, f in self.fields.items():
            if name.startswith("contact_"):
                f.widget.attrs.setdefault("class", "form-control")

    def contact_rows(self) -> list[list[forms.BoundField]]:
        return [
            [
                self[f"contact_{i}_{part}"]
                for part in ("name", "position", "email", "phone")
            ]
            for i in range(CONTACT_SLOTS)
        ]

    def to_data(self) -> CounterpartyData:
        data = self.cleaned_data
        contacts = []
        for i in range(CONTACT_SLOTS):
            parts = {
                p: (data.get(f"contact_{i}_{p}") or "").strip()
                for p in ("name", "position", "email", "phone")
            }
            if any(parts.values()):
                self._slots.append(i)
                contacts.append(ContactData(**parts))
        return CounterpartyData(
            name=data["name"],
            tax_id=data.get("tax_id") or "",
            kpp=data.get("kpp") or "",
            ogrn=data.get("ogrn") or "",
            category=data["category"],
            address=data.get("address") or "",
            note=data.get("note") or "",
            contacts=contacts,
        )

    def add_problems(self, problems: Iterable[FieldProblem]) -> None:
        for p in problems:
            name = p.field
            if name.startswith("contacts["):
                index, _sep, part = name[len("contacts[") :].partition("].")
                slot = (
                    self._slots[int(index)]
                    if index.isdigit() and int(index) < len(self._slots)
                    else 0
                )
                name = f"contact_{slot}_{part}"
            self.add_error(name if name in self.fields else None, str(p.message))
