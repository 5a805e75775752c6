"""The Discussion tab of the card and the discussion's commands through the web."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from sogla.discussion import services
from sogla.discussion.models import Message, MessageFile
from tests.conftest import MINIMAL_PDF, Tenant
from tests.workflow.conftest import make_document

HX = {"HX-Request": "true", "HX-Target": "discussion"}


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def card(document_pk: int) -> str:
    return reverse("documents:card", args=[document_pk]) + "?tab=discussion"


def test_tab_lists_messages_and_marks_them_read(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    services.message_post(
        actor=tenant_a.colleague, document=document, text="**Question** about it"
    )
    client = signed_in(tenant_a.initiator)
    fields = client.get(reverse("documents:card", args=[document.pk]))
    assert "1 new" in fields.content.decode()
    html = client.get(card(document.pk)).content.decode()
    assert "<strong>Question</strong>" in html
    assert 'id="discussion"' in html
    again = client.get(reverse("documents:card", args=[document.pk])).content.decode()
    assert "1 new" not in again


def test_post_reply_edit_delete_through_forms(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    client = signed_in(tenant_a.initiator)
    url = reverse("discussion:post", args=[document.pk])
    answer = client.post(
        url,
        {
            "text": f"see @{tenant_a.colleague.username}",
            "files": SimpleUploadedFile("a.pdf", MINIMAL_PDF),
        },
    )
    assert answer.status_code == 302
    message = Message.objects.get()
    assert answer["Location"].endswith(f"?tab=discussion#m-{message.pk}")
    reply = client.post(url, {"text": "a reply", "parent": str(message.pk)}, headers=HX)
    assert reply.status_code == 200
    assert "a reply" in reply.content.decode()
    assert 'id="discussion-count" hx-swap-oob="true">2<' in reply.content.decode()
    edit = reverse("discussion:edit", args=[document.pk, message.pk])
    assert client.post(edit, {"text": "changed"}).status_code == 302
    assert Message.objects.get(pk=message.pk).text == "changed"
    delete = reverse("discussion:delete", args=[document.pk, message.pk])
    other = signed_in(tenant_a.colleague)
    assert other.post(delete).status_code == 403
    assert client.post(delete, headers=HX).status_code == 200
    html = client.get(card(document.pk)).content.decode()
    assert "message deleted" in html
    assert "changed" not in html


def test_errors_are_shown_in_place(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    client = signed_in(tenant_a.initiator)
    url = reverse("discussion:post", args=[document.pk])
    empty = client.post(url, {"text": "  "}, headers=HX)
    assert empty.status_code == 422
    assert "Write a message" in empty.content.decode()
    bad_file = client.post(
        url,
        {"text": "x", "files": SimpleUploadedFile("x.pdf", b"<html>not a pdf")},
        headers=HX,
    )
    assert bad_file.status_code == 422
    assert not Message.objects.exists()
    mention = client.post(url, {"text": "@stranger hello <b>kept</b>"})
    assert mention.status_code == 422
    body = mention.content.decode()
    assert "Cannot mention @stranger" in body
    assert "&lt;b&gt;kept&lt;/b&gt;" in body  # the text typed is kept, inert


def test_attachment_download_checks_access(tenant_a: Tenant, tenant_b: Tenant) -> None:
    document = make_document(tenant_a)
    client = signed_in(tenant_a.initiator)
    client.post(
        reverse("discussion:post", args=[document.pk]),
        {"text": "file", "files": SimpleUploadedFile("a.pdf", MINIMAL_PDF)},
    )
    stored = MessageFile.objects.get()
    url = reverse("discussion:file", args=[stored.pk])
    got = signed_in(tenant_a.colleague).get(url)
    assert got.status_code == 200
    assert got["Content-Disposition"].startswith("attachment")
    assert got["X-Content-Type-Options"] == "nosniff"
    assert signed_in(tenant_b.admin).get(url).status_code == 404


def test_people_to_mention_and_other_tenants(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    document = make_document(tenant_a)
    url = reverse("discussion:people", args=[document.pk])
    found = signed_in(tenant_a.initiator).get(url, {"q": "alpha-col"}).json()
    assert [p["username"] for p in found["people"]] == [tenant_a.colleague.username]
    outsider = signed_in(tenant_b.admin)
    assert outsider.get(url).status_code == 404
    assert outsider.get(card(document.pk)).status_code == 404
    assert (
        outsider.post(reverse("discussion:post", args=[document.pk]), {"text": "x"})
    ).status_code == 404
    assert not Message.objects.exists()


def test_inbox_shows_unread_messages_in_one_query(tenant_a: Tenant) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.workflow.conftest import approve, publish, route, stage, start

    head = tenant_a.department.head
    assert head is not None
    template = publish(
        tenant_a, route(stage("m", approve("h", {"user": head.username})))
    )
    documents = [make_document(tenant_a) for _ in range(3)]
    for document in documents:
        start(tenant_a, template, document)
    client = signed_in(head)
    url = reverse("workflow:inbox")
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for document in documents:
        services.message_post(actor=tenant_a.initiator, document=document, text="hi")
    services.message_post(actor=tenant_a.initiator, document=documents[0], text="2")
    with CaptureQueriesContext(connection) as after:
        html = client.get(url).content.decode()
    assert len(after) == len(before)  # the count is one aggregate, present either way
    assert html.count("bi-chat-dots") == 3  # one row markup for every width
    assert '2<span class="visually-hidden"> unread messages' in html


def test_russian_words(tenant_a: Tenant) -> None:
    tenant_a.org.language = "ru"
    tenant_a.org.save(update_fields=["language"])
    document = make_document(tenant_a)
    message = services.message_post(
        actor=tenant_a.initiator, document=document, text="x"
    )
    services.message_delete(
        actor=tenant_a.initiator, document=document, message_id=message.pk
    )
    html = signed_in(tenant_a.colleague).get(card(document.pk)).content.decode()
    assert "Обсуждение" in html
    assert "сообщение удалено" in html


def test_history_tells_of_the_discussion(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    services.message_post(actor=tenant_a.initiator, document=document, text="x")
    html = signed_in(tenant_a.initiator).get(
        reverse("documents:card", args=[document.pk]) + "?tab=history"
    )
    assert "wrote in the discussion" in html.content.decode()


def test_the_tab_queries_do_not_grow_with_messages(tenant_a: Tenant) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sogla.documents.uploads import bytes_upload

    def count(n: int) -> int:
        document = make_document(tenant_a)
        for i in range(n):
            first = services.message_post(
                actor=tenant_a.colleague,
                document=document,
                text=f"m{i} @{tenant_a.initiator.username}",
                files=[bytes_upload("files", "a.pdf", MINIMAL_PDF)],
            )
            services.message_post(
                actor=tenant_a.initiator,
                document=document,
                text="r",
                parent_id=first.pk,
            )
        client = signed_in(tenant_a.initiator)
        client.get(card(document.pk))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(card(document.pk)).status_code == 200
        return len(queries)

    assert count(2) == count(8)
