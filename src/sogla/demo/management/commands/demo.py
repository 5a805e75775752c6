"""``sogla demo``: load the demo organisations and print who can sign in."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sogla.demo.services import DemoReport, demo_load


class Command(BaseCommand):
    help = (
        "Create the demo organisations (Argo and Beta) with people, counterparties, "
        "document types and sample documents. Safe to run again: only what is "
        "missing is added."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set the password of every demo user back to the demo password.",
        )

    def handle(self, *_args: Any, **options: Any) -> None:
        report = demo_load(reset_passwords=options["reset_passwords"])
        self._print(report)

    def _print(self, report: DemoReport) -> None:
        for org in report.organisations:
            added = ", ".join(
                f"{kind}: {count}" for kind, count in org.created.items() if count
            )
            self.stdout.write(
                _("%(name)s (%(slug)s): %(added)s")
                % {
                    "name": org.name,
                    "slug": org.slug,
                    "added": added or _("nothing to add, already loaded"),
                }
            )
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write("")
        self.stdout.write(
            _("Sign in as any of these users with the password “%(password)s”:")
            % {"password": report.password}
        )
        width = max((len(login.username) for login in report.logins), default=8) + 2
        for login in report.logins:
            roles = ", ".join(login.roles)
            if login.is_admin:
                roles = ", ".join(
                    filter(None, [_("organisation administrator"), roles])
                )
            mark = " " if login.password_set else "*"
            self.stdout.write(
                f" {mark}{login.organisation:<5} {login.username:<{width}}"
                f"{login.full_name} — {roles or '-'}"
            )
        if not all(login.password_set for login in report.logins):
            self.stdout.write(
                _(
                    "* existed before: the password was left as it was "
                    "(--reset-passwords sets it to the demo password again)."
                )
            )
        self.stdout.write("")
        self.stdout.write(
            self.style.WARNING(
                _(
                    "Warning: demo passwords are weak and known to everyone. Use the "
                    "demo only on a private machine, never on a server others can reach."
                )
            )
        )
