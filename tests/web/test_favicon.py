"""Pages without our icon link (the Django admin) ask for /favicon.ico."""

from __future__ import annotations

from django.test import Client


def test_favicon_ico_redirects_to_the_icon() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("sogla/favicon.svg")
