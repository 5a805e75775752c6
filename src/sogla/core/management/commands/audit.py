"""``sogla audit verify``: recompute the audit hash chains, against the signed digest.
``sogla audit digest``: anchor and sign the chains' heads now (the worker does it daily).

``verify`` exits 0 when every chain is intact, 1 when one is broken (the
organisation, the chain and the first broken event are named) or the digest does not
match its signature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sogla.core.audit import (
    ANCHOR_MISMATCH,
    DIGEST_MISMATCH,
    HASH_MISMATCH,
    HEAD_MISMATCH,
    PREV_HASH_MISMATCH,
    SEQ_GAP,
    ChainReport,
    VerifyReport,
    audit_verify,
)
from sogla.core.audit_anchor import audit_digest_write
from sogla.core.audit_digest import DIGEST_SIGNATURE, read_digest
from sogla.core.audit_hash import chain_document


def _problem_text(chain: ChainReport, report: VerifyReport) -> str:
    texts = {
        SEQ_GAP: _("an event is missing or out of order"),
        PREV_HASH_MISMATCH: _("the link to the previous event does not match"),
        HASH_MISMATCH: _("the event was changed after it was written"),
        HEAD_MISMATCH: _("events were removed from or added to the end of the chain"),
        ANCHOR_MISMATCH: _(
            "events the organisation's chain anchored were removed or changed"
        ),
        DIGEST_MISMATCH: _(
            "events covered by the signed digest of %(time)s were removed or changed"
        )
        % {"time": report.digest.created_at if report.digest else ""},
    }
    return texts.get(chain.problem, chain.problem)


class Command(BaseCommand):
    help = (
        "Audit log tools. `audit verify` checks the hash chains; `audit digest` "
        "anchors and signs their heads now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser(
            "verify", help="Recompute every event hash and link; exit 1 when broken."
        )
        verify.add_argument(
            "--organisation", type=int, default=None, help="Check one organisation id."
        )
        verify.add_argument(
            "--digest",
            type=Path,
            default=None,
            help="Check against this signed digest (a file, or a mailed line saved "
            "as one) instead of the latest one in the digest folder.",
        )
        actions.add_parser(
            "digest", help="Anchor the documents' chains and write a signed digest now."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "digest":
            path = audit_digest_write()
            self.stdout.write(_("Signed digest written to %(path)s") % {"path": path})
            return
        given = options["digest"]
        report = audit_verify(
            organisation_id=options["organisation"],
            digest=read_digest(given) if given is not None else None,
        )
        for chain in report.broken:
            self.stderr.write(self._broken_text(chain, report))
        if report.intact:
            self.stdout.write(
                ngettext(
                    "%(count)s event, chain intact",
                    "%(count)s events, chain intact",
                    report.events,
                )
                % {"count": report.events}
            )
            self._report_digest(report)
            return
        self._report_digest(report)
        if not report.broken:
            raise CommandError(
                _("The audit log could not be checked against the signed digest."),
                returncode=1,
            )
        raise CommandError(
            ngettext(
                "%(count)s organisation has a broken audit chain.",
                "%(count)s organisations have a broken audit chain.",
                len(report.broken),
            )
            % {"count": len(report.broken)},
            returncode=1,
        )

    def _broken_text(self, chain: ChainReport, report: VerifyReport) -> str:
        values = {
            "name": chain.organisation_name,
            "id": chain.organisation_id,
            "seq": chain.broken_seq,
            "problem": _problem_text(chain, report),
            "document": chain_document(chain.chain),
        }
        if chain.chain:
            return (
                _(
                    "Organisation “%(name)s” (id %(id)s): the audit chain of document "
                    "%(document)s is broken at event %(seq)s: %(problem)s."
                )
                % values
            )
        return (
            _(
                "Organisation “%(name)s” (id %(id)s): the audit chain is broken "
                "at event %(seq)s: %(problem)s."
            )
            % values
        )

    def _report_digest(self, report: VerifyReport) -> None:
        digest = report.digest
        if digest is None:
            self.stdout.write(
                _(
                    "No signed digest yet: events written since the last one could be "
                    "removed unnoticed (the worker writes one daily; `sogla audit "
                    "digest` writes one now)."
                )
            )
        elif digest.problem == DIGEST_SIGNATURE:
            self.stderr.write(
                _(
                    "The signed digest %(source)s does not match its signature: it "
                    "was changed, or signed with another key than SOGLA_AUDIT_KEY."
                )
                % {"source": digest.source}
            )
        elif digest.problem:
            self.stderr.write(
                _("%(source)s is not a signed audit digest.")
                % {"source": digest.source}
            )
        else:
            self.stdout.write(
                _("Checked against the signed digest of %(time)s (%(source)s).")
                % {"time": digest.created_at, "source": digest.source}
            )
