"""What the card's viewer shows for one file version (``viewer_state``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from sogla.documents.models import FilePreview, FileVersion

_State = FilePreview.State


def no_preview_reason(code: str) -> str:
    """The words for a preview's failure reason (``documents.previews.NoPreview``)."""
    reasons = {
        "corrupt": _("the file is damaged or cannot be read"),
        "encrypted": _("the file is protected with a password"),
        "too_large": _("the file is too large to preview"),
        "timeout": _("converting it took too long"),
        "unsupported": _("there is no preview for this type of file"),
        "no_converter": _("the converter is not installed on the server"),
    }
    return reasons.get(code, _("the file could not be converted"))


@dataclass(frozen=True)
class ViewerState:
    version: FileVersion
    preview: FilePreview | None
    mode: str  # "preparing", "pdf", "image" or "none"
    reason: str = ""

    @property
    def preparing(self) -> bool:
        return self.mode == "preparing"

    @property
    def part_url(self) -> str:
        return reverse("documents:preview", args=[self.version.pk])

    @property
    def pdf_url(self) -> str:
        return reverse("documents:preview_pdf", args=[self.version.pk])

    @property
    def image_url(self) -> str:
        return reverse("documents:preview_image", args=[self.version.pk])

    @property
    def download_url(self) -> str:
        return reverse("documents:download", args=[self.version.pk])

    @property
    def pages(self) -> int:
        return self.preview.pages if self.preview else 0


def viewer_state(version: FileVersion, preview: FilePreview | None) -> ViewerState:
    if preview is None:  # every version gets a row when added; never stuck here
        return ViewerState(version, None, "none", no_preview_reason(""))
    if preview.state in (_State.PENDING, _State.WORKING):
        return ViewerState(version, preview, "preparing")
    if preview.state == _State.READY and preview.kind in ("pdf", "image"):
        return ViewerState(version, preview, preview.kind)
    return ViewerState(version, preview, "none", no_preview_reason(preview.reason))
