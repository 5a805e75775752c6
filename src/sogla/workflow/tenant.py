"""What every command reads about its tenant, kept per process: the organisation,
its working calendar, its document types and their statuses, the names of its
departments and roles (the card says reasons and rules with them); and its local
time.

These rows change rarely and are read on every command, so each process keeps them
for ``TTL`` seconds (like the parsed route definitions in ``definitions``, which
never change). A document type, status, organisation, department or role saved or deleted through
the ORM is dropped from this process's cache at once and again when the transaction
commits (the signal receivers below), so the process that made a change sees it
at once; another process sees it within ``TTL``, as it sees a changed working
calendar. Screens may read the calendar and the local time from here too.

The working calendar is the exception: a holiday added now must count now, in
every process. Its row carries a version raised by every change
(``orgs.calendars``); a process compares the version of the calendar it keeps
with the database's at most every ``SOGLA_CALENDAR_CHECK_SECONDS`` (one small
query) and reads the calendar again when it changed.
"""

from __future__ import annotations

import threading
import time
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from sogla.documents.models import Document, DocumentType, StatusDef
from sogla.engine.calendar import WorkCalendar
from sogla.orgs.calendars import calendar_version, work_calendar
from sogla.orgs.models import (
    CalendarDay,
    Department,
    Organisation,
    Role,
    WorkingCalendar,
)

TTL = 300.0
V = TypeVar("V")


