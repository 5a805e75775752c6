"""What the discussion part shows a reader, for its own page and the card's tab;
reading it moves the reader's mark to the newest message."""

from __future__ import annotations

from typing import Any, TypeAlias

from sogla.discussion import selectors, services
from sogla.discussion.models import MAX_TEXT
from sogla.documents.models import Document
from sogla.orgs.models import User

# The document the views found through documents.access (they name no model).
DiscussedDocument: TypeAlias = Document


def thread_context(
    user: User,
    document: Document,
    *,
    errors: dict[str, list[str]] | None = None,
    posted: dict[str, str] | None = None,
    mark_read: bool = True,
) -> dict[str, Any]:
    """What ``discussion/partials/thread.html`` shows; the reader's marks move to
    the newest message (the card's Discussion tab and this page call it)."""
    thread = selectors.thread_for_card(user=user, document=document)
    if mark_read and thread.last_id:
        services.discussion_mark_read(
            user=user, document=document, last_id=thread.last_id
        )
    return {
        "document": document,
        "thread": thread,
        "discussion_errors": errors or {},
        "discussion_posted": posted or {},
        "max_text": MAX_TEXT,
    }
