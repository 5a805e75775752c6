"""``sogla audit verify``: recompute the audit hash chains.

Exit code 0 when every chain is intact, 1 when one is broken (the organisation and
the first broken event are named).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sogla.core.audit import (
    HASH_MISMATCH,
    HEAD_MISMATCH,
    PREV_HASH_MISMATCH,
    SEQ_GAP,
    ChainReport,
    audit_verify,
)


def _problem_text(chain: ChainReport) -> str:
    texts = {
        SEQ_GAP: _("an event is missing or out of order"),
        PREV_HASH_MISMATCH: _("the link to the previous event does not match"),
        HASH_MISMATCH: _("the event was changed after it was written"),
        HEAD_MISMATCH: _("events were removed from or added to the end of the chain"),
    }
    return texts.get(chain.problem, chain.problem)


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` checks the hash chains."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser(
            "verify", help="Recompute every event hash and link; exit 1 when broken."
        )
        verify.add_argument(
            "--organisation", type=int, default=None, help="Check one organisation id."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify(organisation_id=options["organisation"])
        for chain in report.broken:
            self.stderr.write(
                _(
                    "Organisation «%(name)s» (id %(id)s): the audit chain is broken "
                    "at event %(seq)s: %(problem)s."
                )
                % {
                    "name": chain.organisation_name,
                    "id": chain.organisation_id,
                    "seq": chain.broken_seq,
                    "problem": _problem_text(chain),
                }
            )
        if not report.intact:
            raise CommandError(
                ngettext(
                    "%(count)s organisation has a broken audit chain.",
                    "%(count)s organisations have a broken audit chain.",
                    len(report.broken),
                )
                % {"count": len(report.broken)},
                returncode=1,
            )
        self.stdout.write(
            ngettext(
                "%(count)s event, chain intact",
                "%(count)s events, chain intact",
                report.events,
            )
            % {"count": report.events}
        )
