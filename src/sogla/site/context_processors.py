"""What every page's shell needs: the organisation, the navigation and the languages.

It counts across apps (the inbox's tasks, the bell's notifications), so it lives in
the composition root, not in the ``web`` kit the apps use.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from sogla.core.access import is_org_admin
from sogla.orgs.delegations import standing_in_for
from sogla.workflow.selectors import TaskCounts, navigation_counts


def shell(request: HttpRequest) -> dict[str, Any]:
    urls = _shell_urls(get_script_prefix(), get_urlconf())
    user = request.user
    if not user.is_authenticated:
        return {"urls": urls}
    match = getattr(request, "resolver_match", None)
    counts = _LazyCounts(user)
    return {
        "organisation": getattr(user, "organisation", None),
        "is_org_admin": is_org_admin(user),
        "nav_section": _section(match.view_name if match else ""),
        "task_counts": counts,
        "notification_counts": counts,
        "standing_in": _LazyStandingIn(user),
        "urls": urls,
    }


# The pages the shell links to on every page ({{ urls.workflow_inbox }}): reversed
# once per process, prefix and URL configuration, not two dozen times per page.
_SHELL_URLS = (
    "accounts:language",
    "accounts:logout",
    "accounts:password_change",
    "accounts:people",
    "accounts:profile",
    "accounts:tokens",
    "admin:index",
    "documents:counterparty_list",
    "documents:new",
    "documents:registry",
    "notifications:list",
    "notifications:settings",
    "reports:page",
    "starter:library",
    "workflow:away",
    "workflow:inbox",
)


@lru_cache(maxsize=16)
def _shell_urls(prefix: str, urlconf: str | None) -> dict[str, str]:
    """``prefix`` (the script prefix ``reverse`` puts in front) is part of the key."""
    del prefix
    return {name.replace(":", "_"): reverse(name, urlconf) for name in _SHELL_URLS}


class _LazyStandingIn:
    """Whose work the user does today (the deputy's banner): one query, asked only
    when the navigation's counts say the user holds tasks for someone."""

    def __init__(self, user: Any) -> None:
        self._user = user
        self._periods: list[Any] | None = None

    @property
    def periods(self) -> list[Any]:
        if self._periods is None:
            self._periods = standing_in_for(self._user)
        return self._periods


class _LazyCounts:
    """What the shell counts (the navigation's task counters and the bell's unread
    notifications): one statement, run only when a page shows them."""

    def __init__(self, user: Any) -> None:
        self._user = user
        self._counts: tuple[TaskCounts, int] | None = None

    def _get(self) -> tuple[TaskCounts, int]:
        if self._counts is None:
            if getattr(self._user, "organisation_id", None) is None:
                self._counts = (TaskCounts(0, 0, 0), 0)
            else:
                self._counts = navigation_counts(user=self._user)
        return self._counts

    @property
    def mine(self) -> int:
        return self._get()[0].mine

    @property
    def overdue(self) -> int:
        return self._get()[0].overdue

    @property
    def started(self) -> int:
        return self._get()[0].started

    @property
    def acting(self) -> int:
        return self._get()[0].acting

    @property
    def unread(self) -> int:
        """The bell's number."""
        return self._get()[1]


def _section(view_name: str) -> str:
    """Which navigation item is current for the page being rendered."""
    if view_name == "workflow:inbox":
        return "inbox"
    if view_name.startswith("documents:counterparty"):
        return "counterparties"
    if view_name in {"documents:new", "documents:create"}:
        return "new"
    if view_name.startswith("documents:"):
        return "registry"
    if view_name == "notifications:list":
        return "notifications"
    if view_name.startswith("accounts:"):
        return "account"
    return ""
