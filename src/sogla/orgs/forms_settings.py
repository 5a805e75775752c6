"""Forms of the organisation settings screens (the organisation, departments,
roles, positions, calendar). They only shape the input; the checks are the services' (``structure``),
whose problems are put back on the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sogla.orgs.models import LANGUAGE_CHOICES, TIME_ZONE_CHOICES, Department, User
from sogla.web.forms import BootstrapForm

WEEKDAYS = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]


def _people_choices(people: list[User]) -> list[tuple[str, str]]:
    return [(str(p.pk), p.get_full_name() or p.username) for p in people]


class OrganisationForm(BootstrapForm):
    name = forms.CharField(label=_("Name (Russian)"), max_length=200)
    name_en = forms.CharField(
        label=_("Name (English)"),
        max_length=200,
        required=False,
        help_text=_("Shown in the English interface; empty: the Russian name."),
    )
    language = forms.ChoiceField(
        label=_("Default language"),
        choices=LANGUAGE_CHOICES,
        help_text=_("For people who have not chosen their own, and for guests."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=TIME_ZONE_CHOICES,
        help_text=_(
            "Working days and deadlines count here; people may choose their own."
        ),
    )
    country = forms.ChoiceField(
        label=_("Country"),
        help_text=_("Its public holidays are days off in the working calendar."),
    )

    def __init__(self, *args: Any, countries: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)  # noqa: S101
        country.choices = [(code, code) for code in countries]


class DepartmentForm(BootstrapForm):
    name = forms.CharField(label=_("Name (Russian)"), max_length=200)
    name_en = forms.CharField(
        label=_("Name (English)"),
        max_length=200,
        required=False,
        help_text=_("Shown in the English interface; empty: the Russian name."),
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=60,
        help_text=_("Latin letters, digits, - and _; routes refer to it."),
    )
    parent = forms.ChoiceField(label=_("Part of"), required=False)
    head = forms.ChoiceField(label=_("Head"), required=False)

    def __init__(
        self,
        *args: Any,
        departments: list[Department],
        people: list[User],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        head = self.fields["head"]
        assert isinstance(parent, forms.ChoiceField)  # noqa: S101
        assert isinstance(head, forms.ChoiceField)  # noqa: S101
        parent.choices = [
            ("", _("— top level —")),
            *(
                (d.code, "\u00a0\u00a0" * getattr(d, "depth", 0) + d.display_name)
                for d in departments
            ),
        ]
        head.choices = [("", _("— nobody —")), *_people_choices(people)]
        if editing:
            del self.fields["code"]


class RoleForm(BootstrapForm):
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        help_text=_("Latin letters, digits, - and _; routes refer to it."),
    )
    name_ru = forms.CharField(label=_("Name (Russian)"), max_length=200, required=False)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    members = forms.MultipleChoiceField(
        label=_("Who holds it"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, *args: Any, people: list[User], editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        members = self.fields["members"]
        assert isinstance(members, forms.ChoiceField)  # noqa: S101
        members.choices = _people_choices(people)
        self.fields["members"].widget.attrs["class"] = "form-check-input"
        if editing:
            del self.fields["key"]


class PositionForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=200)


class CalendarForm(BootstrapForm):
    working_weekdays = forms.MultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    day_starts = forms.TimeField(
        label=_("The working day starts"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    day_ends = forms.TimeField(
        label=_("The working day ends"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    use_public_holidays = forms.BooleanField(
        label=_("Public holidays of the country are days off"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["working_weekdays"].widget.attrs["class"] = "form-check-input"


class CalendarDayForm(BootstrapForm):
    day = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    is_working = forms.BooleanField(
        label=_("A working day (unchecked: a day off)"), required=False
    )
    name = forms.CharField(label=_("Note"), max_length=200, required=False)
