"""A walk through the main pages and the mails in Russian and in English, looking
for the words a new user tripped over (issue 13, item 14; issue 12, item 7).

Before: a department's code («engineering») where its name belonged, the engine's
English reasons under ``ru``, English text in Russian guillemets, titles repeating
the number next to it («Д-2026-00007 Договор Д-2026-00007 с …»), notifications that
named only the number, the task backend's admin section in English and
«Добавить организация».
"""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from sogla.documents.models import Document
from sogla.notifications.messages import build_email
from sogla.notifications.models import Notification
from sogla.orgs.models import Department, User
from sogla.workflow.models import Process
from tests.conftest import Tenant
from tests.factories import UserFactory
from tests.workflow.conftest import approve, make_document, publish, route, stage

pytestmark = pytest.mark.django_db

# English words of the engine, the resolver and Django that must not reach a
# Russian reader.
ENGLISH_UNDER_RU = (
    "condition not met",
    "will be skipped",
    "nobody to assign",
    "has no head",
    "nobody active",
    "Deadline",
    "few data",
    "Organisation:",
    "Tasks Database Backend",
    "Task Results",
    "Approved:",
    "Approval needed",
)


def client_of(user: User, language: str) -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def visible(page: str) -> str:
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<title>.*?</title>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def walk(tenant_a: Tenant) -> tuple[Document, User]:
    """A contract titled with its number, by an initiator of «Инженерная служба»
    (code engineering), on a route whose second stage reads the department and
    whose third asks the head of a department that has none."""
    head = UserFactory(organisation=tenant_a.org, username="alpha-eng-head")
    engineering = Department.objects.create(
        organisation=tenant_a.org,
        code="engineering",
        name="Инженерная служба",
        name_en="Engineering service",
        head=head,
    )
    Department.objects.create(
        organisation=tenant_a.org, code="legal", name="Юридический отдел"
    )
    tenant_a.initiator.department = engineering
    tenant_a.initiator.save(update_fields=["department"])
    tenant_a.contract.title_template = "Договор {number}: {subject}"
    tenant_a.contract.save(update_fields=["title_template"])
    publish(
        tenant_a,
        route(
            stage("first", approve("h", {"department_head": "initiator"})),
            stage(
                "engineers",
                approve("e", {"user": head.username}),
                when={
                    "field": "initiator.department",
                    "op": "eq",
                    "value": "legal",
                },
            ),
            stage("lawyers", approve("l", {"department_head": "legal"})),
        ),
    )
    document = make_document(tenant_a)
    client_of(tenant_a.initiator, "en").post(
        reverse("workflow:start", args=[document.pk]), {"route": "contract-route"}
    )
    assert Process.objects.filter(document=document).exists()
    document.refresh_from_db()
    assert document.number in document.title  # the title repeats the number
    return document, head


def pages(tenant: Tenant, document: Document, head: User) -> list[tuple[User, str]]:
    card = reverse("documents:card", args=[document.pk])
    return [
        (tenant.initiator, card),
        (tenant.initiator, card + "?tab=history"),
        (head, card),
        (head, reverse("workflow:inbox")),
        (tenant.initiator, reverse("workflow:inbox") + "?tab=started"),
        (head, reverse("notifications:list")),
        (tenant.admin, reverse("accounts:people")),
        (tenant.admin, reverse("reports:page")),
        (tenant.initiator, reverse("documents:registry")),
        (tenant.initiator, reverse("documents:registry") + "?mode=compact"),
        (
            tenant.initiator,
            reverse("documents:registry")
            + f"?mode=kanban&type={document.doc_type.key}",
        ),
        # the settings screens show codes on purpose: routes refer to them
    ]


@pytest.mark.parametrize("mode", ["table", "compact"])
def test_the_registry_says_a_title_without_its_number(
    tenant_a: Tenant, walk: tuple[Document, User], mode: str
) -> None:
    document, _head = walk
    url = reverse("documents:registry") + f"?mode={mode}"
    text = visible(client_of(tenant_a.initiator, "ru").get(url).content.decode())
    assert document.number in text
    assert f"Договор {document.number}" not in text  # the title beside it, said once


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_main_pages_say_names_in_the_readers_language(
    tenant_a: Tenant, walk: tuple[Document, User], language: str
) -> None:
    document, head = walk
    repeated = f"{document.number} Договор {document.number}"
    for user, url in pages(tenant_a, document, head):
        answer = client_of(user, language).get(url)
        assert answer.status_code == 200, url
        text = visible(answer.content.decode())
        assert not re.search(r"\bengineering\b", text), (url, "a code is shown")
        assert repeated not in text, (url, "the number twice")
        if language == "ru":
            found = [w for w in ENGLISH_UNDER_RU if w in text]
            assert found == [], (url, found)
        else:
            assert "«" not in text, (url, "Russian guillemets in English")
            assert "Инженерная служба" not in text, (url, "the Russian name")
    page = (
        client_of(tenant_a.initiator, language)
        .get(reverse("documents:card", args=[document.pk]))
        .content.decode()
    )
    heading = page[page.index("<h1") : page.index("</h1>")]
    assert document.number not in heading  # shown beside it, said once
    card = visible(page)
    name = "Инженерная служба" if language == "ru" else "Engineering service"
    assert name in card


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_mails_name_the_number_and_the_title_once(
    tenant_a: Tenant, walk: tuple[Document, User], language: str
) -> None:
    document, head = walk
    head.language = language
    head.save(update_fields=["language"])
    row = Notification.objects.filter(recipient_user=head).first()
    assert row is not None
    mail = build_email(row, None)
    subject_words = mail.subject
    assert document.number in subject_words
    assert "Supply" in subject_words  # the title, not only the number
    assert subject_words.count(document.number) == 1
    body = str(mail.body)
    assert f"{document.number} Договор {document.number}" not in body
    assert "engineering" not in body
    if language == "ru":
        assert [w for w in ENGLISH_UNDER_RU if w in subject_words + body] == []


def test_the_russian_admin_speaks_russian(tenant_a: Tenant) -> None:
    root = User.objects.create_superuser("root", "root@example.com", "x")
    index = visible(client_of(root, "ru").get("/admin/").content.decode())
    assert "Tasks Database Backend" not in index
    assert "Фоновые задачи" in index
    add = visible(
        client_of(root, "ru").get("/admin/orgs/organisation/add/").content.decode()
    )
    assert "Добавить организация" not in add
    assert "Добавить: организация" in add
    department = visible(
        client_of(root, "ru").get("/admin/orgs/department/add/").content.decode()
    )
    assert "Organisation:" not in department
    assert "Организация:" in department
