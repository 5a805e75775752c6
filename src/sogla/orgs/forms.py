"""Forms of the account screens: sign-in, profile, API tokens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from sogla.orgs.models import LANGUAGE_CHOICES, TIME_ZONE_CHOICES, EmailMode
from sogla.web.forms import BootstrapForm


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("E-mail or username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "username",
                "class": "form-control",
            }
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "class": "form-control"}
        ),
    )

    def clean_username(self) -> str:
        """E-mails are usernames in lower case; type them in any case."""
        value: str = self.cleaned_data.get("username") or ""
        return value.strip().lower() if "@" in value else value


class ProfileForm(BootstrapForm):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Organisation default")), *LANGUAGE_CHOICES],
        required=False,
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=[("", _("Organisation default")), *TIME_ZONE_CHOICES],
        required=False,
    )
    email_mode = forms.ChoiceField(
        label=_("Notification e-mails"),
        choices=EmailMode.choices,
        initial=EmailMode.IMMEDIATE,
        required=False,
        help_text=_(
            "Notifications always appear under the bell; choose how e-mails come."
        ),
    )

    def clean_email_mode(self) -> str | None:
        """Not sent (an older form): keep the current choice."""
        value: str = self.cleaned_data.get("email_mode") or ""
        return value or None


class TokenForm(BootstrapForm):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “1C exchange”."),
    )


class SoglaPasswordChangeForm(PasswordChangeForm):
    """Django's form with our field classes; the old password is checked like a
    sign-in, so wrong guesses count towards the lock-out (sogla.orgs.lockout)."""

    def __init__(
        self, *args: Any, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"
            field.help_text = ""

    def clean_old_password(self) -> str:
        old_password: str = self.cleaned_data["old_password"]
        checked = authenticate(
            self.request, username=self.user.get_username(), password=old_password
        )
        if checked is None or checked.pk != self.user.pk:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


def _password_field(label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not only digits, not a common word."),
    )


class SetupForm(BootstrapForm):
    setup_code = forms.CharField(
        label=_("Setup code"),
        max_length=40,
        help_text=_("The code the server printed to its console when it started."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    name = forms.CharField(label=_("Organisation name"), max_length=200)
    first_name = forms.CharField(label=_("Your first name"), max_length=150)
    last_name = forms.CharField(
        label=_("Your last name"), max_length=150, required=False
    )
    email = forms.EmailField(
        label=_("Your e-mail"),
        help_text=_("You sign in with it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = _password_field()


class SignupForm(BootstrapForm):
    name = forms.CharField(label=_("Organisation name"), max_length=200)
    first_name = forms.CharField(label=_("Your first name"), max_length=150)
    last_name = forms.CharField(
        label=_("Your last name"), max_length=150, required=False
    )
    email = forms.EmailField(
        label=_("Your e-mail"),
        help_text=_("We send a confirmation link to it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PasswordOnlyForm(BootstrapForm):
    password = _password_field()


class JoinForm(BootstrapForm):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    password = _password_field()


class InviteForm(BootstrapForm):
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    is_admin = forms.BooleanField(
        label=_("Administrator (manages people and settings)"), required=False
    )
