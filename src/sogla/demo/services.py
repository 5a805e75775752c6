"""Loading the demo organisations from ``data/`` through the product's own services.

``demo_load`` is idempotent: it looks every record up by a stable key (organisation
slug, department code, username, role key, counterparty tax id, document type key)
and creates only what is missing. It never changes a record that already exists,
so whatever people did in the demo organisation survives a second run. The only
exception is asked for explicitly: ``reset_passwords`` sets the demo password again.

Sample documents come with their document type: they are created in the run that
creates the type, so a second run (or a type the administrator changed) adds none.
Route templates (``routes/*.json``) are created and published by the organisation's
administrator when no template has their key; a sample document with a ``process``
is started on its route and moved on by the decisions listed, through the workflow
services, so the inbox, the route map and the history have something to show.

The phases, in order, each in its module: ``organisation`` (the organisation, its
people, roles, folders and counterparties), ``document_types``, ``routes``,
``templates`` (the library templates it installs, ``sogla.starter``), its own
``document_types`` and ``routes``, ``samples`` (documents and processes);
``loading`` holds what they share.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from pydantic import ValidationError as PydanticValidationError

from sogla.demo.document_types import load_document_types
from sogla.demo.loading import (
    DEMO_PASSWORD,
    DemoDataError,
    DemoLogin,
    DemoOrganisationReport,
    DemoReport,
    Loading,
)
from sogla.demo.organisation import load_counterparties, load_organisation, logins
from sogla.demo.routes import load_routes
from sogla.demo.samples import load_documents
from sogla.demo.schema import DATA_DIR, read_bundles
from sogla.demo.templates import load_templates

__all__ = [
    "DEMO_PASSWORD",
    "DemoDataError",
    "DemoLogin",
    "DemoOrganisationReport",
    "DemoReport",
    "demo_load",
]


@transaction.atomic
def demo_load(
    *,
    reset_passwords: bool = False,
    data_dir: Path = DATA_DIR,
    today: date | None = None,
) -> DemoReport:
    """Create whatever is missing of the demo organisations; one transaction."""
    try:
        bundles = read_bundles(data_dir)
    except PydanticValidationError as error:
        raise DemoDataError(str(error)) from error
    report = DemoReport()
    # Hashed once (the same salt for all demo users, whose password is public anyway):
    # hashing twenty times would take seconds. Validators do not run on purpose.
    password_hash = make_password(DEMO_PASSWORD)
    for bundle in bundles:
        loading = Loading(
            bundle, report, reset_passwords=reset_passwords, password_hash=password_hash
        )
        _load(loading, today)
    return report


def _load(loading: Loading, today: date | None) -> None:
    """One organisation, phase by phase (each phase reads what the earlier made)."""
    load_organisation(loading, today)
    load_counterparties(loading)
    load_templates(loading)
    load_document_types(loading)
    load_routes(loading)
    load_documents(loading)
    loading.report.organisations.append(loading.org_report)
    loading.report.logins.extend(logins(loading))
