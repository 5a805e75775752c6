"""The URL root (``ROOT_URLCONF``): every app's pages, the API, the admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from sogla.documents import urls as documents_urls
from sogla.site.api_urls import api
from sogla.web import pwa
from sogla.web.views import favicon
from sogla.workflow import urls as workflow_urls

# The registry and the card (workflow's pages) share the documents namespace.
documents_namespace = workflow_urls.document_pages + documents_urls.urlpatterns

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workflow:inbox"), name="home"),
    path("accounts/", include("sogla.orgs.urls")),
    path("", include((documents_namespace, "documents"))),
    path("", include("sogla.workflow.urls")),
    path("", include("sogla.notifications.urls")),
    path("", include("sogla.reports.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", favicon, name="favicon"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
]
