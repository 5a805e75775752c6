"""Password reset by e-mail: Django's views and token, with Sogla's limits.

* **No account enumeration**: the page after asking is the same whether or not
  the e-mail belongs to anyone (Django sends nothing for an unknown e-mail).
* **Rate-limited**: at most ``SOGLA_RESET_PER_ADDRESS`` requests an hour from one
  address (then 429, as for a refused sign-in) and ``SOGLA_RESET_PER_EMAIL`` mails
  an hour to one e-mail (further requests answer the same but send nothing); an
  address the sign-in lock-out (django-axes, ``sogla.orgs.lockout``) refuses for
  every account is refused here too.
* The e-mail is in the person's language; the link works once, for
  ``PASSWORD_RESET_TIMEOUT`` seconds (Django's token).
* Setting the new password forgets the account's failed sign-ins.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import timezone, translation

from sogla.orgs.lockout import client_ip, cool_off, limits
from sogla.orgs.models import PasswordResetRequest, User

WINDOW = timedelta(hours=1)


def _email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def address_refused(ip: str) -> bool:
    """Too many reset requests from ``ip`` this hour, or the address is locked out
    of signing in for every account."""
    since = timezone.now() - WINDOW
    per_address = int(getattr(settings, "SOGLA_RESET_PER_ADDRESS", 5))
    if (
        PasswordResetRequest.objects.filter(ip=ip, created_at__gte=since).count()
        >= per_address
    ):
        return True
    _combo, _account, address_limit = limits()
    failures = (
        AccessAttempt.objects.filter(
            ip_address=ip, attempt_time__gte=timezone.now() - cool_off()
        ).aggregate(total=Sum("failures_since_start"))["total"]
        or 0
    )
    return failures >= address_limit


def email_quota_left(email: str) -> bool:
    since = timezone.now() - WINDOW
    per_email = int(getattr(settings, "SOGLA_RESET_PER_EMAIL", 3))
    return (
        PasswordResetRequest.objects.filter(
            email_hash=_email_hash(email), created_at__gte=since
        ).count()
        < per_email
    )


class SoglaPasswordResetForm(PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["class"] = "form-control"
        self.fields["email"].widget.attrs["autofocus"] = True

    def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        request: HttpRequest | None = kwargs.get("request")
        email = self.cleaned_data["email"]
        ip = client_ip(request) if request is not None else ""
        allowed = email_quota_left(email)
        PasswordResetRequest.objects.filter(
            created_at__lt=timezone.now() - 2 * WINDOW
        ).delete()
        PasswordResetRequest.objects.create(ip=ip or "", email_hash=_email_hash(email))
        if allowed:
            super().save(**kwargs)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """In the person's language (else their organisation's)."""
        user: User = context["user"]
        language = user.language or (
            user.organisation.language
            if user.organisation is not None
            else settings.LANGUAGE_CODE
        )
        context = {**context, "site_url": settings.SITE_URL.rstrip("/")}
        with translation.override(language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )


class SoglaSetPasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        AccessAttempt.objects.filter(username=user.get_username()).delete()
        return user


class SoglaPasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    html_email_template_name = "accounts/password_reset_email.html"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = SoglaPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ip = client_ip(request) or ""
        if address_refused(ip):
            seconds = int(WINDOW.total_seconds())
            response = render(
                request,
                "accounts/password_reset_limited.html",
                {"minutes": seconds // 60},
                status=429,
            )
            response["Retry-After"] = str(seconds)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        form.save(
            request=self.request,
            use_https=settings.SITE_URL.startswith("https:"),
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
            domain_override=_domain(),
        )
        return HttpResponseRedirect(self.get_success_url())


def _domain() -> str:
    return urlsplit(settings.SITE_URL).netloc or "localhost"


class SoglaPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class SoglaPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = SoglaSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class SoglaPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
