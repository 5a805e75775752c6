"""Joining screens: first-run setup, open sign-up, invitations, the people screen."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sogla.core.access import is_org_admin
from sogla.core.errors import RateLimited, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.orgs.forms import (
    InviteForm,
    JoinForm,
    PasswordOnlyForm,
    SetupForm,
    SignupForm,
)
from sogla.orgs.imports import (
    IMPORT_HELP,
    ImportRefused,
    import_apply,
    import_preview,
    max_rows,
)
from sogla.orgs.mail import (
    absolute,
    invitation_link,
    send_invitation,
    send_signup_confirmation,
)
from sogla.orgs.models import User
from sogla.orgs.people import (
    REFUSALS,
    SIGNUP_MAX_AGE,
    SIGNUP_SALT,
    InvitationRefused,
    NewOrganisation,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    organisation_setup,
    organisation_signup,
    person_deactivate,
    person_reactivate,
    signup_check,
    signup_email_taken,
)
from sogla.orgs.selectors import people_of
from sogla.orgs.setup import setup_code_burnt, setup_pending
from sogla.web.errors import app_errors
from sogla.web.forms import BootstrapForm
from sogla.web.requests import signed_in_user as _user

BACKEND = "sogla.orgs.backends.UserBackend"


def _add_problems(form: BootstrapForm, error: ValidationFailed) -> None:
    for field, texts in error.by_field().items():
        for text in texts:
            form.add_error(field if field in form.fields else None, text)


def _language() -> str:
    language = (get_language() or settings.LANGUAGE_CODE)[:2]
    return language if language in {"ru", "en"} else "ru"


# --- first-run setup -----------------------------------------------------------------


def setup(request: HttpRequest) -> HttpResponse:
    """Create the organisation and its administrator with the console's code."""
    if setup_code_burnt():
        return render(request, "orgs/setup_closed.html", {"burnt": True}, status=429)
    if not setup_pending():
        return render(request, "orgs/setup_closed.html", {"burnt": False}, status=404)
    status = 200
    if request.method == "POST":
        form = SetupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                admin = organisation_setup(
                    setup_code=data["setup_code"],
                    data=NewOrganisation(
                        name=data["name"],
                        language=_language(),
                        first_name=data["first_name"],
                        last_name=data["last_name"],
                        email=data["email"],
                    ),
                    password=data["password"],
                    request_meta=request_meta(request),
                )
            except ValidationFailed as error:
                _add_problems(form, error)
                status = 400
            except RateLimited:
                return render(
                    request, "orgs/setup_closed.html", {"burnt": True}, status=429
                )
            else:
                login(request, admin, backend=BACKEND)
                messages.success(
                    request,
                    _("Your organisation is ready. Invite your colleagues."),
                )
                return redirect("accounts:people")
        else:
            status = 400
    else:
        form = SetupForm()
    return render(request, "orgs/setup.html", {"form": form}, status=status)


# --- open sign-up --------------------------------------------------------------------


def _signup_allowed() -> None:
    if not getattr(settings, "SOGLA_OPEN_SIGNUP", False):
        raise Http404


def _address_limited(request: HttpRequest, scope: str, limit: int) -> bool:
    """At most ``limit`` per hour from one address (counted in the cache)."""
    key = f"sogla:{scope}:{request_meta(request).ip}"
    cache.add(key, 0, 3600)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, 3600)
        count = 1
    return count > limit


def signup(request: HttpRequest) -> HttpResponse:
    _signup_allowed()
    status = 200
    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            if _address_limited(request, "signup", 10):
                form.add_error(
                    None, _("Too many sign-ups from your address. Try later.")
                )
                return render(request, "orgs/signup.html", {"form": form}, status=429)
            data = form.cleaned_data
            try:
                clean = signup_check(
                    NewOrganisation(
                        name=data["name"],
                        language=_language(),
                        first_name=data["first_name"],
                        last_name=data["last_name"],
                        email=data["email"],
                    )
                )
            except ValidationFailed as error:
                _add_problems(form, error)
                status = 400
            else:
                if not signup_email_taken(clean.email):
                    token = signing.dumps(
                        [clean.name, clean.language, clean.first_name,
                         clean.last_name, clean.email],
                        salt=SIGNUP_SALT,
                    )  # fmt: skip
                    link = absolute(reverse("accounts:signup_confirm", args=[token]))
                    send_signup_confirmation(
                        clean.email, clean.name, link, clean.language
                    )
                return render(request, "orgs/signup_sent.html", {"email": clean.email})
        else:
            status = 400
    else:
        form = SignupForm()
    return render(request, "orgs/signup.html", {"form": form}, status=status)


