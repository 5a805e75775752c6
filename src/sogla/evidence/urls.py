from django.urls import path

from sogla.evidence import views

app_name = "evidence"
urlpatterns = [
    path("documents/<int:pk>/approval-sheet/", views.sheet, name="sheet"),
    path("documents/<int:pk>/stamped/", views.stamped, name="stamped"),
    path("v/<str:code>/", views.verify, name="verify"),
]
