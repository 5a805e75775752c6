from django.urls import path

from sogla.workflow import views

app_name = "workflow"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/bulk/", views.inbox_bulk, name="bulk"),
    path("t/<int:pk>/", views.task_link, name="task_link"),  # the e-mailed link
    path("documents/<int:pk>/approval/start/", views.start, name="start"),
    path("documents/<int:pk>/approval/resubmit/", views.resubmit, name="resubmit"),
    path("documents/<int:pk>/approval/cancel/", views.cancel, name="cancel"),
    path("documents/<int:pk>/approval/remind/", views.remind, name="remind"),
    path("documents/<int:pk>/approval/resolve/", views.resolve, name="resolve"),
    path("tasks/<int:pk>/decide/", views.decide, name="decide"),
    path("tasks/<int:pk>/reassign/", views.reassign, name="reassign"),
]
