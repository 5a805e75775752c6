"""Timers in the admin: the incidents (failed timers) and a "retry" action (T46).

Scoped to the administrator's organisation by :mod:`sogla.core.admin`. Timers are
written only by the services and the worker; the admin never edits them.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy, ngettext

from sogla.core.admin import OrgLogAdmin
from sogla.orgs.models import User
from sogla.workflow.incidents import timers_retry
from sogla.workflow.models import RouteTemplate, RouteVersion, Timer


@admin.register(Timer)
class TimerAdmin(OrgLogAdmin):
    list_display = ["due_at", "kind", "process", "state", "attempts", "short_error"]
    list_filter = ["state", "kind"]
    search_fields = ["process__document__number", "engine_id"]
    list_select_related = ["process__document"]
    ordering = ["-due_at"]
    actions = ["retry"]
    fields = (
        "process",
        "engine_id",
        "kind",
        "target",
        "due_at",
        "state",
        "fired_at",
        "attempts",
        "last_error",
        "payload",
    )

    @admin.display(description=gettext_lazy("last error"))
    def short_error(self, obj: Timer) -> str:
        return obj.last_error[:120]

    @admin.action(description=gettext_lazy("Retry the selected failed timers"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Timer]) -> None:
        if not isinstance(request.user, User):
            return
        count = timers_retry(actor=request.user, timers=queryset)
        self.message_user(
            request,
            ngettext(
                "%(n)d timer will fire again.", "%(n)d timers will fire again.", count
            )
            % {"n": count},
            messages.SUCCESS,
        )


@admin.register(RouteTemplate)
class RouteTemplateAdmin(OrgLogAdmin):
    """Routes, read-only: their versions' JSON, and a link to the builder."""

    list_display = ["key", "name_ru", "doc_type", "is_active", "builder_link"]
    list_select_related = ["doc_type"]
    search_fields = ["key", "name_ru", "name_en"]
    fields = ("key", "name_ru", "name_en", "doc_type", "builder_link", "versions_json")

    @admin.display(description=gettext_lazy("builder"))
    def builder_link(self, obj: RouteTemplate) -> str:
        url = reverse("settings:route_builder", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Open in the builder"))

    @admin.display(description=gettext_lazy("versions"))
    def versions_json(self, obj: RouteTemplate) -> str:
        versions = RouteVersion.objects.filter(
            organisation_id=obj.organisation_id, template=obj
        ).order_by("-number")
        return format_html_join(
            "",
            "<h3>v{} ({})</h3><pre>{}</pre>",
            (
                (
                    v.number,
                    v.get_status_display(),
                    json.dumps(v.definition, ensure_ascii=False, indent=2),
                )
                for v in versions
            ),
        )
