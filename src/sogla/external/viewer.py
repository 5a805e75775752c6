"""The card's file viewer (``documents/partials/viewer.html``, pdf.js) on the guest
page: the same state, with every address under ``/g/`` (the guest cookie's path),
each served only after the guest session's check (``selectors.guest_file``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from sogla.documents.models import FileVersion
from sogla.documents.selectors import file_preview
from sogla.documents.viewer import ViewerState, viewer_state
from sogla.external.selectors import FileLine


@dataclass(frozen=True)
class GuestViewerState(ViewerState):
    @property
    def part_url(self) -> str:
        return reverse("external:file_viewer", args=[self.version.pk])

    @property
    def pdf_url(self) -> str:
        return reverse("external:file_preview_pdf", args=[self.version.pk])

    @property
    def image_url(self) -> str:
        return reverse("external:file_preview_image", args=[self.version.pk])

    @property
    def download_url(self) -> str:
        return reverse("external:file", args=[self.version.pk])


def guest_viewer(version: FileVersion) -> GuestViewerState:
    """The viewer of a version the guest may see (the caller checked it)."""
    state = viewer_state(version, file_preview(version))
    return GuestViewerState(state.version, state.preview, state.mode, state.reason)


def chosen_file(files: list[FileLine], wanted: str) -> FileLine | None:
    """The file the page shows in the viewer: ``?file=<version id>`` when it is one
    of the guest's files, else the first PDF, else the first file."""
    if wanted.isdigit():
        for line in files:
            if line.version_id == int(wanted):
                return line
    return next((f for f in files if f.is_pdf), files[0] if files else None)


def page_viewer(
    organisation_id: int, files: list[FileLine], wanted: str
) -> GuestViewerState | None:
    """The guest page's viewer: ``files`` are the guest's own (``GuestPage.files``),
    so choosing among them is the permission check (one query: the preview)."""
    shown = chosen_file(files, wanted)
    if shown is None:
        return None
    version = shown.row or FileVersion.objects.get(
        pk=shown.version_id, organisation_id=organisation_id
    )
    return guest_viewer(version)
