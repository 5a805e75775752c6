"""The REST API object with every app's router added (each app owns its router).

Mounted at ``/api/v1/`` (see ``sogla.site.urls``): OpenAPI at
``/api/v1/openapi.json``, Swagger UI at ``/api/v1/docs`` from ninja's bundled
static files.
"""

from ninja import NinjaAPI

from sogla.api import errors
from sogla.api.auth import AUTH
from sogla.discussion.api import router as discussion_router
from sogla.documents.api import router as documents_router
from sogla.evidence.api import router as evidence_router
from sogla.external.api import router as external_router
from sogla.notifications.api import router as notifications_router
from sogla.orgs.api import router as orgs_router
from sogla.orgs.api import settings_router as orgs_settings_router
from sogla.orgs.api.people import router as people_router
from sogla.workflow.api import install_errors as workflow_errors
from sogla.workflow.api import router as workflow_router

api = NinjaAPI(
    title="Sogla API",
    version="1",
    urls_namespace="api",
    auth=AUTH,
    description=(
        "Documents, files, counterparties and approvals of your organisation. "
        "Authenticate with `Authorization: Bearer <token>` (a personal token from "
        "your profile) or a "
        "browser session (unsafe methods then need the `X-CSRFToken` header). Every "
        '4xx answer has the body `{"errors": [{"field", "code", "message"}]}`.'
    ),
)
errors.install(api)
api.add_router("", orgs_router)
api.add_router("", orgs_settings_router)
api.add_router("", people_router)
api.add_router("", documents_router)
api.add_router("", workflow_router)
api.add_router("", notifications_router)
api.add_router("", external_router)
api.add_router("", evidence_router)
api.add_router("", discussion_router)
workflow_errors(api)
