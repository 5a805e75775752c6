from django.urls import path

from sogla.starter import views

app_name = "starter"
urlpatterns = [
    path("settings/templates/", views.library, name="library"),
    path("settings/templates/<slug:key>/", views.install, name="install"),
]
