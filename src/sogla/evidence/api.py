"""REST endpoints for the evidence of a document's approval: the approval sheet
(any time) and the stamped copy (once the approval ended approved). A document the
caller may not see, or another organisation's, answers 404."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from ninja import Query, Router, Schema

from sogla.api.auth import api_user as _user
from sogla.api.schemas import ERRORS, Id
from sogla.evidence import selectors, services
from sogla.evidence.responses import sheet_response, stamped_evidence

router = Router(tags=["evidence"])

PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "A PDF file (always an attachment)",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    }
}


class SheetQuery(Schema):
    lang: Literal["ru", "en"] | None = None


@router.get(
    "/documents/{document_id}/approval-sheet",
    response={200: None, **ERRORS},
    operation_id="approval_sheet",
    url_name="approval_sheet",
    summary="The approval sheet of the document's active or latest approval (PDF)",
    description=(
        "Every decision of every round with the person, role, outcome, comment, "
        "time with time zone, channel and confirmation, and the SHA-256 of each "
        "file decided on. `lang` defaults to the caller's language."
    ),
    openapi_extra=PDF_RESPONSE,
)
def approval_sheet(
    request: HttpRequest, document_id: Id, query: Query[SheetQuery]
) -> HttpResponse:
    process = selectors.process_for_user(_user(request), document_id)
    language = services.language_for(process, query.lang or _user(request).language)
    return sheet_response(process, language)


@router.get(
    "/documents/{document_id}/stamped-copy",
    response={302: None, **ERRORS},
    operation_id="stamped_copy",
    url_name="stamped_copy",
    summary="The stamped copy of the approved main PDF",
    description=(
        "Answers with a redirect to a short-lived download link of the stamped "
        "file version; 404 when the approval has not ended approved or the "
        "document had no PDF."
    ),
    openapi_extra={
        "responses": {302: {"description": "Redirect to the file's download link"}}
    },
)
def stamped_copy(request: HttpRequest, document_id: Id) -> HttpResponse:
    process = selectors.process_for_user(_user(request), document_id)
    evidence = stamped_evidence(process)
    return HttpResponseRedirect(
        reverse("api:file_download", args=[evidence.stamped_version_id])
    )
