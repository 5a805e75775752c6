"""The discussion's commands and queries (both databases): posting, replies,
mentions (only colleagues who may see the document), attachments through the upload
checks, the 15-minute edit window, deletion by the author, tags (file version and
route step), read marks and unread counts, guests' messages, the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from sogla.core.errors import PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.discussion import selectors, services
from sogla.discussion.models import MAX_TEXT, Message
from sogla.documents.models import Document
from sogla.documents.services import NewFile, file_add
from sogla.documents.uploads import bytes_upload
from sogla.notifications.models import Notification
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import DocumentTypeFactory
from tests.workflow.conftest import (
    approve,
    make_document,
    person,
    publish,
    route,
    stage,
    start,
)


def post(tenant: Tenant, document: Document, text: str, **kwargs: object) -> Message:
    actor = kwargs.pop("actor", tenant.initiator)
    return services.message_post(actor=actor, document=document, text=text, **kwargs)  # type: ignore[arg-type]


def test_post_reply_and_thread(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    first = post(tenant_a, document, "**Hello** _all_")
    reply = post(
        tenant_a, document, "a reply", parent_id=first.pk, actor=tenant_a.colleague
    )
    deeper = post(tenant_a, document, "to the reply", parent_id=reply.pk)
    assert deeper.parent_id == first.pk  # one level of threading
    assert "<strong>Hello</strong>" in first.html
    assert "<em>all</em>" in first.html
    thread = selectors.thread_for_card(user=tenant_a.initiator, document=document)
    assert [v.message.pk for v in thread.messages] == [first.pk]
    assert [v.message.pk for v in thread.messages[0].replies] == [reply.pk, deeper.pk]
    assert thread.total == 3


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "required"), ("   \n ", "required"), ("x" * (MAX_TEXT + 1), "too_long")],
)
def test_empty_or_oversized_is_refused_naming_the_field(
    tenant_a: Tenant, text: str, code: str
) -> None:
    document = make_document(tenant_a)
    with pytest.raises(ValidationFailed) as refused:
        post(tenant_a, document, text)
    [problem] = refused.value.problems
    assert (problem.field, problem.code) == ("text", code)
    assert not Message.objects.exists()


def test_exactly_the_limit_is_accepted(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    assert len(post(tenant_a, document, "y" * MAX_TEXT).text) == MAX_TEXT


def test_markup_and_scripts_are_inert(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    message = post(
        tenant_a,
        document,
        "<script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[click](javascript:alert(3)) [ok](https://example.org)",
    )
    assert "<script" not in message.html
    assert "<img" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "javascript:" not in message.html
    assert 'href="https://example.org"' in message.html


def test_mentions_notify_colleagues_once(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    colleague = tenant_a.colleague
    message = post(
        tenant_a, document, f"@{colleague.username} please look, @{colleague.username}"
    )
    assert message.mentions == [colleague.pk]
    assert 'class="mention"' in message.html
    [row] = Notification.objects.filter(kind="discussion.mention")
    assert row.recipient_user_id == colleague.pk
    assert row.document_id == document.pk
    assert row.context["excerpt"].startswith("@")
    # an edit that keeps the mention sends nothing new
    services.message_edit(
        actor=tenant_a.initiator,
        document=document,
        message_id=message.pk,
        text=f"@{colleague.username} please look again",
    )
    assert Notification.objects.filter(kind="discussion.mention").count() == 1


def test_mentions_of_other_organisations_and_outsiders_are_refused(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    document = make_document(tenant_a)
    for name in (tenant_b.colleague.username, "nobody-such"):
        with pytest.raises(ValidationFailed) as refused:
            post(tenant_a, document, f"hi @{name}")
        [problem] = refused.value.problems
        assert (problem.field, problem.code) == ("text", "mention_refused")
        assert f"@{name}" in str(problem.message)
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


def test_mention_of_someone_who_may_not_see_a_confidential_document(
    tenant_a: Tenant,
) -> None:
    secret_type = DocumentTypeFactory(
        organisation=tenant_a.org, key="secret", confidential=True
    )
    from sogla.documents.services import document_create

    document = document_create(
        actor=tenant_a.initiator, doc_type=secret_type, values={}
    )
    outsider = person(tenant_a, "outsider")
    with pytest.raises(ValidationFailed, match="mention"):
        post(tenant_a, document, f"@{outsider.username}")
    # the department head may see it (head of the document's department)
    head = tenant_a.department.head
    assert head is not None
    candidates = selectors.mention_candidates(
        user=tenant_a.initiator, document=document, query=""
    )
    assert outsider not in candidates


def test_edit_within_15_minutes_only_and_only_ones_own(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    message = post(tenant_a, document, "first words")
    with pytest.raises(PermissionDenied) as not_mine:
        services.message_edit(
            actor=tenant_a.colleague, document=document, message_id=message.pk, text="x"
        )
    assert not_mine.value.code == "not_author"
    edited = services.message_edit(
        actor=tenant_a.initiator,
        document=document,
        message_id=message.pk,
        text="better words",
        now=message.created_at + timedelta(minutes=14),
    )
    assert edited.text == "better words"
    assert edited.edited_at is not None
    with pytest.raises(PermissionDenied) as late:
        services.message_edit(
            actor=tenant_a.initiator,
            document=document,
            message_id=message.pk,
            text="too late",
            now=message.created_at + timedelta(minutes=15, seconds=1),
        )
    assert late.value.code == "edit_window_closed"
    assert Message.objects.get(pk=message.pk).text == "better words"


def test_delete_by_the_author_leaves_a_marker(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    message = post(tenant_a, document, "oops")
    with pytest.raises(PermissionDenied):
        services.message_delete(
            actor=tenant_a.colleague, document=document, message_id=message.pk
        )
    services.message_delete(
        actor=tenant_a.initiator, document=document, message_id=message.pk
    )
    thread = selectors.thread_for_card(user=tenant_a.colleague, document=document)
    [view] = thread.messages
    assert view.deleted
    assert thread.total == 0
    with pytest.raises(PermissionDenied):
        services.message_edit(
            actor=tenant_a.initiator, document=document, message_id=message.pk, text="x"
        )


def test_messages_of_another_document_are_not_found(tenant_a: Tenant) -> None:
    one, other = make_document(tenant_a), make_document(tenant_a)
    message = post(tenant_a, one, "here")
    with pytest.raises(ValidationFailed):
        post(tenant_a, other, "reply elsewhere", parent_id=message.pk)
    from sogla.core.errors import NotFound

    with pytest.raises(NotFound):
        services.message_delete(
            actor=tenant_a.initiator, document=other, message_id=message.pk
        )


def test_tags_file_version_and_route_step(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    file_add(
        actor=tenant_a.initiator,
        document=document,
        new=NewFile(bytes_upload("file", "offer.pdf", MINIMAL_PDF), ""),
    )
    template = publish(
        tenant_a,
        route(
            stage(
                "legal",
                approve("l", {"user": tenant_a.colleague.username}),
                name={"ru": "Юристы", "en": "Legal"},
            )
        ),
    )
    start(tenant_a, template, document)
    message = post(tenant_a, document, "on v1")
    assert message.file_version is not None
    assert message.file_version.version == 1
    assert message.step["key"] == "legal"
    assert message.step["round"] == 1
    assert message.step["en"] == "Legal"
    assert message.step["ru"] == "Юристы"


def test_attachments_pass_the_upload_checks(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    checked = bytes_upload("files", "note.pdf", MINIMAL_PDF)
    message = post(tenant_a, document, "see attached", files=[checked])
    [stored] = message.files.all()
    assert stored.mime_type == "application/pdf"
    assert default_storage.exists(stored.storage_key)
    with pytest.raises(ValidationFailed) as refused:
        bytes_upload("files", "evil.pdf", b"<html><script>alert(1)</script>")
    assert refused.value.problems[0].field == "files"
    assert selectors.attachment_get(user=tenant_a.colleague, pk=stored.pk) == stored


def test_unread_counts_and_marks(tenant_a: Tenant, tenant_b: Tenant) -> None:
    one, two = make_document(tenant_a), make_document(tenant_a)
    post(tenant_a, one, "a")
    post(tenant_a, one, "b")
    last = post(tenant_a, two, "c")
    reader = tenant_a.colleague
    counts = selectors.unread_counts(user=reader, document_ids=[one.pk, two.pk])
    assert counts == {one.pk: 2, two.pk: 1}
    # the author's own messages are never unread for them
    assert selectors.unread_counts(user=tenant_a.initiator, document_ids=[one.pk]) == {}
    services.discussion_mark_read(user=reader, document=two, last_id=last.pk)
    assert selectors.unread_counts(user=reader, document_ids=[one.pk, two.pk]) == {
        one.pk: 2
    }
    assert selectors.card_counts(user=reader, document=one) == (2, 2)
    # deleted messages are not unread; another organisation's reader counts nothing
    gone = post(tenant_a, one, "deleted")
    services.message_delete(actor=tenant_a.initiator, document=one, message_id=gone.pk)
    assert selectors.unread_counts(user=reader, document_ids=[one.pk]) == {one.pk: 2}
    assert (
        selectors.unread_counts(user=tenant_b.colleague, document_ids=[one.pk, two.pk])
        == {}
    )


def test_guests_see_only_messages_marked_for_them(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    post(tenant_a, document, "internal only")
    shown = post(tenant_a, document, "for guests", for_guests=True)
    gone = post(tenant_a, document, "for guests, then deleted", for_guests=True)
    services.message_delete(
        actor=tenant_a.initiator, document=document, message_id=gone.pk
    )
    assert [m.pk for m in selectors.guest_messages(document)] == [shown.pk]


def test_commands_are_audited(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    message = post(tenant_a, document, "audited")
    services.message_edit(
        actor=tenant_a.initiator, document=document, message_id=message.pk, text="b"
    )
    services.message_delete(
        actor=tenant_a.initiator, document=document, message_id=message.pk
    )
    verbs = list(
        AuditEvent.objects.filter(
            document_id=document.pk, verb__startswith="discussion."
        )
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "discussion.message_posted",
        "discussion.message_edited",
        "discussion.message_deleted",
    ]
    assert timezone.now() >= message.created_at