class _Cache(Generic[V]):
    """Values by row id, each kept for ``TTL`` seconds; safe across threads."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: int, load: Callable[[], V]) -> V:
        found = self._entries.get(key)
        if found is not None and time.monotonic() - found[0] < TTL:
            return found[1]
        return self.put(key, load())

    def put(self, key: int, value: V) -> V:
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
        return value

    def drop(self, key: int) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# By organisation: (the calendar's version, when it was last compared, the calendar).
_calendars: _Cache[tuple[int, float, WorkCalendar]] = _Cache()
_organisations: _Cache[Organisation] = _Cache()
_doc_types: _Cache[DocumentType] = _Cache()
_statuses: _Cache[tuple[StatusDef, ...]] = _Cache()  # by document type
# By organisation: code -> (name, name in English); key -> the role.
_departments: _Cache[dict[str, tuple[str, str]]] = _Cache()
_roles: _Cache[dict[str, Role]] = _Cache()


def _load_calendar(organisation: Organisation) -> tuple[int, float, WorkCalendar]:
    version = calendar_version(organisation.pk)
    return version, time.monotonic(), work_calendar(organisation)


def organisation_calendar(organisation: Organisation) -> WorkCalendar:
    """The working calendar, kept per organisation while its version is unchanged."""
    version, checked, calendar = _calendars.get(
        organisation.pk, lambda: _load_calendar(organisation)
    )
    now = time.monotonic()
    if now - checked >= float(settings.SOGLA_CALENDAR_CHECK_SECONDS):
        current = calendar_version(organisation.pk)
        if current != version:
            version, checked, calendar = _calendars.put(
                organisation.pk, _load_calendar(organisation)
            )
        else:
            _calendars.put(organisation.pk, (version, now, calendar))
    return calendar


def calendar_cache_clear() -> None:
    _calendars.clear()


def local_now(organisation: Organisation, now: datetime | None = None) -> datetime:
    """``now`` (default: the clock) in the organisation's time zone."""
    try:
        zone = zoneinfo.ZoneInfo(organisation.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return (now or timezone.now()).astimezone(zone)


def organisation(organisation_id: int) -> Organisation:
    return _organisations.get(
        organisation_id, lambda: Organisation.objects.get(pk=organisation_id)
    )


def statuses(doc_type_id: int) -> tuple[StatusDef, ...]:
    """The statuses of a document type, in their order."""
    return _statuses.get(
        doc_type_id,
        lambda: tuple(StatusDef.objects.filter(doc_type_id=doc_type_id)),
    )


def department_names(organisation_id: int) -> dict[str, tuple[str, str]]:
    """The organisation's departments by code: (name, name in English)."""
    return _departments.get(
        organisation_id,
        lambda: {
            code: (name, name_en)
            for code, name, name_en in Department.objects.for_org(
                organisation_id
            ).values_list("code", "name", "name_en")
        },
    )


def roles(organisation_id: int) -> dict[str, Role]:
    """The organisation's roles by key (shared: read them, never change them)."""
    return _roles.get(
        organisation_id,
        lambda: {r.key: r for r in Role.objects.for_org(organisation_id)},
    )


_type_lists: _Cache[tuple[tuple[DocumentType, ...], tuple[StatusDef, ...]]] = _Cache()


def type_lists(
    organisation_id: int,
) -> tuple[tuple[DocumentType, ...], tuple[StatusDef, ...]]:
    """An organisation's active document types (in their order) and the statuses of
    all its types (by ``order``, then id), as the registry's filters list them; kept
    by organisation and dropped when a type or status of it is saved or deleted."""
    return _type_lists.get(
        organisation_id,
        lambda: (
            tuple(DocumentType.objects.for_org(organisation_id).filter(is_active=True)),
            tuple(StatusDef.objects.for_org(organisation_id).order_by("order", "id")),
        ),
    )


def attach(document: Document) -> Document:
    """Give a document read on its own its type, status and organisation from the
    cache, as ``select_related`` would (they are shared: read them, never change
    them in place)."""
    doc_type = _doc_types.get(
        document.doc_type_id,
        lambda: DocumentType.objects.get(pk=document.doc_type_id),
    )
    status = next(
        (s for s in statuses(document.doc_type_id) if s.pk == document.status_id),
        None,
    ) or StatusDef.objects.get(pk=document.status_id)
    meta = Document._meta
    meta.get_field("doc_type").set_cached_value(document, doc_type)
    meta.get_field("status").set_cached_value(document, status)
    meta.get_field("organisation").set_cached_value(
        document, organisation(document.organisation_id)
    )
    return document


def remember(document: Document) -> None:
    """Keep the type and organisation of a document just read with them
    (``select_related``), fresher than what the cache holds."""
    _doc_types.put(document.doc_type_id, document.doc_type)
    _organisations.put(document.organisation_id, document.organisation)


def cache_clear() -> None:
    """Forget everything this module keeps (tests; a changed calendar at once)."""
    for cache in (
        _calendars,
        _organisations,
        _doc_types,
        _statuses,
        _departments,
        _roles,
        _type_lists,
    ):
        cache.clear()


def _by_pk(instance: Model) -> int:
    return int(instance.pk)


def _by_type(instance: Model) -> int:
    return int(getattr(instance, "doc_type_id", 0) or 0)


def _by_organisation(instance: Model) -> int:
    return int(getattr(instance, "organisation_id", 0) or 0)


# The caches a changed row is kept in, each with the key it is kept under: a status
# with the other statuses of its document type, departments and roles with the
# others of their organisation, types and statuses also in their organisation's
# type lists.
_CACHES: dict[type[Model], tuple[tuple[_Cache[Any], Callable[[Model], int]], ...]] = {
    Organisation: ((_organisations, _by_pk),),
    DocumentType: ((_doc_types, _by_pk), (_type_lists, _by_organisation)),
    StatusDef: ((_statuses, _by_type), (_type_lists, _by_organisation)),
    Department: ((_departments, _by_organisation),),
    Role: ((_roles, _by_organisation),),
}


@receiver(post_save, sender=Organisation)
@receiver(post_save, sender=DocumentType)
@receiver(post_save, sender=StatusDef)
@receiver(post_save, sender=Department)
@receiver(post_save, sender=Role)
@receiver(post_delete, sender=Organisation)
@receiver(post_delete, sender=DocumentType)
@receiver(post_delete, sender=StatusDef)
@receiver(post_delete, sender=Department)
@receiver(post_delete, sender=Role)
def _changed(sender: type[Model], instance: Model, **_kwargs: Any) -> None:
    dropped = [(cache, key_of(instance)) for cache, key_of in _CACHES[sender]]

    def drop() -> None:
        for cache, key in dropped:
            cache.drop(key)

    drop()
    # A thread reading the old row before this transaction commits may put it back.
    transaction.on_commit(drop)


@receiver(post_save, sender=WorkingCalendar)
@receiver(post_save, sender=CalendarDay)
@receiver(post_delete, sender=CalendarDay)
def _calendar_changed(instance: Model, **_kwargs: Any) -> None:
    """This process sees its own change at once (others by the version)."""
    key = int(getattr(instance, "organisation_id", 0) or 0)
    _calendars.drop(key)
    transaction.on_commit(lambda: _calendars.drop(key))
