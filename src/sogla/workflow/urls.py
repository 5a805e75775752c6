from django.urls import path

from sogla.workflow import pages, registry_pages, views, views_away, views_inbox

app_name = "workflow"
urlpatterns = [
    path("inbox/", views_inbox.inbox, name="inbox"),
    path("inbox/bulk/", views_inbox.inbox_bulk, name="bulk"),
    path("t/<int:pk>/", views.task_link, name="task_link"),  # the e-mailed link
    path("documents/<int:pk>/approval/start/", views.start, name="start"),
    path("documents/<int:pk>/approval/resubmit/", views.resubmit, name="resubmit"),
    path(
        "documents/<int:pk>/approval/withdraw/<int:task>/",
        views.withdraw,
        name="withdraw",
    ),
    path("documents/<int:pk>/approval/cancel/", views.cancel, name="cancel"),
    path("documents/<int:pk>/approval/remind/", views.remind, name="remind"),
    path("documents/<int:pk>/approval/resolve/", views.resolve, name="resolve"),
    path(
        "documents/<int:pk>/approval/participants/",
        views.participants,
        name="participants",
    ),
    path("tasks/<int:pk>/decide/", views.decide, name="decide"),
    path("tasks/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("away/", views_away.away, name="away"),
    path("away/<int:pk>/end/", views_away.away_end, name="away_end"),
]

# The registry and the card keep their names in the ``documents`` namespace: the
# root URLconf puts these beside ``sogla.documents.urls.urlpatterns``.
document_pages = [
    path("documents/", registry_pages.registry, name="registry"),
    path(
        "documents/export.<str:fmt>",
        registry_pages.registry_export,
        name="registry_export",
    ),
    path("documents/kanban/", registry_pages.kanban_column, name="kanban_column"),
    path("documents/<int:pk>/", pages.card, name="card"),
]
