"""REST endpoints for approvals, mounted as one router (tag ``approvals``):

- ``approvals``: routes of a document, its process and route map, history, the inbox,
  decisions, resubmission, cancellation, reminders, reassignment;
- ``routes``: route templates for administrators.

Thin: parse, call selectors and services, serialise. Ids of other organisations'
objects, of documents the caller may not see and of other people's tasks answer 404.
A command the process's state does not allow answers 409 with the refusal's code
(``task_closed`` names who decided). Every command passes the request's IP and user
agent for the audit log; decisions are recorded with the channel ``api``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Router

from sogla.api.errors import respond
from sogla.workflow.api import approvals, routes
from sogla.workflow.errors import WorkflowError

router = Router(tags=["approvals"])
router.add_router("", approvals.router)
router.add_router("", routes.router)


def install_errors(api: NinjaAPI) -> None:
    """Workflow refusals answer 409 with their code (before ApplicationError's 422)."""

    def on_workflow_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(api, request, 409, "", exc.code, str(exc.message))

    api.add_exception_handler(WorkflowError, on_workflow_error)


__all__ = ["install_errors", "router"]
