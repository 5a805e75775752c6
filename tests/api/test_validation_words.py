"""API validation errors under ``Accept-Language: ru`` are Russian and name the field
(issue 13, item 14): schema errors found by pydantic as well as the services'."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [
        {"fields": []},  # doc_type missing, fields of the wrong type
        {"doc_type": "contract", "fields": {"amount": "12abc"}, "extra": 1},
        {"doc_type": 7, "fields": {}},
    ],
)
def test_every_validation_message_is_russian_and_names_its_field(
    api_a: ApiClient, body: dict[str, object]
) -> None:
    response = api_a.post("/documents", body, headers={"Accept-Language": "ru"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors
    for error in errors:
        assert error["field"], error
        assert re.search("[а-яА-Я]", error["message"]), error
        assert not re.search(
            r"\b(field|required|Input|valid|should)\b", error["message"]
        )
