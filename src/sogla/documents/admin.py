"""Admin for document types (fields and statuses inline), folders and counterparties.

Scoped to the administrator's organisation by :mod:`sogla.core.admin`. The forms
check what the services rely on: template placeholders, the JSON shape of
``required_when`` and ``choices``, one initial status, counterparty duplicates.
"""

from __future__ import annotations

import re
from typing import Any

import pydantic
from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from sogla.core.admin import OrgScopedAdmin, OrgScopedInline, ScopedModelForm
from sogla.documents import naming, tax_ids
from sogla.documents.models import (
    Contact,
    Counterparty,
    DocumentType,
    FieldDef,
    FieldKind,
    Folder,
    StatusDef,
)
from sogla.documents.services import normalize_name, registration_problems
from sogla.engine.conditions import parse_condition, referenced_fields

_FIELD_KEY = re.compile(r"^fields-(\d+)-key$")


def _placeholder_error(unknown: set[str]) -> forms.ValidationError:
    return forms.ValidationError(
        _("Unknown placeholders: %(names)s.")
        % {"names": ", ".join("{" + name + "}" for name in sorted(unknown))},
        code="unknown_placeholder",
    )


class DocumentTypeForm(ScopedModelForm):
    class Meta:
        model = DocumentType
        fields = "__all__"

    def _field_keys(self) -> set[str]:
        """Keys of the type's fields: saved ones plus those posted in the inline."""
        keys: set[str] = set()
        if self.instance.pk is not None:
            keys |= set(
                FieldDef.objects.filter(doc_type=self.instance).values_list(
                    "key", flat=True
                )
            )
        for name, value in self.data.items():
            match = _FIELD_KEY.match(name)
            if match and value and not self.data.get(f"fields-{match.group(1)}-DELETE"):
                keys.add(str(value).strip())
        return keys

    def clean_numbering_pattern(self) -> str:
        pattern: str = self.cleaned_data["numbering_pattern"]
        unknown = naming.unknown_placeholders(pattern, naming.NUMBER_PLACEHOLDERS)
        if unknown:
            raise _placeholder_error(unknown)
        if "seq" not in naming.placeholders(pattern):
            raise forms.ValidationError(
                _("The pattern must contain {seq}, or numbers would repeat."),
                code="no_seq",
            )
        return pattern

    def _check_template(self, name: str) -> str:
        template: str = self.cleaned_data.get(name, "")
        known = naming.TITLE_BUILTINS | {"yyyy"} | self._field_keys()
        unknown = naming.unknown_placeholders(template, known)
        if unknown:
            raise _placeholder_error(unknown)
        return template

    def clean_title_template(self) -> str:
        return self._check_template("title_template")

    def clean_folder_rule(self) -> str:
        return self._check_template("folder_rule")


class FieldDefForm(ScopedModelForm):
    class Meta:
        model = FieldDef
        fields = "__all__"

    def clean_required_when(self) -> Any:
        value = self.cleaned_data.get("required_when")
        if value in (None, "", {}):
            return None
        if not isinstance(value, dict):
            raise forms.ValidationError(
                _(
                    'Enter a condition such as {"field": "reason", "op": "eq", "value": "remote"}.'
                )
            )
        try:
            parse_condition(value)
        except pydantic.ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise forms.ValidationError(
                _("This condition is not valid (%(where)s).") % {"where": where or "-"}
            ) from None
        return value

    def clean_choices(self) -> Any:
        value = self.cleaned_data.get("choices")
        if value in (None, ""):
            return []
        message = _(
            'Enter a list such as [{"value": "short", "ru": "Краткое", "en": "Short"}].'
        )
        if not isinstance(value, list):
            raise forms.ValidationError(message)
        seen: set[str] = set()
        for item in value:
            if not isinstance(item, dict) or not isinstance(
                item.get("value"), str | int
            ):
                raise forms.ValidationError(message)
            if set(item) - {"value", "ru", "en"}:
                raise forms.ValidationError(message)
            if any(not isinstance(item.get(k, ""), str) for k in ("ru", "en")):
                raise forms.ValidationError(message)
            key = str(item["value"])
            if not key.strip() or key in seen:
                raise forms.ValidationError(
                    _("Each choice needs its own non-empty value.")
                )
            seen.add(key)
        return value

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("kind") == FieldKind.CHOICE and not data.get("choices"):
            self.add_error("choices", _("A choice field needs at least one choice."))
        return data


class FieldDefFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        keys = {
            form.cleaned_data.get("key")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        }
        for form in self.forms:
            condition = (
                form.cleaned_data.get("required_when") if form.cleaned_data else None
            )
            if condition and not form.cleaned_data.get("DELETE"):
                missing = referenced_fields(parse_condition(condition)) - keys
                if missing:
                    form.add_error(
                        "required_when",
                        _("The condition refers to unknown fields: %(names)s.")
                        % {"names": ", ".join(sorted(missing))},
                    )


class StatusDefFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        initial = [
            form
            for form in self.forms
            if form.cleaned_data
            and form.cleaned_data.get("is_initial")
            and not form.cleaned_data.get("DELETE")
        ]
        if len(initial) > 1:
            raise forms.ValidationError(_("Only one status can be the initial one."))


class FieldDefInline(OrgScopedInline, admin.StackedInline):  # type: ignore[type-arg]
    model = FieldDef
    form = FieldDefForm
    formset = FieldDefFormSet
    extra = 0
    fields = [
        ("key", "kind", "order"),
        ("label_ru", "label_en"),
        ("required", "show_in_registry"),
        "required_when",
        "choices",
        ("help_ru", "help_en"),
    ]


class StatusDefInline(OrgScopedInline, admin.TabularInline):  # type: ignore[type-arg]
    model = StatusDef
    form = ScopedModelForm
    formset = StatusDefFormSet
    extra = 0
    fields = ["key", "name_ru", "name_en", "meaning", "token", "is_initial", "order"]


@admin.register(DocumentType)
class DocumentTypeAdmin(OrgScopedAdmin):
    form = DocumentTypeForm
    list_display = [
        "key",
        "name_ru",
        "name_en",
        "prefix",
        "confidential",
        "is_active",
        "order",
    ]
    list_filter = ["is_active", "confidential"]
    search_fields = ["key", "name_ru", "name_en"]
    inlines = [FieldDefInline, StatusDefInline]


class FolderForm(ScopedModelForm):
    validate_also = frozenset({"path"})

    class Meta:
        model = Folder
        fields = ["parent", "name"]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        name = naming.safe_folder_path(str(data.get("name") or "")).replace("/", " ")
        parent: Folder | None = data.get("parent")
        node = parent
        while node is not None and self.instance.pk is not None:
            if node.pk == self.instance.pk:
                self.add_error("parent", _("A folder cannot be inside itself."))
                break
            node = node.parent
        if name:
            data["name"] = name
            self.instance.path = f"{parent.path}/{name}" if parent else name
        return data


@admin.register(Folder)
class FolderAdmin(OrgScopedAdmin):
    form = FolderForm
    list_display = ["path"]
    search_fields = ["path"]

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        old_path = (
            Folder.objects.filter(pk=obj.pk).values_list("path", flat=True).first()
        )
        super().save_model(request, obj, form, change)
        if old_path and old_path != obj.path:  # keep the sub-folders' paths whole
            for child in Folder.objects.filter(
                organisation_id=obj.organisation_id, path__startswith=old_path + "/"
            ):
                child.path = obj.path + child.path[len(old_path) :]
                child.save(update_fields=["path"])


class ContactInline(OrgScopedInline, admin.TabularInline):  # type: ignore[type-arg]
    model = Contact
    form = ScopedModelForm
    extra = 1
    fields = ["name", "position", "email", "phone"]


class CounterpartyForm(ScopedModelForm):
    class Meta:
        model = Counterparty
        fields = "__all__"

    def clean_tax_id(self) -> str:
        return tax_ids.compact(self.cleaned_data.get("tax_id") or "")

    def clean_kpp(self) -> str:
        return tax_ids.compact(self.cleaned_data.get("kpp") or "").upper()

    def clean_ogrn(self) -> str:
        return tax_ids.compact(self.cleaned_data.get("ogrn") or "")

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        for problem in registration_problems(
            data.get("tax_id") or "", data.get("kpp") or "", data.get("ogrn") or ""
        ):
            if problem.field in data:
                self.add_error(problem.field, str(problem.message))
        name = " ".join(str(data.get("name") or "").split())
        normalized = normalize_name(name)
        self.instance.normalized_name = normalized
        org_id = self.instance.organisation_id
        if org_id is None or not name:
            return data
        others = Counterparty.objects.for_org(org_id).exclude(pk=self.instance.pk)
        tax_id = data.get("tax_id") or ""
        if tax_id:
            same = others.filter(tax_id=tax_id).first()
            if same is not None:
                self.add_error(
                    "tax_id",
                    _("A counterparty with this tax id already exists: %(name)s.")
                    % {"name": same.name},
                )
        else:
            same = others.filter(normalized_name=normalized, tax_id="").first()
            if same is not None:
                self.add_error(
                    "name",
                    _("It looks like this counterparty already exists: %(name)s.")
                    % {"name": same.name},
                )
        return data


@admin.register(Counterparty)
class CounterpartyAdmin(OrgScopedAdmin):
    form = CounterpartyForm
    list_display = ["name", "tax_id", "kpp", "category"]
    list_filter = ["category"]
    search_fields = ["name", "tax_id", "ogrn"]
    inlines = [ContactInline]
