"""Organisations (tenants), their people and structure, delegations and calendars."""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel, TimeStampedModel

TIME_ZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones())
LANGUAGE_CHOICES = [("ru", "Русский"), ("en", "English")]


class EmailMode(models.TextChoices):
    """How a user gets notification e-mails."""

    IMMEDIATE = "immediate", _("Immediately, one e-mail per event")
    DIGEST = "digest", _("Once a day, in a morning digest")


def name_in_language(name: str, name_en: str) -> str:
    """A name as the reader's language says it: the English one in the English
    interface where there is one, else the (Russian) name."""
    if name_en and (get_language() or "").split("-")[0] == "en":
        return name_en
    return name


class Organisation(TimeStampedModel):
    """A tenant: one company with its people, documents and routes."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    country = models.CharField(
        _("country for public holidays"), max_length=2, default="RU"
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        choices=TIME_ZONE_CHOICES,
        default="Europe/Moscow",
    )
    language = models.CharField(
        _("language"), max_length=5, choices=LANGUAGE_CHOICES, default="ru"
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (``name_en`` in English, if set)."""
        return name_in_language(self.name, self.name_en)


class Department(TenantModel):
    """A unit of the organisation; departments form a tree, each with a head."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    code = models.SlugField(_("code"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    head = models.ForeignKey(
        "orgs.User",
        verbose_name=_("head"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_departments",
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="department_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (``name_en`` in English, if set)."""
        return name_in_language(self.name, self.name_en)


class Position(TenantModel):
    """A job title such as "Lawyer" or "Chief accountant"."""

    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="position_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. Belongs to one organisation (platform staff to none)."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    position = models.ForeignKey(
        Position,
        verbose_name=_("position"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    manager = models.ForeignKey(
        "self",
        verbose_name=_("manager"),
        help_text=_("Leave empty to use the head of the user's department."),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=LANGUAGE_CHOICES, blank=True
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, blank=True
    )
    email_mode = models.CharField(
        _("notification e-mails"),
        max_length=10,
        choices=EmailMode.choices,
        default=EmailMode.IMMEDIATE,
    )

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["organisation", "last_name"])]

    def __str__(self) -> str:
        return self.short_name

    @property
    def short_name(self) -> str:
        """ "Petrov P." style, as the route map and inbox show people."""
        return short_name(self.first_name, self.last_name, self.username)


def short_name(first_name: str, last_name: str, username: str) -> str:
    """ "Petrov P.", else the full name, else the username (``User.short_name`` of
    a person read as values)."""
    if last_name and first_name:
        return f"{last_name} {first_name[0]}."
    return f"{first_name} {last_name}".strip() or username


class Role(TenantModel):
    """A named function (lawyer, CFO, ...) held by one or more users."""

    key = models.SlugField(_("key"), max_length=60)
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    members = models.ManyToManyField(
        User, verbose_name=_("members"), related_name="roles", blank=True
    )

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "key"], name="role_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" else self.name_ru


class Delegation(TenantModel):
    """From ``starts_on`` to ``ends_on`` the tasks of one user go to another."""

    from_user = models.ForeignKey(
        User,
        verbose_name=_("who is away"),
        on_delete=models.CASCADE,
        related_name="delegations_out",
    )
    to_user = models.ForeignKey(
        User,
        verbose_name=_("who stands in"),
        on_delete=models.CASCADE,
        related_name="delegations_in",
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("set by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="delegation_period_valid",
            ),
            models.CheckConstraint(
                condition=~Q(from_user=models.F("to_user")),
                name="delegation_not_to_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user}"


class WorkingCalendar(TenantModel):
    """Working days and hours of an organisation; public holidays from ``country``."""

    working_weekdays = models.CharField(
        _("working weekdays"),
        max_length=20,
        default="0,1,2,3,4",
        help_text=_("Comma-separated weekday numbers, Monday is 0."),
    )
    day_starts = models.TimeField(_("working day starts"), default="09:00")
    day_ends = models.TimeField(_("working day ends"), default="18:00")
    use_public_holidays = models.BooleanField(_("use public holidays"), default=True)
    # Raised by every change of the calendar or its days (orgs.calendars), so that
    # each process notices a change made by another one with one small query.
    version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"], name="calendar_one_per_org"
            )
        ]

    def __str__(self) -> str:
        return str(_("Working calendar"))


class CalendarDay(TenantModel):
    """An exception to the weekly pattern: a holiday or a working weekend day."""

    calendar = models.ForeignKey(
        WorkingCalendar, on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="calendar_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class ApiToken(TenantModel, TimeStampedModel):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SetupCode(TimeStampedModel):
    """The one-time code that guards first-run setup (``sogla serve`` prints it).

    Only its SHA-256 is stored. A code is live until it is used, replaced by a new
    one, expires, or has been guessed at too often (``failures``).
    """

    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("setup code")
        verbose_name_plural = _("setup codes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"setup code {self.pk}"


class Invitation(TenantModel, TimeStampedModel):
    """An e-mailed, single-use, expiring link with which a person joins.

    The person's account exists from the invitation on (so routes and roles can
    name them at once) without a usable password; accepting sets name and password.
    Only the token's SHA-256 is stored.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    invited_by = models.ForeignKey(
        User,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email


class PasswordResetRequest(models.Model):
    """One asked-for password reset, kept an hour or so to limit how often
    (per address and per e-mail); the e-mail only as a SHA-256."""

    ip = models.CharField(max_length=45, blank=True, db_index=True)
    email_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("password reset request")
        verbose_name_plural = _("password reset requests")

    def __str__(self) -> str:
        return f"reset {self.created_at:%Y-%m-%d %H:%M}"


class NotificationMode(models.TextChoices):
    """How e-mails of one kind of event come (the bell shows every notice anyway)."""

    IMMEDIATE = "immediate", _("Immediately")
    DIGEST = "digest", _("In the daily digest")
    OFF = "off", _("No e-mail")


class NotificationPreference(TenantModel):
    """A person's choice for one kind of notice; without a row their
    ``email_mode`` applies. Essential kinds cannot be ``off``."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=100)
    mode = models.CharField(
        _("e-mails"), max_length=10, choices=NotificationMode.choices
    )

    class Meta:
        verbose_name = _("notification setting")
        verbose_name_plural = _("notification settings")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="notification_preference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.mode}"
