from django.urls import path

from sogla.discussion import views

app_name = "discussion"
urlpatterns = [
    path("documents/<int:pk>/discussion/", views.page, name="page"),
    path("documents/<int:pk>/discussion/post/", views.post, name="post"),
    path(
        "documents/<int:pk>/discussion/<int:message_id>/edit/",
        views.edit,
        name="edit",
    ),
    path(
        "documents/<int:pk>/discussion/<int:message_id>/delete/",
        views.delete,
        name="delete",
    ),
    path("documents/<int:pk>/discussion/people/", views.people, name="people"),
    path("discussion/files/<int:file_id>/", views.attachment, name="file"),
]
