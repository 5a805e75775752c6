"""``sogla org``: what the server owner does with organisations from the shell.

* ``sogla org create --name "Romashka LLC" --admin-email anna@romashka.ru`` creates
  an organisation; its administrator gets an invitation e-mail (the link is also
  printed) and sets their own name and password.
* ``sogla org setup-code`` prints a new one-time code for first-run setup (the
  page at /accounts/setup/), replacing any earlier code.
* ``sogla org list`` lists the organisations.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sogla.core.errors import ValidationFailed
from sogla.orgs.mail import absolute, invitation_link, send_invitation
from sogla.orgs.models import Organisation
from sogla.orgs.people import NewOrganisation, organisation_create
from sogla.orgs.setup import setup_code_issue


class Command(BaseCommand):
    help = "Create organisations, print a first-run setup code, list organisations."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create", help="a new organisation and its administrator"
        )
        create.add_argument("--name", required=True)
        create.add_argument("--admin-email", required=True)
        create.add_argument("--admin-first-name", default="")
        create.add_argument("--admin-last-name", default="")
        create.add_argument("--language", default="ru", choices=["ru", "en"])
        sub.add_parser("setup-code", help="print a new first-run setup code")
        sub.add_parser("list", help="list the organisations")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "setup-code":
            code = setup_code_issue()
            self.stdout.write(
                f"First-run setup code: {code}\n"
                f"Open {absolute('/accounts/setup/')} and enter it (valid 24 hours)."
            )
        elif action == "list":
            for org in Organisation.objects.order_by("pk"):
                people = org.users.filter(is_active=True).count()
                self.stdout.write(f"{org.slug}\t{org.name}\t{people} people")
        else:
            self._create(options)

    def _create(self, options: dict[str, Any]) -> None:
        data = NewOrganisation(
            name=options["name"],
            language=options["language"],
            first_name=options["admin_first_name"],
            last_name=options["admin_last_name"],
            email=options["admin_email"],
        )
        try:
            org, admin, invitation, raw = organisation_create(data=data, how="command")
        except ValidationFailed as error:
            raise CommandError(
                "; ".join(f"{p.field}: {p.message}" for p in error.problems)
            ) from None
        sent = send_invitation(invitation, raw)
        self.stdout.write(self.style.SUCCESS(f"Created {org.name} ({org.slug})."))
        self.stdout.write(
            f"{'Invitation e-mailed to' if sent else 'Could not e-mail'} {admin.email}. "
            f"The administrator's link (works once): {invitation_link(raw)}"
        )
