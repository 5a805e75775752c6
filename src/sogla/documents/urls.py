"""The documents' own screens. The registry and the card (``documents:registry``,
``documents:card``) show approvals too and are ``sogla.workflow.pages``; the root
URLconf joins both lists under the ``documents`` namespace."""

from django.urls import path

from sogla.documents import views, views_compare, views_saved
from sogla.documents import views_counterparties as parties
from sogla.documents import views_previews as previews

app_name = "documents"
urlpatterns = [
    path("documents/new/", views.type_picker, name="new"),
    path("documents/views/save/", views_saved.saved_view_save_view, name="view_save"),
    path(
        "documents/views/<int:pk>/rename/",
        views_saved.saved_view_rename_view,
        name="view_rename",
    ),
    path(
        "documents/views/<int:pk>/delete/",
        views_saved.saved_view_delete_view,
        name="view_delete",
    ),
    path("documents/new/<slug:key>/", views.document_create_view, name="create"),
    path("documents/<int:pk>/edit/", views.document_edit_view, name="edit"),
    path("documents/<int:pk>/archive/", views.archive, name="archive"),
    path("documents/<int:pk>/files/", views.file_upload, name="file_upload"),
    path("documents/<int:pk>/compare/", views_compare.compare, name="compare"),
    path(
        "documents/<int:pk>/thumbnail.png",
        previews.document_thumbnail,
        name="document_thumbnail",
    ),
    path("files/<int:version_pk>/download/", views.download, name="download"),
    path("files/s/<str:token>/", views.signed_download, name="signed_download"),
    path("files/<int:version_pk>/preview/", previews.preview_part, name="preview"),
    path(
        "files/<int:version_pk>/preview.pdf",
        previews.preview_pdf,
        name="preview_pdf",
    ),
    path(
        "files/<int:version_pk>/thumbnail.png",
        previews.preview_thumbnail,
        name="preview_thumbnail",
    ),
    path("files/<int:version_pk>/image/", previews.preview_image, name="preview_image"),
    path("counterparties/", parties.counterparty_list, name="counterparty_list"),
    path(
        "counterparties/new/",
        parties.counterparty_create_view,
        name="counterparty_create",
    ),
    path(
        "counterparties/search/",
        parties.counterparty_search_view,
        name="counterparty_search",
    ),
    path(
        "counterparties/quick-create/",
        parties.counterparty_quick_create,
        name="counterparty_quick_create",
    ),
    path(
        "counterparties/<int:pk>/",
        parties.counterparty_detail,
        name="counterparty_detail",
    ),
]
