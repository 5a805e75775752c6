"""Previews of file versions: requested with the version, built by the worker.

``preview_request`` runs in the transaction that adds a version and writes one
``pending`` row per content (organisation, sha256); a content already known is not
converted again. ``previews_build_due`` is one worker step: it leases a few rows
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL), builds each outside any
transaction (``documents.previews``), and stores the result only if its lease is
still its own. A row whose build killed or hung the worker twice ends ``failed``, so
one bad file never blocks the queue.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from sogla.documents import previews
from sogla.documents.models import FilePreview, FileVersion

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
_State = FilePreview.State


def preview_request(version: FileVersion) -> FilePreview:
    """The preview row of the version's content, created ``pending`` if new."""
    preview, _created = FilePreview.objects.get_or_create(
        organisation_id=version.organisation_id,
        sha256=version.sha256,
        defaults={
            "source_key": version.storage_key,
            "mime_type": version.mime_type,
            "source_name": version.original_name[:255],
            "state": (
                _State.PENDING
                if previews.previewable(version.mime_type)
                else _State.FAILED
            ),
            "reason": "" if previews.previewable(version.mime_type) else "unsupported",
        },
    )
    return preview


def _lease() -> timedelta:
    return timedelta(seconds=int(settings.SOGLA_PREVIEW_TIMEOUT) + 120)


def _due(now: datetime) -> Q:
    return Q(state=_State.PENDING) | Q(state=_State.WORKING, lease_until__lt=now)


def claim(*, now: datetime, limit: int) -> list[FilePreview]:
    """Lease up to ``limit`` rows to this worker; rows interrupted too often fail."""
    with transaction.atomic():
        queue = FilePreview.objects.filter(_due(now)).order_by("created_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            queue = queue.select_for_update(skip_locked=True, of=("self",))
        ids = list(queue.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        FilePreview.objects.filter(
            pk__in=ids, state=_State.WORKING, attempts__gte=MAX_ATTEMPTS
        ).update(
            state=_State.FAILED,
            lease_until=None,
            reason="interrupted",
            detail="the build stopped the worker too many times",
        )
        FilePreview.objects.filter(pk__in=ids).filter(_due(now)).update(
            state=_State.WORKING,
            lease_until=now + _lease(),
            attempts=F("attempts") + 1,
        )
        return list(
            FilePreview.objects.filter(pk__in=ids, state=_State.WORKING).order_by("pk")
        )


def previews_build_due(*, now: datetime | None = None, limit: int = 2) -> int:
    """Build up to ``limit`` pending previews; the number of rows finished."""
    now = now or timezone.now()
    rows = claim(now=now, limit=limit)
    for row in rows:
        build(row)
    return len(rows)


def build(row: FilePreview) -> FilePreview:
    """Build one leased row and store the outcome (ready or failed)."""
    lease = row.lease_until
    try:
        with default_storage.open(row.source_key, "rb") as source:
            built = previews.build_preview(
                source, mime_type=row.mime_type, name=row.source_name
            )
    except previews.NoPreview as nothing:
        logger.info("no preview for %s: %s", row.sha256[:12], nothing)
        return _finish(
            row, lease, state=_State.FAILED, reason=nothing.reason,
            detail=nothing.detail[:300],
        )  # fmt: skip
    except Exception as error:  # a bug or a storage error: record, never crash
        logger.exception("preview of %s failed", row.sha256[:12])
        return _finish(
            row, lease, state=_State.FAILED, reason="error", detail=repr(error)[:300]
        )
    base = f"previews/{row.organisation_id}/{row.sha256[:2]}/{row.sha256}"
    pdf_key = ""
    if built.pdf is not None:
        pdf_key = _save(f"{base}.pdf", built.pdf)
    thumb_key = _save(f"{base}.png", built.thumbnail) if built.thumbnail else ""
    return _finish(
        row,
        lease,
        state=_State.READY,
        kind=built.kind,
        pdf_key=pdf_key,
        thumb_key=thumb_key,
        pages=built.pages,
        text="\f".join(page.replace("\f", " ") for page in built.text),
    )


def _save(key: str, data: bytes) -> str:
    if default_storage.exists(key):
        default_storage.delete(key)
    return default_storage.save(key, ContentFile(data))


def _finish(row: FilePreview, lease: datetime | None, **values: object) -> FilePreview:
    """Store the outcome only while the lease is still this worker's."""
    values["lease_until"] = None
    updated = FilePreview.objects.filter(
        pk=row.pk, state=_State.WORKING, lease_until=lease
    ).update(**values, updated_at=timezone.now())
    if not updated:
        logger.warning("preview %s: lease lost, result dropped", row.pk)
    row.refresh_from_db()
    return row


def preview_retry(preview: FilePreview) -> None:
    """Queue a failed preview again (an administrator's action after a fix)."""
    FilePreview.objects.filter(pk=preview.pk, state=_State.FAILED).update(
        state=_State.PENDING, attempts=0, reason="", detail=""
    )


__all__ = ["build", "claim", "preview_request", "preview_retry", "previews_build_due"]
