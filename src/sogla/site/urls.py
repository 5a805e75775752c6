"""The URL root (``ROOT_URLCONF``): every app's pages, the API, the admin."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from sogla.documents import urls as documents_urls
from sogla.site.api_urls import api
from sogla.web.views import favicon
from sogla.workflow import urls as workflow_urls

# The administration is Sogla's, in both languages (not «Администрирование Django»).
admin.site.site_header = "Sogla"
admin.site.site_title = "Sogla"
admin.site.index_title = _("Administration")

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
]
