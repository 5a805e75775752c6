from django.urls import path

from sogla.reports import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.page, name="page"),
    path("reports/export/<slug:table>.<slug:fmt>", views.export, name="export"),
]
