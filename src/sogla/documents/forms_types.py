"""Forms of the document type settings screens. They shape the input; the checks
are the services' (``documents.services.types``), the same as the API's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sogla.documents.models import FieldKind, StatusMeaning, StatusToken
from sogla.web.forms import BootstrapForm

KEY_HELP = _("Lowercase latin letters, digits and _, from a letter.")


class TypeForm(BootstrapForm):
    key = forms.CharField(label=_("Key"), max_length=60, help_text=KEY_HELP)
    name_ru = forms.CharField(label=_("Name (Russian)"), max_length=200, required=False)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    # a field named like Form.prefix: the metaclass takes it out of the class
    prefix = forms.CharField(  # type: ignore[assignment]
        label=_("Number prefix"), max_length=20, required=False
    )
    numbering_pattern = forms.CharField(
        label=_("Numbering pattern"),
        max_length=100,
        initial="{prefix}-{yyyy}-{seq:05}",
        help_text=_("Placeholders: {prefix}, {yyyy}, {yy}, {mm}, {seq} or {seq:05}."),
    )
    title_template = forms.CharField(
        label=_("Title template"),
        max_length=300,
        initial="{type} {number}",
        help_text=_(
            "Placeholders: {number}, {type}, {counterparty}, {initiator}, "
            "{department} and any field key, e.g. {subject}."
        ),
    )
    folder_rule = forms.CharField(
        label=_("Folder rule"),
        max_length=300,
        required=False,
        help_text=_(
            "Path of the folder for new documents, with the same placeholders."
        ),
    )
    has_files = forms.BooleanField(label=_("Has files"), required=False, initial=True)
    is_active = forms.BooleanField(
        label=_("Available for new documents"), required=False, initial=True
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["key"]
        else:
            del self.fields["is_active"]


class FieldForm(BootstrapForm):
    key = forms.CharField(label=_("Key"), max_length=60, help_text=KEY_HELP)
    label_ru = forms.CharField(
        label=_("Label (Russian)"), max_length=200, required=False
    )
    label_en = forms.CharField(
        label=_("Label (English)"), max_length=200, required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=FieldKind.choices)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For a choice field: one choice per line."),
    )

    def choice_list(self) -> list[dict[str, str]]:
        lines = [
            line.strip()
            for line in str(self.cleaned_data.get("choices") or "").splitlines()
        ]
        return [{"value": line, "ru": line, "en": line} for line in lines if line]


class StatusForm(BootstrapForm):
    key = forms.CharField(label=_("Key"), max_length=60, help_text=KEY_HELP)
    name_ru = forms.CharField(label=_("Name (Russian)"), max_length=200, required=False)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    meaning = forms.ChoiceField(label=_("Meaning"), choices=StatusMeaning.choices)
    token = forms.ChoiceField(label=_("Colour"), choices=StatusToken.choices)
