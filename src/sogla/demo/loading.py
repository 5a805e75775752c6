"""What the phases of loading one demo organisation share: its data, the records
made or found so far (looked up by their stable keys), and the report of the run."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sogla.demo.schema import OrganisationBundle
from sogla.documents.models import Counterparty, DocumentType
from sogla.orgs.models import Department, Organisation, User
from sogla.workflow.models import RouteTemplate

logger = logging.getLogger(__name__)

# Deliberately weak and the same for everyone: the demo is for trying Sogla out on a
# private machine.
DEMO_PASSWORD = "demo"  # noqa: S105


class DemoDataError(Exception):
    """The demo data files contradict themselves (a bug in the data, not user input)."""


class MissingUser(Exception):
    """A sample refers to a demo user who could not be created (username taken)."""


@dataclass
class DemoLogin:
    organisation: str
    username: str
    full_name: str
    roles: list[str]
    is_admin: bool
    password_set: bool


@dataclass
class DemoOrganisationReport:
    slug: str
    name: str
    created: Counter[str] = field(default_factory=Counter)


@dataclass
class DemoReport:
    organisations: list[DemoOrganisationReport] = field(default_factory=list)
    logins: list[DemoLogin] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    password: str = DEMO_PASSWORD

    @property
    def created_anything(self) -> bool:
        return any(sum(org.created.values()) for org in self.organisations)


class Loading:
    """One organisation being loaded; each phase reads and adds to it."""

    org: Organisation  # set by the first phase
    today: date

    def __init__(
        self,
        bundle: OrganisationBundle,
        report: DemoReport,
        *,
        reset_passwords: bool,
        password_hash: str,
    ) -> None:
        self.data = bundle
        self.report = report
        self.reset_passwords = reset_passwords
        self.password_hash = password_hash
        self.org_report = DemoOrganisationReport(
            slug=bundle.organisation.slug, name=bundle.organisation.name
        )
        self.created = self.org_report.created
        self.departments: dict[str, Department] = {}
        self.users: dict[str, User] = {}
        self.new_users: set[str] = set()
        self.parties: dict[str, Counterparty] = {}
        self.new_types: dict[str, DocumentType] = {}
        self.templates: dict[str, RouteTemplate] = {}

    def warn(self, message: str) -> None:
        logger.warning("demo %s: %s", self.org_report.slug, message)
        self.report.warnings.append(f"{self.org_report.slug}: {message}")

    def user(self, username: str, what: str) -> User | None:
        """The demo user ``username``; None (with a warning) when it could not be made."""
        user = self.users.get(username)
        if user is None:
            if not any(p.username == username for p in self.data.organisation.users):
                raise DemoDataError(f"{what}: no demo user {username}")
            self.warn(f"{what}: user {username!r} is not in the organisation; skipped")
        return user
