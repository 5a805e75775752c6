"""The URL root (``ROOT_URLCONF``): every app's pages, the API, the admin."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from sogla.documents import urls as documents_urls
from sogla.documents import views_types as type_settings
from sogla.orgs import views_settings as org_settings
from sogla.site.api_urls import api
from sogla.web import pwa
from sogla.web.views import favicon
from sogla.workflow import urls as workflow_urls
from sogla.workflow import views_settings as route_settings

# The administration is Sogla's, in both languages (not «Администрирование Django»).
admin.site.site_header = "Sogla"
admin.site.site_title = "Sogla"
admin.site.index_title = _("Administration")

# The registry and the card (workflow's pages) share the documents namespace.
documents_namespace = workflow_urls.document_pages + documents_urls.urlpatterns

# The organisation settings: each app's screens under one namespace and one tab bar.
settings_pages = [
    path("settings/", RedirectView.as_view(pattern_name="settings:types"), name="home"),
    path("settings/types/", type_settings.types, name="types"),
    path("settings/organisation/", org_settings.organisation, name="organisation"),
    path("settings/types/<slug:key>/", type_settings.type_edit, name="type_edit"),
    path(
        "settings/types/<slug:key>/statuses/<slug:status>/remove/",
        type_settings.status_remove,
        name="status_remove",
    ),
    path("settings/departments/", org_settings.departments, name="departments"),
    path(
        "settings/departments/<slug:code>/",
        org_settings.department_edit,
        name="department_edit",
    ),
    path("settings/roles/", org_settings.roles, name="roles"),
    path("settings/roles/<slug:key>/", org_settings.role_edit, name="role_edit"),
    path("settings/positions/", org_settings.positions, name="positions"),
    path("settings/routes/", route_settings.routes, name="routes"),
    path(
        "settings/routes/<int:pk>/", route_settings.route_builder, name="route_builder"
    ),
    path(
        "settings/routes/<int:pk>/check/",
        route_settings.route_check,
        name="route_check",
    ),
    path(
        "settings/routes/<int:pk>/save/", route_settings.route_save, name="route_save"
    ),
    path(
        "settings/routes/<int:pk>/publish/",
        route_settings.route_publish,
        name="route_publish",
    ),
    path(
        "settings/routes/<int:pk>/simulate/",
        route_settings.route_simulate,
        name="route_simulate",
    ),
    path(
        "settings/routes/<int:pk>/export/",
        route_settings.route_export,
        name="route_export",
    ),
    path(
        "settings/routes/<int:pk>/import/",
        route_settings.route_import,
        name="route_import",
    ),
    path("settings/calendar/", org_settings.calendar, name="calendar"),
    path(
        "settings/calendar/<str:day>/remove/",
        org_settings.calendar_day_remove,
        name="calendar_day_remove",
    ),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workflow:inbox"), name="home"),
    path("accounts/", include("sogla.orgs.urls")),
    path("", include((documents_namespace, "documents"))),
    path("", include("sogla.workflow.urls")),
    path("", include("sogla.notifications.urls")),
    path("", include("sogla.reports.urls")),
    path("", include("sogla.starter.urls")),
    path("", include((settings_pages, "settings"))),
    path("", include("sogla.external.urls")),
    path("", include("sogla.evidence.urls")),
    path("", include("sogla.discussion.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", favicon, name="favicon"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
]
