"""Which file versions an approval was given on, against the document's files now.

An approval carried over to a new round (``on_return.reask``
``not_approved_even_if_changed``) may have been given on files changed since: the
card says so («approved v1; v2 differs») with a link to the comparison of the two
versions (``documents:compare``), and the approval sheet names the versions.
One query for the document's versions, whatever the number of approvals asked about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from sogla.core.prepared import Prepared
from sogla.documents.models import FileVersion


@dataclass(frozen=True)
class VersionChange:
    """One file whose current version is not the one the approval was given on."""

    file_id: int
    name: str
    old: FileVersion | None  # None: the file was added since
    new: FileVersion | None  # None: the file was removed since


@dataclass(frozen=True)
class GivenOn:
    """What an approval given at ``at`` was given on, and what differs now."""

    changes: tuple[VersionChange, ...]
    several_files: bool
    compare_url: str

    @property
    def note(self) -> str:
        """«approved v1; v2 differs», per changed file ("" when nothing differs)."""
        return version_note(
            [
                (
                    c.name,
                    c.old.version if c.old else None,
                    c.new.version if c.new else None,
                )
                for c in self.changes
            ],
            several_files=self.several_files,
        )


def version_note(
    changes: Iterable[tuple[str, int | None, int | None]], *, several_files: bool
) -> str:
    """«approved v1; v2 differs» for (file name, old version, new version) rows
    (also said from the audit event's payload on the card's history)."""
    parts = []
    for name, old, new in changes:
        prefix = f"{name}: " if several_files else ""
        if old is not None and new is not None:
            parts.append(
                prefix
                + _("approved v%(old)s; v%(new)s differs") % {"old": old, "new": new}
            )
        elif new is not None:
            parts.append(_("approved before %(name)s was added") % {"name": name})
        else:
            parts.append(_("approved with %(name)s, removed since") % {"name": name})
    return "; ".join(parts)


def _latest(versions: list[FileVersion], at: datetime | None) -> FileVersion | None:
    """The file's version current at ``at`` (None: now); versions newest first."""
    return next((v for v in versions if at is None or v.created_at <= at), None)


# The card asks on every request with carried approvals: compiled once (ADR 0002).
_versions_prepared = Prepared(
    lambda org_id, document_id: (
        FileVersion.objects.for_org(org_id)
        .filter(file__document_id=document_id)
        .select_related("file")
        .order_by("file_id", "-version")
    ),
    arity=2,
)


def approvals_given_on(
    document_id: int, org_id: int, moments: Iterable[datetime]
) -> dict[datetime, GivenOn]:
    """For each moment an approval was given: the files that differ now."""
    wanted = set(moments)
    if not wanted:
        return {}
    by_file: dict[int, list[FileVersion]] = {}
    archived: dict[int, datetime | None] = {}
    names: dict[int, str] = {}
    for row in _versions_prepared.all(org_id, document_id):
        by_file.setdefault(row.file_id, []).append(row)
        archived[row.file_id] = row.file.archived_at
        names[row.file_id] = row.file.name
    found: dict[datetime, GivenOn] = {}
    for at in wanted:
        changes = []
        for file_id, versions in by_file.items():
            gone = archived[file_id]
            old = _latest(versions, at) if gone is None or gone > at else None
            new = _latest(versions, None) if gone is None else None
            if (old.pk if old else None) != (new.pk if new else None):
                changes.append(VersionChange(file_id, names[file_id], old, new))
        found[at] = GivenOn(
            tuple(changes),
            several_files=len(by_file) > 1,
            compare_url=_compare_url(document_id, changes),
        )
    return found


def _compare_url(document_id: int, changes: list[VersionChange]) -> str:
    """The comparison of the first file changed in place (old and new version)."""
    change = next((c for c in changes if c.old and c.new), None)
    if change is None or change.old is None or change.new is None:
        return ""
    query = urlencode(
        {"file": change.file_id, "old": change.old.pk, "new": change.new.pk}
    )
    return f"{reverse('documents:compare', args=[document_id])}?{query}"
