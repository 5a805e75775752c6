"""Commands over an organisation's people: first-run setup, organisations created
by the server owner, invitations, deactivation.

Everyone who joins gets the username of their e-mail (lower case); usernames are
unique on the server, so one e-mail is one account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sogla.core.access import is_org_admin, organisation_id_of
from sogla.core.audit import audit_record
from sogla.core.errors import (
    FieldProblem,
    Message,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from sogla.core.request_meta import RequestMeta
from sogla.orgs.models import (
    LANGUAGE_CHOICES,
    ApiToken,
    Department,
    Invitation,
    Organisation,
    User,
    WorkingCalendar,
)
from sogla.orgs.setup import setup_code_check, setup_code_consume, setup_code_failed

# Sent after a person is deactivated (in the command's transaction); workflow shows
# their open tasks to the route owners. ``sender`` is User, ``user`` the person,
# ``actor`` who deactivated them.
person_deactivated = Signal()

_LANGUAGES = {code for code, _name in LANGUAGE_CHOICES}
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e",
        "ж": "zh", "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m",
        "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
        "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "",
        "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    }
)  # fmt: skip


def invitation_lifetime() -> timedelta:
    return timedelta(days=int(getattr(settings, "SOGLA_INVITATION_DAYS", 7)))


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _clean_name(value: str, field: str, problems: list[FieldProblem]) -> str:
    clean = " ".join(value.split())
    if len(clean) > 150:
        problems.append(FieldProblem(field, "too_long", _("At most 150 characters.")))
    return clean


def _clean_email(value: str, problems: list[FieldProblem]) -> str:
    clean = value.strip().lower()
    if not clean:
        problems.append(FieldProblem("email", "required", _("This field is required.")))
        return clean
    try:
        validate_email(clean)
    except ValidationError:
        problems.append(FieldProblem("email", "invalid", _("Enter a valid e-mail.")))
    return clean


def _account_of(email: str) -> User | None:
    return (
        User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email))
        .order_by("pk")
        .first()
    )


def _taken() -> FieldProblem:
    return FieldProblem(
        "email",
        "taken",
        _("An account with this e-mail already exists on this server."),
    )


def _password_problems(password: str, user: User) -> list[FieldProblem]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return [FieldProblem("password", "weak", message) for message in error.messages]
    return []


def _unique_slug(name: str) -> str:
    base = slugify(name.lower().translate(_TRANSLIT))[:50] or "organisation"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# --- organisations -------------------------------------------------------------------


@dataclass(frozen=True)
class NewOrganisation:
    name: str
    language: str
    first_name: str
    last_name: str
    email: str


def _check_new_organisation(
    data: NewOrganisation,
) -> tuple[NewOrganisation, list[FieldProblem]]:
    problems: list[FieldProblem] = []
    name = " ".join(data.name.split())
    if not name:
        problems.append(FieldProblem("name", "required", _("This field is required.")))
    elif len(name) > 200:
        problems.append(FieldProblem("name", "too_long", _("At most 200 characters.")))
    if data.language not in _LANGUAGES:
        problems.append(
            FieldProblem("language", "invalid", _("Choose one of the offered values."))
        )
    first = _clean_name(data.first_name, "first_name", problems)
    last = _clean_name(data.last_name, "last_name", problems)
    email = _clean_email(data.email, problems)
    if email and not problems and _account_of(email) is not None:
        problems.append(_taken())
    return NewOrganisation(name, data.language, first, last, email), problems


def _create_organisation(data: NewOrganisation) -> tuple[Organisation, User]:
    org = Organisation.objects.create(
        name=data.name,
        slug=_unique_slug(data.name),
        language=data.language,
        time_zone=settings.TIME_ZONE,
    )
    WorkingCalendar.objects.create(organisation=org)
    admin = User(
        username=data.email,
        email=data.email,
        first_name=data.first_name,
        last_name=data.last_name,
        organisation=org,
        is_staff=True,
        language=data.language,
    )
    admin.set_unusable_password()
    admin.save()
    return org, admin


def organisation_setup(
    *,
    setup_code: str,
    data: NewOrganisation,
    password: str,
    request_meta: RequestMeta | None = None,
) -> User:
    """First-run setup: the organisation and its administrator, guarded by the
    one-time code. Returns the administrator (to sign in)."""
    try:
        with transaction.atomic():
            code = setup_code_check(setup_code)
            clean, problems = _check_new_organisation(data)
            probe = User(username=clean.email, email=clean.email,
                         first_name=clean.first_name, last_name=clean.last_name)  # fmt: skip
            problems += _password_problems(password, probe)
            if not clean.first_name:
                problems.append(
                    FieldProblem("first_name", "required", _("This field is required."))
                )
            if problems:
                raise ValidationFailed(problems)
            org, admin = _create_organisation(clean)
            admin.set_password(password)
            admin.save(update_fields=["password"])
            setup_code_consume(code)
            audit_record(
                organisation_id=org.pk,
                verb="organisation.created",
                actor=admin,
                target_type="organisation",
                target_id=org.pk,
                payload={"name": org.name, "how": "first_run_setup"},
                request_meta=request_meta,
            )
    except ValidationFailed as error:
        if any(p.code == "wrong_code" for p in error.problems):
            setup_code_failed()
        raise
    return admin


@transaction.atomic
def organisation_create(
    *, data: NewOrganisation, how: str, request_meta: RequestMeta | None = None
) -> tuple[Organisation, User, Invitation, str]:
    """A new organisation whose administrator joins by an invitation link (the
    server owner's ``sogla org create``, or a confirmed open sign-up)."""
    clean, problems = _check_new_organisation(data)
    if problems:
        raise ValidationFailed(problems)
    org, admin = _create_organisation(clean)
    audit_record(
        organisation_id=org.pk,
        verb="organisation.created",
        actor_label="system",
        target_type="organisation",
        target_id=org.pk,
        payload={"name": org.name, "how": how},
        request_meta=request_meta,
    )
    invitation, raw = _new_invitation(admin, invited_by=None)
    return org, admin, invitation, raw


# --- invitations ---------------------------------------------------------------------


def _new_invitation(user: User, invited_by: User | None) -> tuple[Invitation, str]:
    now = timezone.now()
    Invitation.objects.filter(user=user, accepted_at=None, revoked_at=None).update(
        revoked_at=now
    )
    raw = secrets.token_urlsafe(32)
    org_id = user.organisation_id
    assert org_id is not None  # noqa: S101 - people of an organisation only
    invitation = Invitation.objects.create(
        organisation_id=org_id,
        user=user,
        email=user.email,
        invited_by=invited_by,
        token_hash=_hash(raw),
        expires_at=now + invitation_lifetime(),
    )
    return invitation, raw


def _joined(user: User) -> bool:
    return (
        user.has_usable_password()
        or Invitation.objects.filter(user=user, accepted_at__isnull=False).exists()
    )


def _invitation_rate(actor: User) -> None:
    limit = int(getattr(settings, "SOGLA_INVITATIONS_PER_HOUR", 50))
    recent = Invitation.objects.filter(
        invited_by=actor, created_at__gte=timezone.now() - timedelta(hours=1)
    ).count()
    if recent >= limit:
        raise RateLimited(
            _("Too many invitations in the last hour. Try again later."),
            retry_after=3600,
        )


@transaction.atomic
def invitation_create(
    *,
    actor: User,
    email: str,
    first_name: str = "",
    last_name: str = "",
    is_admin: bool = False,
    department_id: int | None = None,
    request_meta: RequestMeta | None = None,
) -> tuple[Invitation, str]:
    """Invite a person into the actor's organisation (or invite a pending one again).

    Returns the invitation and its raw token (for the e-mail; stored hashed).
    """
    if not is_org_admin(actor):
        raise NotFound()
    org_id = actor.organisation_id
    assert org_id is not None  # noqa: S101 - is_org_admin
    problems: list[FieldProblem] = []
    clean_email = _clean_email(email, problems)
    first = _clean_name(first_name, "first_name", problems)
    last = _clean_name(last_name, "last_name", problems)
    department = None
    if department_id is not None:
        department = Department.objects.for_org(org_id).filter(pk=department_id).first()
        if department is None:
            problems.append(
                FieldProblem(
                    "department", "invalid", _("Choose one of the offered values.")
                )
            )
    if problems:
        raise ValidationFailed(problems)
    list(User.objects.select_for_update().filter(pk=actor.pk).values("pk"))
    _invitation_rate(actor)
    user = _account_of(clean_email)
    if user is not None:
        if user.organisation_id != org_id:
            raise ValidationFailed([_taken()])
        if not user.is_active:
            raise ValidationFailed.single(
                "email",
                "deactivated",
                _("This person is deactivated. Reactivate them on the people screen."),
            )
        if _joined(user):
            raise ValidationFailed.single(
                "email", "member", _("This person has already joined.")
            )
        changed = []
        for key, value in (("first_name", first), ("last_name", last)):
            if value and getattr(user, key) != value:
                setattr(user, key, value)
                changed.append(key)
        if changed:
            user.save(update_fields=changed)
    else:
        user = User(
            username=clean_email,
            email=clean_email,
            first_name=first,
            last_name=last,
            organisation_id=org_id,
            department=department,
            is_staff=is_admin,
        )
        user.set_unusable_password()
        user.save()
    invitation, raw = _new_invitation(user, invited_by=actor)
    audit_record(
        organisation_id=org_id,
        verb="person.invited",
        actor=actor,
        target_type="user",
        target_id=user.pk,
        payload={"email": clean_email, "admin": user.is_staff},
        request_meta=request_meta,
    )
    return invitation, raw


class InvitationRefused(Exception):
    """The link does not work; ``reason`` says why in words for the person."""

    def __init__(self, code: str, message: Message) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


REFUSALS: dict[str, Message] = {
    "invalid": gettext_lazy(
        "This invitation link is not valid. Check that you copied all of it, or ask "
        "your administrator for a new invitation."
    ),
    "expired": gettext_lazy(
        "This invitation has expired. Ask your administrator to invite you again."
    ),
    "used": gettext_lazy(
        "This invitation has already been used. Sign in with your e-mail and password, "
        "or reset your password if you forgot it."
    ),
    "revoked": gettext_lazy(
        "This invitation was replaced by a newer one. Use the link from the latest "
        "e-mail."
    ),
    "deactivated": gettext_lazy(
        "This account has been deactivated. Ask your administrator if this is a mistake."
    ),
}


def _refuse(code: str) -> InvitationRefused:
    return InvitationRefused(code, REFUSALS[code])


def invitation_for_token(raw: str, *, lock: bool = False) -> Invitation:
    """The invitation ``raw`` opens, or InvitationRefused saying why not."""
    if not raw or len(raw) > 100:
        raise _refuse("invalid")
    rows = Invitation.objects.select_related("user", "organisation")
    if lock:
        rows = rows.select_for_update(of=("self",))
    invitation = rows.filter(token_hash=_hash(raw)).first()
    if (
        invitation is None
        or invitation.user.organisation_id != invitation.organisation_id
    ):
        raise _refuse("invalid")
    if invitation.accepted_at is not None:
        raise _refuse("used")
    if not invitation.user.is_active:
        raise _refuse("deactivated")
    if invitation.revoked_at is not None:
        raise _refuse("revoked")
    if invitation.expires_at <= timezone.now():
        raise _refuse("expired")
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    first_name: str,
    last_name: str,
    password: str,
    request_meta: RequestMeta | None = None,
) -> User:
    """The person sets their name and password; the link is used up."""
    invitation = invitation_for_token(token, lock=True)
    user = invitation.user
    problems: list[FieldProblem] = []
    first = _clean_name(first_name, "first_name", problems)
    last = _clean_name(last_name, "last_name", problems)
    if not first:
        problems.append(
            FieldProblem("first_name", "required", _("This field is required."))
        )
    user.first_name, user.last_name = first, last
    problems += _password_problems(password, user)
    if problems:
        raise ValidationFailed(problems)
    user.set_password(password)
    user.save(update_fields=["first_name", "last_name", "password"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    audit_record(
        organisation_id=invitation.organisation_id,
        verb="person.joined",
        actor=user,
        target_type="user",
        target_id=user.pk,
        payload={"invitation": invitation.pk},
        request_meta=request_meta,
    )
    return user


# --- deactivation --------------------------------------------------------------------


def _end_sessions(user: User) -> int:
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


def _person_of(actor: User, user_id: int) -> User:
    if not is_org_admin(actor):
        raise NotFound()
    user = User.objects.filter(
        pk=user_id, organisation_id=organisation_id_of(actor)
    ).first()
    if user is None:
        raise NotFound()
    return user


@transaction.atomic
def person_deactivate(
    *, actor: User, user_id: int, request_meta: RequestMeta | None = None
) -> User:
    """The person can no longer sign in: sessions ended, API tokens revoked, open
    invitations revoked; workflow shows their open tasks to the route owners."""
    user = _person_of(actor, user_id)
    if user.pk == actor.pk:
        raise ValidationFailed.single(
            "user", "self", _("You cannot deactivate yourself.")
        )
    if not user.is_active:
        return user
    now = timezone.now()
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens = ApiToken.objects.filter(user=user, revoked_at=None).update(revoked_at=now)
    Invitation.objects.filter(user=user, accepted_at=None, revoked_at=None).update(
        revoked_at=now
    )
    sessions = _end_sessions(user)
    audit_record(
        organisation_id=user.organisation_id or 0,
        verb="person.deactivated",
        actor=actor,
        target_type="user",
        target_id=user.pk,
        payload={"sessions_ended": sessions, "tokens_revoked": tokens},
        request_meta=request_meta,
    )
    person_deactivated.send(sender=User, user=user, actor=actor)
    return user


@transaction.atomic
def person_reactivate(
    *, actor: User, user_id: int, request_meta: RequestMeta | None = None
) -> User:
    user = _person_of(actor, user_id)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(
        organisation_id=user.organisation_id or 0,
        verb="person.reactivated",
        actor=actor,
        target_type="user",
        target_id=user.pk,
        request_meta=request_meta,
    )
    return user


# --- open sign-up --------------------------------------------------------------------

SIGNUP_SALT = "sogla.orgs.signup"
SIGNUP_MAX_AGE = 2 * 24 * 3600


def signup_check(data: NewOrganisation) -> NewOrganisation:
    """The cleaned sign-up, or ValidationFailed. An e-mail already on the server is
    not reported here (the caller answers "check your e-mail" either way)."""
    clean, problems = _check_new_organisation(data)
    problems = [p for p in problems if p.code != "taken"]
    if not clean.first_name:
        problems.append(
            FieldProblem("first_name", "required", _("This field is required."))
        )
    if problems:
        raise ValidationFailed(problems)
    return clean


def signup_email_taken(email: str) -> bool:
    return _account_of(email) is not None


@transaction.atomic
def organisation_signup(
    *, data: NewOrganisation, password: str, request_meta: RequestMeta | None = None
) -> User:
    """A confirmed open sign-up: the organisation and its administrator with the
    password they chose. A second use of the link finds the e-mail taken."""
    clean, problems = _check_new_organisation(data)
    if any(p.code == "taken" for p in problems):
        raise _refuse("used")
    probe = User(username=clean.email, email=clean.email, first_name=clean.first_name)
    problems += _password_problems(password, probe)
    if problems:
        raise ValidationFailed(problems)
    org, admin = _create_organisation(clean)
    admin.set_password(password)
    admin.save(update_fields=["password"])
    audit_record(
        organisation_id=org.pk,
        verb="organisation.created",
        actor=admin,
        target_type="organisation",
        target_id=org.pk,
        payload={"name": org.name, "how": "open_signup"},
        request_meta=request_meta,
    )
    return admin
