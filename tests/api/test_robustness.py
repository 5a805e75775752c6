"""Every operation, fed malformed input, answers a declared 4xx in the error format.

A small deterministic stand-in for a schemathesis run (T48): no server errors, no
undocumented status codes, every error body has the same shape.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import API, token_client
from tests.conftest import Tenant

BAD_IDS = ["abc", "99999999999999999999", "-1", "0", "1.5", "%00"]
BAD_BODIES: list[Any] = [
    None,
    [],
    "text",
    12,
    {},
    {"unexpected": 1},
    {"name": "x" * 5000},
]
BAD_QUERIES = [
    {"limit": "-5"},
    {"limit": "99999999999999999999"},
    {"counterparty": "99999999999999999999"},
    {"created_from": "2025-13-45"},
    {"q": "\x00" + "я" * 300},
    {"cursor": "x" * 600},
    {"mine": "maybe"},
]


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = Client().get(f"{API}/openapi.json").json()
    return [
        (method, path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    ]


def _check(response: Any, op: dict[str, Any], what: str) -> None:
    status = response.status_code
    assert status < 500, what
    assert str(status) in op["responses"], f"{what}: undocumented {status}"
    if 400 <= status < 500:
        body = response.json()
        assert set(body) == {"errors"}, what
        for error in body["errors"]:
            assert set(error) == {"field", "code", "message"}, what
            assert all(isinstance(v, str) for v in error.values()), what
            assert error["message"], what


@pytest.mark.slow  # a stress test (malformed input to every operation)
@pytest.mark.django_db
def test_malformed_input_never_breaks_an_operation(tenant_a: Tenant) -> None:
    api = token_client(tenant_a.initiator)
    calls = 0
    for method, path, op in _operations():
        params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        paths = [path]
        if params:
            paths = [
                path.replace("{" + params[0] + "}", bad).replace("/api/v1", "")
                for bad in BAD_IDS
            ]
        else:
            paths = [path.replace("/api/v1", "")]
        for url in paths:
            if method in {"post", "patch", "put"}:
                for body in BAD_BODIES:
                    response = api.client.generic(
                        method.upper(),
                        API + url,
                        json.dumps(body) if body is not None else "",
                        content_type="application/json",
                        headers=api.headers,
                    )
                    _check(response, op, f"{method} {url} {body!r}"[:200])
                    calls += 1
            else:
                for query in [{}, *BAD_QUERIES]:
                    response = api.client.generic(
                        method.upper(),
                        API + url,
                        headers=api.headers,
                        QUERY_STRING=_qs(query),
                    )
                    _check(response, op, f"{method} {url} {query!r}"[:200])
                    calls += 1
    assert calls > 200


def _qs(query: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(query)


@pytest.mark.django_db
def test_huge_ids_inside_fields_are_refused(tenant_a: Tenant) -> None:
    api = token_client(tenant_a.initiator)
    response = api.post(
        "/documents",
        {
            "doc_type": "contract",
            "fields": {"subject": "x", "amount": "1", "counterparty": 10**20},
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "counterparty"
