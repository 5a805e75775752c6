from django.urls import path

from sogla.documents import views

app_name = "documents"
urlpatterns = [
    path("documents/", views.registry, name="registry"),
    path("documents/new/", views.type_picker, name="new"),
    path("documents/new/<slug:key>/", views.document_create_view, name="create"),
    path("documents/<int:pk>/", views.card, name="card"),
    path("documents/<int:pk>/edit/", views.document_edit_view, name="edit"),
    path("documents/<int:pk>/archive/", views.archive, name="archive"),
    path("documents/<int:pk>/files/", views.file_upload, name="file_upload"),
    path("files/<int:version_pk>/download/", views.download, name="download"),
    path("counterparties/", views.counterparty_list, name="counterparty_list"),
    path(
        "counterparties/new/",
        views.counterparty_create_view,
        name="counterparty_create",
    ),
    path(
        "counterparties/search/",
        views.counterparty_search_view,
        name="counterparty_search",
    ),
    path(
        "counterparties/quick-create/",
        views.counterparty_quick_create,
        name="counterparty_quick_create",
    ),
    path(
        "counterparties/<int:pk>/",
        views.counterparty_detail,
        name="counterparty_detail",
    ),
]
