"""Route templates and versions, processes, stage/step runs, tasks and timers.

Rows are the source of truth: the repository rebuilds the part of the engine's
``ProcessState`` one command needs from them and writes back only what changed.
State values mirror the engine's ``StrEnum`` values (``sogla.engine.states``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel


class RouteTemplate(TenantModel):
    """A route for one document type; its definitions live in versions."""

    key = models.SlugField(_("key"), max_length=60)
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    doc_type = models.ForeignKey(
        "documents.DocumentType",
        verbose_name=_("document type"),
        on_delete=models.PROTECT,
        related_name="route_templates",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        help_text=_("Gets the reports about steps nobody could be assigned to."),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    suggest_when = models.JSONField(
        _("suggest when"),
        null=True,
        blank=True,
        default=None,
        help_text=_("A condition on the document's values; empty means always."),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        ordering = ["order", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "key"], name="route_template_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return (self.name_en if get_language() == "en" else self.name_ru) or self.key


class RouteVersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class RouteVersion(TenantModel):
    """One version of a route's definition; a published version never changes."""

    template = models.ForeignKey(
        RouteTemplate, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    definition = models.JSONField(default=dict)
    status = models.CharField(
        max_length=20,
        choices=RouteVersionStatus.choices,
        default=RouteVersionStatus.DRAFT,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The draft's edit counter and its last editor: a save made over an older
    # revision is refused, naming who changed the draft and when (the builder).
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("route version")
        verbose_name_plural = _("route versions")
        ordering = ["template_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="route_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["template"],
                condition=Q(status="draft"),
                name="route_version_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number} ({self.status})"


class ProcessStatus(models.TextChoices):
    RUNNING = "running", _("In progress")
    REVISION = "revision", _("Returned for revision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_PROCESS_STATUSES = (ProcessStatus.RUNNING, ProcessStatus.REVISION)


class Process(TenantModel):
    """One run of a pinned route version over a document."""

    document = models.ForeignKey(
        "documents.Document", on_delete=models.PROTECT, related_name="processes"
    )
    route_version = models.ForeignKey(
        RouteVersion, on_delete=models.PROTECT, related_name="processes"
    )
    status = models.CharField(max_length=20, choices=ProcessStatus.choices)
    round = models.PositiveIntegerField(default=1)
    stage_index = models.PositiveIntegerField(default=0)
    seq = models.PositiveIntegerField(default=0)  # the engine's task counter
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    returned_from = models.CharField(max_length=60, blank=True)
    # The stage a "return_to_stage" decision sent the current round back to.
    sent_back_to = models.CharField(max_length=60, blank=True)
    # The initiator's edits for the current round (engine StepOverride dicts).
    overrides = models.JSONField(default=dict, blank=True)
    # Whom the current round re-asks, as the initiator chose when resubmitting (an
    # engine ``Reask`` value); blank: the route's ``on_return.reask``.
    reask = models.CharField(max_length=40, blank=True)
    version = models.PositiveBigIntegerField(default=0)  # compare-and-set

    class Meta:
        verbose_name = _("approval process")
        verbose_name_plural = _("approval processes")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document"],
                condition=Q(status__in=["running", "revision"]),
                name="process_one_active_per_document",
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            # the cycle time report (a finished_at range: never a running approval)
            models.Index(
                fields=["organisation", "finished_at"],
                condition=Q(finished_at__isnull=False),
                name="process_finished_at",
            ),
            # the running approvals a person started (the navigation's and the
            # inbox's "started"): not every approval they ever started
            models.Index(
                fields=["initiator", "status"], name="process_initiator_active"
            ),
        ]

    def __str__(self) -> str:
        return f"process {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_PROCESS_STATUSES


class StageRun(TenantModel):
    # Indexed as the first column of ``stage_run_unique``; the organisation as the
    # first of the reports' index: single-column indexes would be written on every
    # insert for nothing (``bench/engine.py``'s pages per decision).
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    process = models.ForeignKey(
        Process, on_delete=models.CASCADE, related_name="stage_runs", db_index=False
    )
    round = models.PositiveIntegerField()
    stage_key = models.CharField(max_length=60)
    index = models.PositiveIntegerField()
    state = models.CharField(max_length=20)  # engine StageState
    reason = models.CharField(max_length=500, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["process_id", "round", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["process", "round", "stage_key"], name="stage_run_unique"
            )
        ]
        indexes = [  # reports: a finished_at range, never an open stage
            models.Index(
                fields=["organisation", "finished_at"],
                condition=Q(finished_at__isnull=False),
                name="stage_run_finished_at",
            )
        ]

    def __str__(self) -> str:
        return f"{self.round}:{self.stage_key} {self.state}"


class StepRun(TenantModel):
    process = models.ForeignKey(  # indexed as the first column of step_run_unique
        Process, on_delete=models.CASCADE, related_name="step_runs", db_index=False
    )
    round = models.PositiveIntegerField()
    stage_key = models.CharField(max_length=60)
    step_key = models.CharField(max_length=60)
    kind = models.CharField(max_length=20)
    state = models.CharField(max_length=20)  # engine StepState
    reason = models.CharField(max_length=500, blank=True)
    quorum = models.CharField(max_length=10, default="all")  # any / all / a number
    task_ids = models.JSONField(default=list, blank=True)  # engine task ids

    class Meta:
        ordering = ["process_id", "round", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["process", "round", "stage_key", "step_key"],
                name="step_run_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.round}:{self.stage_key}:{self.step_key} {self.state}"


class TaskState(models.TextChoices):
    OPEN = "open", _("Waiting")
    DONE = "done", _("Decided")
    CLOSED_BY_QUORUM = "closed_by_quorum", _("Not needed")
    CANCELLED = "cancelled", _("Cancelled")
    CARRIED_OVER = "carried_over", _("Carried over")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    EMAIL = "email", _("E-mail link")
    GUEST = "guest", _("Guest link")


class ConfirmationMethod(models.TextChoices):
    """How the person who decided was confirmed: the evidence of a decision."""

    SESSION = "session", _("Password session")
    TOKEN = "token", _("API token")
    LINK = "link", _("Guest link session")
    EMAIL_CODE = "email_code", _("E-mail code")
    SMS_CODE = "sms_code", _("SMS code")


class Task(TenantModel):
    """One person's part of a step: the inbox item and, once decided, the evidence."""

    # The foreign keys are indexed by the composite and partial indexes of ``Meta``
    # (each the first column of one), not each on its own: every index is written
    # on every insert and on every change of its columns.
    process = models.ForeignKey(
        Process, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    engine_id = models.CharField(max_length=200)
    round = models.PositiveIntegerField()
    stage_key = models.CharField(max_length=60)
    step_key = models.CharField(max_length=60)
    kind = models.CharField(max_length=20)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="workflow_tasks",
        db_index=False,
    )
    guest_email = models.EmailField(max_length=254, blank=True)
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    state = models.CharField(max_length=20, choices=TaskState.choices)
    outcome = models.CharField(max_length=30, blank=True)
    comment = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    decided_by_ref = models.CharField(max_length=300, blank=True)  # engine ref
    files_sha256 = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    # The evidence of who decided (read by the approval sheet): how they were
    # confirmed, where a code went (masked: "m***@example.com", "+7 *** ** 12"),
    # the one-time code challenge and the e-signature agreement version accepted.
    confirmation = models.CharField(
        max_length=20, choices=ConfirmationMethod.choices, blank=True
    )
    confirmation_to = models.CharField(max_length=100, blank=True)
    confirmation_ref = models.CharField(max_length=40, blank=True)
    agreement_version = models.CharField(max_length=20, blank=True)
    closed_reason = models.CharField(max_length=200, blank=True)
    carried_from = models.CharField(max_length=200, blank=True)
    overdue = models.BooleanField(default=False)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["process_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["process", "engine_id"], name="task_engine_id_unique"
            )
        ]
        indexes = [
            models.Index(fields=["assignee", "state", "due_at"]),
            models.Index(fields=["process", "state"]),
            # the KPI report: decided in a period, open and overdue now; an open
            # task is not in it (a range on decided_at implies NOT NULL)
            models.Index(
                fields=["organisation", "decided_at"],
                condition=Q(decided_at__isnull=False),
                name="task_decided_at",
            ),
            models.Index(fields=["organisation", "state", "due_at"]),
            models.Index(fields=["process", "round", "stage_key"]),
            # "mine" is assignee OR on_behalf_of: with this (small) index SQLite reads
            # a user's tasks through both indexes instead of every open task of the
            # organisation (the FK index on on_behalf_of, mostly NULLs, looks useless
            # to its planner)
            models.Index(
                fields=["on_behalf_of", "state"],
                condition=Q(on_behalf_of__isnull=False),
                name="task_on_behalf_of_state",
            ),
            # who decided (a person's removal is refused while one is found)
            models.Index(
                fields=["decided_by"],
                condition=Q(decided_by__isnull=False),
                name="task_decided_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engine_id} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state == TaskState.OPEN


class TimerState(models.TextChoices):
    PENDING = "pending", _("Pending")
    FIRED = "fired", _("Fired")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


FIELD_REMINDER = "field_reminder"  # a Timer kind the engine does not know


class Timer(TenantModel):
    """A durable timer: the worker fires due pending timers (exactly once in effect).

    Most timers are the engine's (deadlines, reminders, escalations, stalls, waits)
    and end with their task or process. A ``field_reminder`` (a route's ``remind``
    action: "30 days before end_date") outlives its process; ``payload`` keeps the
    action, and the date is read again from the document when it fires.
    """

    process = models.ForeignKey(
        Process,
        verbose_name=_("approval"),
        on_delete=models.CASCADE,
        related_name="timers",
    )
    engine_id = models.CharField(_("timer id"), max_length=250)
    kind = models.CharField(_("kind"), max_length=20)  # engine TimerKind
    target = models.CharField(_("target"), max_length=200)
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=TimerState.choices,
        default=TimerState.PENDING,
    )
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)
    payload = models.JSONField(_("settings"), default=dict, blank=True)
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["process", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.engine_id} {self.state}"
