"""The delivery log: an organisation's notifications, read only, with "resend".

Scoped to the administrator's organisation by :mod:`sogla.core.admin`. Rows are
written only by the services and the worker; the admin never edits them.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from sogla.core.admin import OrgLogAdmin
from sogla.notifications.models import Notification
from sogla.notifications.services import RESENDABLE, notification_resend
from sogla.orgs.models import User


@admin.register(Notification)
class NotificationAdmin(OrgLogAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipient",
        "document",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    ]
    list_filter = ["state", "kind"]
    search_fields = [
        "recipient_email",
        "recipient_user__username",
        "recipient_user__last_name",
        "document__number",
    ]
    list_select_related = ["recipient_user", "document"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    actions = ["resend"]
    fields = (
        "kind",
        "recipient_user",
        "recipient_email",
        "document",
        "state",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "sent_at",
        "read_at",
        "last_error",
        "idempotency_key",
        "context",
        "digest",
        "resent_from",
        "created_at",
    )

    @admin.display(description=gettext_lazy("recipient"))
    def recipient(self, obj: Notification) -> str:
        return obj.recipient_email or str(obj.recipient_user or "")

    @admin.display(description=gettext_lazy("last error"))
    def short_error(self, obj: Notification) -> str:
        text = obj.last_error
        return text if len(text) <= 80 else f"{text[:79]}…"

    @admin.action(description=gettext_lazy("Resend the selected notifications"))
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        done = skipped = 0
        for row in queryset.order_by("pk"):
            if row.state not in RESENDABLE:
                skipped += 1
                continue
            notification_resend(actor=actor, notification=row)
            done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)d notification queued to be sent again.",
                    "%(n)d notifications queued to be sent again.",
                    done,
                )
                % {"n": done},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                _(
                    "%(n)d skipped: only sent, failed or not e-mailed notifications "
                    "can be resent."
                )
                % {"n": skipped},
                messages.WARNING,
            )
