"""Filing a document into a folder: a route's ``file_to`` action.

The path is a template with the naming placeholders of titles plus
``{department}`` (the initiator's department) and ``{<user field>.department}``
(the department of the person in the field). Folders are created on first use.
"""

from __future__ import annotations

from typing import Any

from sogla.documents import naming
from sogla.documents.models import Counterparty, Document, Folder
from sogla.documents.services import folder_ensure, naming_values
from sogla.orgs.models import User

_PARTY_SEGMENTS = frozenset({"{counterparty}", "{counterparty.name}"})


def filing_values(document: Document, template: str) -> dict[str, object]:
    """What a ``file_to`` path may name: the document's naming values (as in
    titles), ``{department}`` = the initiator's department and
    ``{<user field>.department}`` = the department of the person in the field."""
    values = naming_values(document)
    initiator = document.initiator
    if initiator.department_id is not None and initiator.department is not None:
        values["department"] = initiator.department.name
    wanted = {
        name.rpartition(".")[0]
        for name in naming.placeholders(template)
        if name.endswith(".department")
    }
    ids = {
        key: value
        for key in wanted
        if isinstance(value := (document.fields or {}).get(key), int)
    }
    if ids:
        people = {
            u.pk: u
            for u in User.objects.filter(
                organisation_id=document.organisation_id, pk__in=ids.values()
            ).select_related("department")
        }
        for key, user_id in ids.items():
            person = people.get(user_id)
            if person is not None and person.department is not None:
                values[f"{key}.department"] = person.department.name
    party = document.counterparty if document.counterparty_id else None
    values["counterparty.name"] = party.name if party is not None else ""
    return values


def file_into(document: Document, template: str) -> dict[str, Any] | None:
    """File the document into the rendered folder, creating it on first use; the
    audit payload of ``process.filed``, or None when the path renders to nothing.

    When a path segment is the counterparty (``{counterparty}``), that folder is
    the counterparty's: it is remembered on the counterparty when first used,
    and reused later (even after the counterparty is renamed) when it sits in
    the same parent folder.
    """
    org_id = document.organisation_id
    parts = template.split("/")
    values = filing_values(document, template)
    rendered = [naming.render(part, values) for part in parts]
    path = naming.safe_folder_path("/".join(rendered))
    party = document.counterparty if document.counterparty_id else None
    at = next(
        (i for i, part in enumerate(parts) if part.strip() in _PARTY_SEGMENTS),
        None,
    )
    payload: dict[str, Any] = {}
    if party is not None and at is not None and rendered[at].strip():
        party_path = _party_folder(party, org_id, rendered[: at + 1], payload)
        rest = naming.safe_folder_path("/".join(rendered[at + 1 :]))
        path = f"{party_path}/{rest}" if rest else party_path
    folder = folder_ensure(organisation=org_id, path=path)
    if folder is None:
        return None
    Document.objects.filter(pk=document.pk).update(folder=folder)
    document.folder = folder
    return {"folder": folder.path, **payload}


def _party_folder(
    party: Counterparty, org_id: int, rendered: list[str], payload: dict[str, Any]
) -> str:
    """The counterparty's folder path: the one it remembers when it sits where the
    path puts it, else the rendered one (created and remembered)."""
    path = naming.safe_folder_path("/".join(rendered))
    remembered = (
        Folder.objects.filter(pk=party.folder_id, organisation_id=org_id).first()
        if party.folder_id is not None
        else None
    )
    if remembered is not None and (
        remembered.path.rpartition("/")[0] == path.rpartition("/")[0]
    ):
        path = remembered.path
    folder = folder_ensure(organisation=org_id, path=path)
    if folder is not None and remembered is None:
        Counterparty.objects.filter(pk=party.pk).update(folder=folder)
        party.folder = folder
        payload["counterparty_folder"] = folder.path
    return path