def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    _signup_allowed()
    try:
        values = signing.loads(token, salt=SIGNUP_SALT, max_age=SIGNUP_MAX_AGE)
        data = NewOrganisation(*values)
    except (signing.BadSignature, TypeError, ValueError):
        return _refused_page(request, "invalid")
    if signup_email_taken(data.email):
        return _refused_page(request, "used")
    status = 200
    if request.method == "POST":
        form = PasswordOnlyForm(request.POST)
        if form.is_valid():
            try:
                admin = organisation_signup(
                    data=data,
                    password=form.cleaned_data["password"],
                    request_meta=request_meta(request),
                )
            except ValidationFailed as error:
                _add_problems(form, error)
                status = 400
            except InvitationRefused as refused:
                return _refused_page(request, refused.code)
            else:
                login(request, admin, backend=BACKEND)
                messages.success(
                    request, _("Your organisation is ready. Invite your colleagues.")
                )
                return redirect("accounts:people")
        else:
            status = 400
    else:
        form = PasswordOnlyForm()
    return render(
        request,
        "orgs/signup_confirm.html",
        {"form": form, "organisation": data.name, "email": data.email},
        status=status,
    )


# --- invitations ---------------------------------------------------------------------


_REFUSED_STATUS = {"invalid": 404, "used": 410, "expired": 410, "revoked": 410,
                   "deactivated": 403}  # fmt: skip


