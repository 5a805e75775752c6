from django.urls import path

from sogla.external import views, views_card, views_files, views_sign

app_name = "external"

urlpatterns = [
    path("g/", views.page, name="page"),
    path("g/decide/", views.decide, name="decide"),
    path("g/confirm/", views.confirm, name="confirm"),
    path("g/language/", views.language, name="language"),
    path("g/leave/", views.leave, name="leave"),
    path("g/files/<int:version_id>/", views.download, name="file"),
    path("g/attachments/<int:file_id>/", views.attachment, name="attachment"),
    path(
        "g/files/<int:version_id>/viewer/", views_files.file_viewer, name="file_viewer"
    ),
    path(
        "g/files/<int:version_id>/preview.pdf",
        views_files.file_preview_pdf,
        name="file_preview_pdf",
    ),
    path(
        "g/files/<int:version_id>/image/",
        views_files.file_preview_image,
        name="file_preview_image",
    ),
    path("g/<str:token>/renew/", views.renew, name="renew"),
    path("g/<str:token>/", views.open_link, name="open"),
    path("tasks/<int:pk>/guest-link/", views_card.resend, name="resend"),
    path("tasks/<int:pk>/guest-link/revoke/", views_card.revoke, name="revoke"),
    path("tasks/<int:pk>/codes/unlock/", views_card.unlock, name="unlock"),
    path("tasks/<int:pk>/sign/", views_sign.task_sign, name="task_sign"),
]
