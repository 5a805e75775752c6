"""English names for the organisation and its departments, and reasons in the
reader's language that name departments, roles and fields, never their codes
(issue 12, item 7; issue 13, item 14).

Before, a department had one (Russian) name, so English readers saw «Инженерная
служба», and the card and the start preview said "department "engineering" has no
head" and «the initiator's department is «engineering»» in English under ``ru``.
"""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from sogla.orgs.models import Department, Role, User
from sogla.workflow.reason_words import Names, reason_in_words
from tests.conftest import Tenant
from tests.workflow.conftest import approve, make_document, publish, route, stage

pytestmark = pytest.mark.django_db


def client_of(user: User, language: str = "en") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def legal(tenant_a: Tenant) -> Department:
    tenant_a.department.name, tenant_a.department.name_en = "Отдел продаж", "Sales"
    tenant_a.department.save()
    return Department.objects.create(
        organisation=tenant_a.org,
        code="legal",
        name="Юридический отдел",
        name_en="Legal department",
    )


def test_the_settings_screen_sets_both_names(tenant_a: Tenant) -> None:
    admin = client_of(tenant_a.admin)
    answer = admin.post(
        "/settings/departments/",
        {"name": "Инженерная служба", "name_en": "Engineering", "code": "engineering"},
    )
    assert answer.status_code == 302
    department = Department.objects.get(organisation=tenant_a.org, code="engineering")
    assert (department.name, department.name_en) == ("Инженерная служба", "Engineering")
    admin.post(
        "/settings/departments/engineering/",
        {"name": "Инженерная служба", "name_en": "Engineering service"},
    )
    department.refresh_from_db()
    assert department.name_en == "Engineering service"
    assert "Engineering service" in admin.get("/settings/departments/").content.decode()


def test_the_english_interface_shows_the_english_name_falling_back_to_russian(
    tenant_a: Tenant, legal: Department
) -> None:
    with translation.override("en"):
        assert str(legal) == "Legal department"
        assert tenant_a.org.display_name == tenant_a.org.name  # no English name
    with translation.override("ru"):
        assert str(legal) == "Юридический отдел"
    tenant_a.org.name_en = "Alpha Ltd"
    tenant_a.org.save()
    with translation.override("en"):
        assert str(tenant_a.org) == "Alpha Ltd"
    people_url = reverse("accounts:people")
    english = words(client_of(tenant_a.admin).get(people_url).content.decode())
    assert "Sales" in english
    assert "Отдел продаж" not in english
    assert "Alpha Ltd" in english
    russian = words(client_of(tenant_a.admin, "ru").get(people_url).content.decode())
    assert "Отдел продаж" in russian


def preview_text(tenant: Tenant, language: str) -> str:
    document = make_document(tenant)
    url = reverse("documents:card", args=[document.pk]) + "?route=by-department"
    html = client_of(tenant.initiator, language).get(url).content.decode()
    part = html[html.index('id="route-preview"') :]
    return words(part[: part.index("</ol>")])


@pytest.mark.parametrize(
    ("language", "skipped", "no_head"),
    [
        (
            "en",
            "will be skipped unless the initiator's department is “Legal department”",
            "the department “Legal department” has no head",
        ),
        (
            "ru",
            "«Юридический отдел»",
            "у подразделения «Юридический отдел» нет руководителя",
        ),
    ],
)
def test_skip_and_resolver_reasons_name_the_department_in_the_readers_language(
    tenant_a: Tenant, legal: Department, language: str, skipped: str, no_head: str
) -> None:
    publish(
        tenant_a,
        route(
            stage("legal_head", approve("h", {"department_head": "legal"})),
            stage(
                "lawyers",
                approve("l", {"user": tenant_a.colleague.username}),
                when={"field": "initiator.department", "op": "eq", "value": "legal"},
            ),
        ),
        key="by-department",
    )
    text = preview_text(tenant_a, language)
    assert skipped in text
    assert no_head in text
    assert "«legal»" not in text
    assert "“legal”" not in text
    if language == "en":
        assert "«" not in text  # no Russian guillemets in English text
    assert '"legal"' not in text
    if language == "ru":
        assert "will be skipped" not in text
        assert "has no head" not in text


ENGINE_REASONS = [
    "nobody to assign",
    "the step has no assignee",
    "the quorum is 3 but only 2 people are assigned",
    'the field "designer" is empty',
    'the field "designer" does not name a person',
    'no user "иванов" in this organisation',  # a username is said as it is
    'nobody holds the role "lawyer"',
    "the document has no counterparty",
    "the initiator has no department",
    'no department "legal" in this organisation',
    'the department "legal" has no head',
    "the initiator has no manager 2 level(s) up",
    'the person in "designer" has no manager 1 level(s) up',
    'role "lawyer": nobody active to assign',
    'the head of "legal": nobody active to assign',
    "the manager of the initiator: nobody active to assign",
    'the field "guests": no e-mail address',
    "the counterparty's contacts: no e-mail address",
    'the date field "control_date" is empty',
    'the deadline field "due" is not a date',
]


@pytest.mark.parametrize("reason", ENGINE_REASONS)
def test_every_engine_and_resolver_reason_is_said_in_russian(
    tenant_a: Tenant, legal: Department, reason: str
) -> None:
    Role.objects.create(
        organisation=tenant_a.org, key="lawyer", name_ru="Юрист", name_en="Lawyer"
    )
    names = Names(
        tenant_a.org.pk,
        {
            "designer": "Дизайнер",
            "guests": "Гости",
            "control_date": "Контрольная дата",
            "due": "Срок",
        },
    )
    with translation.override("ru"):
        said = reason_in_words(reason, names)
    assert said != reason
    latin = re.findall(r"[A-Za-z]{3,}", said)
    assert latin == [], said  # no English words, no codes
    with translation.override("en"):
        english = reason_in_words(reason, names)
    assert "legal" not in english.replace("Legal department", "")


def test_the_demo_and_the_ready_templates_give_english_department_names() -> None:
    import json
    from pathlib import Path

    from sogla.starter.library import library_template, type_choices

    data = Path(__file__).resolve().parents[2] / "src/sogla/demo/data"
    for org in ("argo", "beta"):
        organisation = json.loads((data / org / "organisation.json").read_text())
        assert organisation["name_en"]
        assert all(d.get("name_en") for d in organisation["departments"])
    template = library_template("hiring")
    assert template is not None
    hiring = template.document_type
    choices = type_choices(
        hiring, [("it", "ИТ-отдел", "IT"), ("hr", "Отдел кадров", "")]
    )
    listed = next(c for c in choices.values() if c and c[0]["value"] == "it")
    assert listed[0] == {"value": "it", "ru": "ИТ-отдел", "en": "IT"}
    assert listed[1]["en"] == "Отдел кадров"  # no English name: the Russian one
