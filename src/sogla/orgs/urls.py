from django.urls import path

from sogla.orgs import views

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
]
