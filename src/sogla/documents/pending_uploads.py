"""Files chosen in the new-document form survive a refusal for another field.

A browser forgets the files of a form the server sent back, so the server keeps the
uploads it accepted: each is stored under ``pending/<organisation>/<person>/`` in
the file storage and named in the re-rendered form by a signed token (the person,
the organisation, the field, the name, the size and the SHA-256). The next submit
sends the tokens back; each is verified (signature, age, the same person, the same
content), the file checked again like a new upload, and used as if chosen again.
The stored copies are deleted when the document is created, when the person
removes one, and after a day (swept whenever that person holds another file).
Nobody else can use a token: it names its person and organisation, and a path is
never taken from the request.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.core.files.storage import default_storage
from django.utils import timezone

from sogla.core.errors import ValidationFailed
from sogla.documents.uploads import CheckedUpload, bytes_upload
from sogla.orgs.models import User

SALT = "sogla.documents.pending-upload"
MAX_AGE = timedelta(days=1)
PREFIX = "pending"
MOST = 20  # tokens read from one submit (DATA_UPLOAD_MAX_NUMBER_FILES)


@dataclass(frozen=True)
class PendingFile:
    token: str
    field_key: str  # a file field's key, or "" for the general files
    name: str
    size: int


def _folder(user: User) -> str:
    return f"{PREFIX}/{user.organisation_id}/{user.pk}/"


def hold(user: User, field_key: str, upload: CheckedUpload) -> PendingFile:
    """Keep an accepted upload of a refused form; its token goes into the form."""
    _sweep(user)
    upload.content.seek(0)
    key = default_storage.save(f"{_folder(user)}{uuid.uuid4().hex}", upload.content)
    upload.content.seek(0)
    token = signing.dumps(
        {
            "o": user.organisation_id,
            "u": user.pk,
            "k": key,
            "f": field_key,
            "n": upload.name,
            "s": upload.size,
            "h": upload.sha256,
        },
        salt=SALT,
        compress=True,
    )
    return PendingFile(token, field_key, upload.name, upload.size)


def _read(user: User, token: str) -> dict[str, object] | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    key = str(data.get("k", ""))
    if (
        data.get("o") != user.organisation_id
        or data.get("u") != user.pk
        or not key.startswith(_folder(user))
        or ".." in key
    ):
        return None
    return data


def take(user: User, tokens: Iterable[str]) -> list[tuple[PendingFile, CheckedUpload]]:
    """The files the tokens name, checked again like new uploads; a token that does
    not verify, has expired, is another person's, or whose file is gone or changed
    is skipped."""
    found: list[tuple[PendingFile, CheckedUpload]] = []
    for token in list(dict.fromkeys(tokens))[:MOST]:
        data = _read(user, token)
        if data is None:
            continue
        field_key, name = str(data["f"]), str(data["n"])
        try:
            with default_storage.open(str(data["k"]), "rb") as stored:
                content = stored.read()
        except OSError:
            continue
        try:
            checked = bytes_upload(field_key or "files", name, content)
        except ValidationFailed:  # refused now (e.g. a lower limit): as if never kept
            continue
        if checked.sha256 != data["h"]:
            continue
        found.append(
            (PendingFile(token, field_key, checked.name, checked.size), checked)
        )
    return found


def release(user: User, tokens: Iterable[str]) -> None:
    """Delete the kept files the tokens name (used, or removed by the person)."""
    for token in tokens:
        data = _read(user, token)
        if data is not None:
            with contextlib.suppress(OSError):
                default_storage.delete(str(data["k"]))


def _sweep(user: User) -> None:
    """Delete this person's kept files older than a day (their tokens are dead)."""
    folder = _folder(user)
    try:
        _dirs, names = default_storage.listdir(folder)
    except OSError:
        return
    oldest = timezone.now() - MAX_AGE
    for name in names:
        try:
            if default_storage.get_modified_time(f"{folder}{name}") < oldest:
                default_storage.delete(f"{folder}{name}")
        except (OSError, NotImplementedError):
            continue
