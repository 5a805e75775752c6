"""The install form: one question per role of the template ("Who is your lawyer?"),
and, when the template's type key is taken, the choice between another key and
skipping."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sogla.orgs.models import User
from sogla.starter.library import LibraryTemplate
from sogla.web.forms import BootstrapForm

CLASH_CHOICES = [
    ("rename", _("Install it as a new type under another key")),
    ("skip", _("Skip it: keep my type, install nothing")),
]


def role_field(key: str) -> str:
    return f"role_{key}"


class InstallForm(BootstrapForm):
    def __init__(
        self,
        *args: Any,
        template: LibraryTemplate,
        people: list[User],
        holders: dict[str, list[int]],
        clash: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        english = get_language() == "en"
        choices = [("", _("— nobody yet —"))] + [
            (str(p.pk), p.get_full_name() or p.username) for p in people
        ]
        self.people = {str(p.pk): p for p in people}
        self.template = template
        for role in template.roles:
            name = role.name_en if english else role.name_ru
            field = forms.ChoiceField(
                label=_("Who is your “%(role)s”?") % {"role": name},
                choices=choices,
                required=False,
                initial=str(holders[role.key][0]) if holders.get(role.key) else "",
            )
            self.fields[role_field(role.key)] = field
        self.clash = clash
        if clash:
            self.fields["on_clash"] = forms.ChoiceField(
                label=_("You have a document type with the key “%(key)s” already")
                % {"key": template.document_type.key},
                choices=CLASH_CHOICES,
                widget=forms.RadioSelect,
                initial="rename",
            )
            self.fields["new_key"] = forms.CharField(
                label=_("Key of the new type"),
                max_length=60,
                required=False,
                initial=f"{template.document_type.key}_2",
                help_text=_("Lowercase latin letters, digits and _."),
            )
        # added after BootstrapForm styled the declared fields: style them here
        for name, added in self.fields.items():
            if name == "on_clash":
                added.widget.attrs["class"] = "form-check-input"
            elif isinstance(added, forms.ChoiceField):
                added.widget.attrs["class"] = "form-select"
            else:
                added.widget.attrs["class"] = "form-control"

    def role_fields(self) -> list[forms.BoundField]:
        return [self[role_field(r.key)] for r in self.template.roles]

    def holders(self) -> dict[str, list[User]]:
        chosen: dict[str, list[User]] = {}
        for role in self.template.roles:
            value = self.cleaned_data.get(role_field(role.key)) or ""
            if value in self.people:
                chosen[role.key] = [self.people[value]]
        return chosen
