"""A bounded schemathesis run over every operation of the OpenAPI schema (T48).

Fixed seed, a personal token, positive (valid by schema) and negative (invalid by
schema) cases for every operation, each checked with schemathesis' own checks: no
server error, the status and content type documented, the body as documented,
valid requests not refused for their shape, invalid ones not accepted. Prints
"N cases, 0 server errors" so the figure is in the suite's output.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from sogla.orgs.models import ApiToken
from sogla.orgs.tokens import api_token_create
from tests.api.conftest import token_client
from tests.api.test_documents_api import upload
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import CounterpartyFactory
from tests.workflow.conftest import approve, make_document, publish, route, stage

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402

SEED = 20261203
POSITIVE_PER_OPERATION = 10
NEGATIVE_PER_OPERATION = 6


# Refusals a static schema cannot foresee: the request is well formed, but names
# something this organisation does not have, breaks a rule of its own data, or carries
# content that is read only on arrival (docs/api.md, "Errors"). Each is a 422 with
# one of these (field, code) pairs; any other refusal of a valid request fails.
SEMANTIC = {
    ("doc_type", "unknown_type"),  # a document type key the organisation lacks
    ("route", "invalid"),  # a route not offered for this document
    ("cursor", "invalid"),  # a page link that was not issued by the server
    ("file", "file_type_not_accepted"),  # the type is read from the bytes
    ("file", "file_type_mismatch"),  # bytes that are not what the name says
    ("file", "empty_file"),
    ("file_id", "unknown_file"),  # a file of this document, by its id
    ("name", "duplicate"),  # a counterparty that exists already
    ("tax_id", "duplicate"),
    ("tax_id", "checksum"),  # digits that fail the INN check digits
    ("kpp", "invalid"),  # a KPP beside a 12-digit INN (persons have none)
    ("ogrn", "checksum"),
    ("text", "mention_refused"),  # "@name" of someone who may not see the document
    ("text", "too_many_mentions"),
    ("text", "required"),  # blank once the server strips it
    ("parent", "unknown_message"),  # a message of this document, by its id
}
SEMANTIC |= {
    ("parent", "invalid"),  # a parent department the organisation does not have
    ("members", "invalid"),  # people by id who are not in the organisation
    ("head", "invalid"),
    ("code", "duplicate"),
    ("key", "duplicate"),
    ("owner", "invalid"),  # a route owner (by id or username) who is not here
    # A step change with nothing in it: add, remove and due_at are each optional,
    # one of them is needed (the schema's description says so).
    ("add", "required"),
    ("add", "invalid"),  # people by id who are not in the organisation
    ("remove", "invalid"),
    ("due_for", "invalid"),
}
# Steps and people of a resubmission are those of the process's own route.
SEMANTIC_PREFIXES = ("changes.add.", "changes.remove.", "changes.due.")


def _semantic_refusal(response: Any, case: Any) -> bool:
    if response.status_code != 422:
        return False
    # A document's own fields (named by their keys) are defined by its type.
    own = set(case.body) if isinstance(case.body, dict) else set()
    fields = set(case.body.get("fields") or {}) if "fields" in own else set()
    errors = response.json().get("errors", [])
    return bool(errors) and all(
        (e["field"], e["code"]) in SEMANTIC
        or e["field"].split(".")[0] in fields
        or e["field"].startswith(SEMANTIC_PREFIXES)
        for e in errors
    )


class _Run:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.raw = ""
        self.cases = 0
        self.server_errors: list[str] = []
        self.failures: dict[str, str] = {}
        self.token()

    def token(self) -> str:
        """The run's token; issued again if a generated DELETE revoked it."""
        if (
            not self.raw
            or not ApiToken.objects.filter(
                user=self.tenant.initiator, revoked_at__isnull=True
            ).exists()
        ):
            ApiToken.objects.filter(user=self.tenant.initiator).delete()
            _token, self.raw = api_token_create(actor=self.tenant.initiator, name="st")
        return self.raw


def _known_ids(tenant: Tenant) -> dict[str, Any]:
    """Real objects, so that valid requests also reach past the 404s."""
    api = token_client(tenant.initiator)
    document = make_document(tenant)
    uploaded = upload(api, document.pk, "offer.pdf", MINIMAL_PDF)
    assert uploaded.status_code == 201, uploaded.content
    publish(tenant, route(stage("manager", approve("head", {"user": "alpha-head"}))))
    started = api.post(f"/documents/{document.pk}/process", {"route": "contract-route"})
    assert started.status_code == 201, started.content
    counterparty = CounterpartyFactory(organisation=tenant.org)
    posted = api.post(f"/documents/{document.pk}/messages", {"text": "Hello"})
    assert posted.status_code == 201, posted.content
    return {
        "document_id": document.pk,
        "counterparty_id": counterparty.pk,
        "version_id": uploaded.json()["id"],
        "process_id": started.json()["id"],
        "message_id": posted.json()["id"],
        "key": "contract-route",
    }


def _keep_the_test_connection() -> None:
    """The handler's end-of-request clean-up would close the test's database
    connection (on PostgreSQL); Django's test client reconnects it after each of its
    own requests, so it is taken off again before every case."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


@pytest.fixture
def wsgi_app(settings: Any) -> Any:
    settings.ALLOWED_HOSTS = ["*"]
    # The test's transaction must survive the handler's end-of-request clean-up.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _run_cases(run: _Run, label: str, cases: Any, count: int) -> None:
    @seed(SEED)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def check(case: Any) -> None:
        run.cases += 1
        headers = {"Authorization": f"Bearer {run.token()}"}
        _keep_the_test_connection()
        response = case.call(headers=headers)
        if response.status_code >= 500:
            run.server_errors.append(f"{label}: {response.status_code}")
            return
        try:
            case.validate_response(response, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                if failure.title == "Schema-valid request rejected" and (
                    _semantic_refusal(response, case)
                ):
                    continue
                key = f"{label}: {failure.title}"
                run.failures.setdefault(
                    key,
                    f"{response.status_code} {response.text[:300]}\n"
                    f"query={case.query} body={str(case.body)[:300]}",
                )
        except AssertionError as failure:
            run.failures.setdefault(f"{label}: {failure}", "")

    check()


@pytest.mark.django_db
def test_schemathesis_every_operation(tenant_a: Tenant, wsgi_app: Any) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    run = _Run(tenant_a)
    known = _known_ids(tenant_a)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30

    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        fixed = {
            p.name: known[p.name] for p in operation.path_parameters if p.name in known
        }
        modes = [
            (GenerationMode.POSITIVE, POSITIVE_PER_OPERATION),
            (GenerationMode.NEGATIVE, NEGATIVE_PER_OPERATION),
        ]
        for mode, count in modes:
            strategies = [operation.as_strategy(generation_mode=mode)]
            if fixed and mode is GenerationMode.POSITIVE:
                strategies.append(
                    operation.as_strategy(generation_mode=mode, path_parameters=fixed)
                )

            _run_cases(run, label, st.one_of(*strategies), count)

    print(f"\nschemathesis: {run.cases} cases, {len(run.server_errors)} server errors")
    assert run.server_errors == []
    assert run.failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in run.failures.items())
