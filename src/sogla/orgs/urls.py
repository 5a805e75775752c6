from django.urls import path

from sogla.orgs import reset, views, views_people

app_name = "accounts"
urlpatterns = [
    path("login/", views.SoglaLoginView.as_view(), name="login"),
    path("logout/", views.SoglaLogoutView.as_view(), name="logout"),
    path("password/", views.SoglaPasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        views.SoglaPasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("profile/", views.profile, name="profile"),
    path("language/", views.language, name="language"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path(
        "password/reset/",
        reset.SoglaPasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        reset.SoglaPasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        reset.SoglaPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        reset.SoglaPasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("setup/", views_people.setup, name="setup"),
    path("signup/", views_people.signup, name="signup"),
    path("signup/<str:token>/", views_people.signup_confirm, name="signup_confirm"),
    path("invitation/<str:token>/", views_people.invitation, name="invitation"),
    path("people/", views_people.people, name="people"),
    path("people/import/", views_people.people_import, name="people_import"),
    path("people/invite/", views_people.invite, name="invite"),
    path("people/<int:pk>/invite/", views_people.reinvite, name="reinvite"),
    path("people/<int:pk>/deactivate/", views_people.deactivate, name="deactivate"),
    path("people/<int:pk>/reactivate/", views_people.reactivate, name="reactivate"),
]
