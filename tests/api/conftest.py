"""API test helpers: JSON clients authenticated by token or session."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sogla.orgs.models import User
from sogla.orgs.tokens import api_token_create
from tests.conftest import Tenant

API = "/api/v1"


class ApiClient:
    """A thin JSON client: ``get/post/patch/delete(path, body)`` -> (status, json)."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}

    def call(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {
            "headers": {**self.headers, **extra.pop("headers", {})}
        }
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        kwargs.update(extra)
        return getattr(self.client, method)(API + path, **kwargs)

    def get(self, path: str, **extra: Any) -> Any:
        return self.call("get", path, **extra)

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.call("post", path, body, **extra)

    def patch(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.call("patch", path, body, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self.call("delete", path, **extra)


def token_client(user: User) -> ApiClient:
    _token, raw = api_token_create(actor=user, name="test")
    return ApiClient(Client(), {"Authorization": f"Bearer {raw}"})


def session_client(user: User) -> ApiClient:
    client = Client()
    client.force_login(user)
    return ApiClient(client)


@pytest.fixture
def api_a(tenant_a: Tenant) -> ApiClient:
    """Tenant A's initiator with an API token."""
    return token_client(tenant_a.initiator)


def errors_by_field(response: Any) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json()["errors"]}