def _refused_page(request: HttpRequest, code: str) -> HttpResponse:
    return render(
        request,
        "orgs/invitation_refused.html",
        {"message": REFUSALS[code], "code": code},
        status=_REFUSED_STATUS[code],
    )


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the form and never uses the link (mail scanners open links)."""
    try:
        found = invitation_for_token(token)
    except InvitationRefused as refused:
        return _refused_page(request, refused.code)
    status = 200
    if request.method == "POST":
        form = JoinForm(request.POST)
        if form.is_valid():
            try:
                user = invitation_accept(
                    token=token,
                    request_meta=request_meta(request),
                    **form.cleaned_data,
                )
            except InvitationRefused as refused:
                return _refused_page(request, refused.code)
            except ValidationFailed as error:
                _add_problems(form, error)
                status = 400
            else:
                login(request, user, backend=BACKEND)
                messages.success(
                    request,
                    _("Welcome to %(organisation)s.")
                    % {"organisation": found.organisation.name},
                )
                return redirect("workflow:inbox")
        else:
            status = 400
    else:
        form = JoinForm(
            initial={
                "first_name": found.user.first_name,
                "last_name": found.user.last_name,
            }
        )
    return render(
        request,
        "orgs/invitation.html",
        {"form": form, "invitation": found},
        status=status,
    )


# --- the people screen ---------------------------------------------------------------


def _admin_or_404(request: HttpRequest) -> Any:
    user = _user(request)
    if not is_org_admin(user):
        raise Http404
    return user


def _people_page(
    request: HttpRequest, form: InviteForm, status: int = 200, link: str = ""
) -> HttpResponse:
    actor = _admin_or_404(request)
    people = people_of(actor.organisation_id)
    return render(
        request,
        "orgs/people.html",
        {"form": form, "people": people, "copy_link": link},
        status=status,
    )


@login_required
def people(request: HttpRequest) -> HttpResponse:
    return _people_page(request, InviteForm())


@login_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    actor = _admin_or_404(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _people_page(request, form, status=400)
    try:
        found, raw = invitation_create(
            actor=actor, request_meta=request_meta(request), **form.cleaned_data
        )
    except ValidationFailed as error:
        _add_problems(form, error)
        return _people_page(request, form, status=400)
    except RateLimited as error:
        form.add_error(None, str(error.message))
        return _people_page(request, form, status=429)
    return _after_invite(request, found, raw)


def _after_invite(request: HttpRequest, found: Any, raw: str) -> HttpResponse:
    sent = send_invitation(found, raw)
    if sent:
        messages.success(
            request, _("Invitation sent to %(email)s.") % {"email": found.email}
        )
        return redirect("accounts:people")
    messages.error(
        request,
        _(
            "The invitation to %(email)s is saved, but the e-mail could not be sent. "
            "Send it again later, or give the person the link below."
        )
        % {"email": found.email},
    )
    return _people_page(request, InviteForm(), link=invitation_link(raw))


@login_required
@require_POST
@app_errors
def reinvite(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin_or_404(request)
    person = User.objects.filter(pk=pk, organisation_id=actor.organisation_id).first()
    if person is None:
        raise Http404
    try:
        found, raw = invitation_create(
            actor=actor, email=person.email, request_meta=request_meta(request)
        )
    except (ValidationFailed, RateLimited) as error:
        messages.error(request, str(error.message))
        return redirect("accounts:people")
    return _after_invite(request, found, raw)


@login_required
@require_POST
@app_errors
def deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin_or_404(request)
    try:
        person = person_deactivate(
            actor=actor, user_id=pk, request_meta=request_meta(request)
        )
    except ValidationFailed as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("%(name)s is deactivated: signed out everywhere, API tokens revoked.")
            % {"name": person.get_full_name() or person.email},
        )
    return redirect("accounts:people")


@login_required
@require_POST
@app_errors
def reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin_or_404(request)
    person = person_reactivate(
        actor=actor, user_id=pk, request_meta=request_meta(request)
    )
    messages.success(
        request,
        _("%(name)s can sign in again.")
        % {"name": person.get_full_name() or person.email},
    )
    return redirect("accounts:people")


# --- import --------------------------------------------------------------------------

IMPORT_MAX_BYTES = 20 * 1024 * 1024


def _import_path(actor: User, token: str) -> str:
    return f"imports/{actor.organisation_id}/{token}.bin"


@login_required
def people_import(request: HttpRequest) -> HttpResponse:
    """Upload: a preview with every row's problems; nothing saved. Confirm: all
    rows in one transaction, or nothing."""
    actor = _admin_or_404(request)
    context: dict[str, Any] = {"help": IMPORT_HELP, "max_rows": max_rows()}
    status = 200
    if request.method == "POST" and request.POST.get("token"):
        token = request.POST["token"]
        name = request.session.get(f"import:{token}", "")
        path = _import_path(actor, token)
        if not name or not token.isalnum() or not default_storage.exists(path):
            messages.error(
                request, _("The uploaded file has expired; upload it again.")
            )
            return redirect("accounts:people_import")
        with default_storage.open(path, "rb") as stored:
            data = stored.read()
        try:
            done = import_apply(
                actor=actor, name=name, data=data, request_meta=request_meta(request)
            )
        except ImportRefused as refused:
            context.update(preview=refused.preview, token=token, name=name)
            status = 400
        else:
            default_storage.delete(path)
            request.session.pop(f"import:{token}", None)
            messages.success(
                request,
                _(
                    "Imported: %(created)d new, %(updated)d changed, %(unchanged)d unchanged."
                )
                % {
                    "created": done.to_create,
                    "updated": done.to_update,
                    "unchanged": done.unchanged,
                },
            )
            return redirect("accounts:people")
    elif request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["upload_error"] = _("Choose a CSV or XLSX file.")
            status = 400
        elif upload.size is not None and upload.size > IMPORT_MAX_BYTES:
            context["upload_error"] = _("The file is larger than 20 MB.")
            status = 400
        else:
            data = upload.read()
            preview = import_preview(actor=actor, name=upload.name or "", data=data)
            context.update(preview=preview, name=upload.name)
            if preview.ok:
                token = secrets.token_hex(16)
                default_storage.save(_import_path(actor, token), ContentFile(data))
                request.session[f"import:{token}"] = upload.name or "import"
                context["token"] = token
            else:
                status = 400
    return render(request, "orgs/import.html", context, status=status)
