from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from sogla.api.urls import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="documents:registry"), name="home"),
    path("accounts/", include("sogla.orgs.urls")),
    path("", include("sogla.documents.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
