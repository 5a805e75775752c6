"""Links to "what changed": the revision dialog after a return, and the decision panel
of a new round for someone who decided in an earlier one (issue 12 item 3)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from django.urls import reverse

from tests.documents.test_previews import build_all
from tests.workflow.screens.conftest import Flow, draft, signed_in
from tests.workflow.screens.test_approval_screens import (
    _pdf,
    card_url,
    decide,
    open_task,
    start,
)

SINCE = re.compile(
    r'href="(/documents/\d+/compare/\?since=[0-9.]+)" data-compare-since'
)


def test_revision_and_new_round_link_to_what_changed(flow: Flow) -> None:
    document = draft(flow.tenant)
    initiator = signed_in(flow.tenant.initiator)
    head = signed_in(flow.head)
    lawyer = signed_in(flow.lawyer)
    start(initiator, document)
    assert decide(head, open_task(document, flow.head.pk)).status_code == 302
    # No earlier decision of mine: no link in my first round.
    assert not SINCE.search(lawyer.get(card_url(document)).content.decode())
    task = open_task(document, flow.lawyer.pk)
    assert decide(lawyer, task, "return", "Clarify the penalty").status_code == 302

    initiator.post(
        reverse("documents:file_upload", args=[document.pk]),
        {"file_id": document.files.get().pk, "file": _pdf("contract-v2.pdf", b"%v2")},
    )
    dialog = initiator.get(card_url(document)).content.decode()
    assert "What changed since it was returned" in dialog
    link = SINCE.search(dialog)
    assert link
    initiator.post(
        reverse("workflow:resubmit", args=[document.pk]), {"comment": "Done"}
    )

    # Round 2: the manager decided in round 1, so the panel links to the changes.
    panel = head.get(card_url(document)).content.decode()
    assert "What changed since you last decided" in panel
    url = SINCE.search(panel)
    assert url
    since = float(parse_qs(urlparse(url.group(1)).query)["since"][0])
    task = open_task(document, flow.head.pk)
    assert task.round == 2
    first_decision = (
        type(task)
        .objects.filter(process=task.process, round=1, decided_by=flow.head)
        .get()
        .decided_at
    )
    assert first_decision is not None
    assert abs(since - first_decision.timestamp()) < 0.01
    build_all()  # the PDFs' text comes from their previews
    compare = head.get(url.group(1))
    assert compare.status_code == 200
    assert "v1 → v2" in compare.content.decode()
    # The decision panel names the version and opens it in the viewer.
    v2 = document.files.get().versions.get(version=2)
    assert f"?tab=files&amp;version={v2.pk}#viewer" in panel
