"""Account screens: sign in and out, password, profile, language, API tokens."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from sogla.core.errors import RateLimited, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.orgs.forms import (
    LoginForm,
    ProfileForm,
    SoglaPasswordChangeForm,
    TokenForm,
)
from sogla.orgs.lockout import cool_off
from sogla.orgs.models import LANGUAGE_CHOICES, Organisation
from sogla.orgs.services import user_preferences_update
from sogla.orgs.setup import setup_pending
from sogla.orgs.tokens import api_token_create, api_token_revoke, api_tokens_of
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user as _user


class SoglaLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """A fresh server (no organisation yet, a setup code printed) starts with
        first-run setup."""
        if (
            not request.user.is_authenticated
            and setup_pending()
            and not Organisation.objects.exists()
        ):
            return redirect("accounts:setup")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "setup_pending": setup_pending(),
            "open_signup": bool(settings.SOGLA_OPEN_SIGNUP),
        }


def locked_out(
    request: HttpRequest,
    _original_response: HttpResponse | None = None,  # axes passes them positionally
    _credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The answer to a refused sign-in or password check (django-axes calls it).

    The same for every username, existing or not: what happened, how long to
    wait, and who can unlock sooner. 429 with Retry-After.
    """
    seconds = int(cool_off().total_seconds())
    sign_in = request.path in {reverse("accounts:login"), reverse("admin:login")}
    response = render(
        request,
        "accounts/locked_out.html",
        {"minutes": seconds // 60, "back_url": request.path, "sign_in": sign_in},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


class SoglaLogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class SoglaPasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    form_class = SoglaPasswordChangeForm
    success_url = reverse_lazy("accounts:password_change_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        """The form checks the old password through the sign-in lock-out."""
        return {**super().get_form_kwargs(), "request": self.request}


class SoglaPasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


def _add_problems(form: ProfileForm | TokenForm, error: ValidationFailed) -> None:
    for field, texts in error.by_field().items():
        for text in texts:
            form.add_error(field if field in form.fields else None, text)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                user_preferences_update(actor=user, **form.cleaned_data)
            except ValidationFailed as error:
                _add_problems(form, error)
            else:
                messages.success(request, _("Profile saved."))
                response = redirect("accounts:profile")
                if user.language:
                    response.set_cookie(
                        "django_language", user.language, samesite="Lax"
                    )
                return response
    else:
        form = ProfileForm(
            initial={
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "language": user.language,
                "time_zone": user.time_zone,
                "email_mode": user.email_mode,
            }
        )
    return render(request, "accounts/profile.html", {"form": form})


@login_required
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the language: remember it on the user, then Django's set_language."""
    code = request.POST.get("language", "")
    if code in {c for c, _name in LANGUAGE_CHOICES}:
        user_preferences_update(actor=_user(request), language=code)
    return set_language(request)


@login_required
@app_errors
def tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    new_token = ""
    status = 200
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                _token, new_token = api_token_create(
                    actor=user,
                    name=form.cleaned_data["name"],
                    request_meta=request_meta(request),
                )
            except ValidationFailed as error:
                _add_problems(form, error)
            except RateLimited as error:
                form.add_error(None, str(error.message))
                status = 429
            else:
                form = TokenForm()
    else:
        form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": api_tokens_of(user), "new_token": new_token},
        status=status,
    )


@login_required
@require_POST
@app_errors
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = api_token_revoke(actor=_user(request), token_id=pk)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("accounts:tokens")
