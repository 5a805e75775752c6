"""The discussion's REST endpoints: list, post, edit, delete; refusals with the
field named; ids of other organisations' documents answer 404."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from sogla.discussion import services
from sogla.discussion.models import Message
from sogla.documents.uploads import bytes_upload
from tests.api.conftest import errors_by_field, token_client
from tests.conftest import MINIMAL_PDF, Tenant
from tests.workflow.conftest import make_document


def test_post_list_edit_delete(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    api = token_client(tenant_a.initiator)
    url = f"/documents/{document.pk}/messages"
    posted = api.post(
        url,
        {"text": f"**Look** @{tenant_a.colleague.username}", "for_guests": True},
    )
    assert posted.status_code == 201, posted.content
    body = posted.json()
    assert body["html"].startswith("<p><strong>Look</strong>")
    assert body["mentions"] == [tenant_a.colleague.pk]
    assert body["for_guests"] is True
    assert body["deleted"] is False
    reply = api.post(url, {"text": "reply", "parent_id": body["id"]})
    assert reply.json()["parent_id"] == body["id"]
    listed = api.get(url).json()
    assert [m["id"] for m in listed] == [body["id"], reply.json()["id"]]
    edited = api.patch(f"{url}/{body['id']}", {"text": "changed"})
    assert edited.status_code == 200
    assert edited.json()["text"] == "changed"
    assert edited.json()["edited_at"] is not None
    assert api.delete(f"{url}/{body['id']}").status_code == 204
    gone = api.get(url).json()[0]
    assert gone["deleted"] is True
    assert gone["text"] is None


def test_refusals_name_the_field(tenant_a: Tenant, tenant_b: Tenant) -> None:
    document = make_document(tenant_a)
    api = token_client(tenant_a.initiator)
    url = f"/documents/{document.pk}/messages"
    assert errors_by_field(api.post(url, {"text": " "})) == {"text": "required"}
    too_long = api.post(url, {"text": "x" * 10_001})
    assert too_long.status_code == 422
    assert errors_by_field(too_long) == {"text": "too_long"}
    outsider = api.post(url, {"text": f"@{tenant_b.colleague.username}"})
    assert outsider.status_code == 422
    assert errors_by_field(outsider) == {"text": "mention_refused"}
    assert f"@{tenant_b.colleague.username}" in outsider.json()["errors"][0]["message"]
    unknown_parent = api.post(url, {"text": "x", "parent_id": 2**40})
    assert errors_by_field(unknown_parent) == {"parent": "unknown_message"}
    assert api.post(url, {"text": "x", "extra": 1}).status_code == 422
    assert not Message.objects.exists()


def test_someone_elses_message_and_the_edit_window(tenant_a: Tenant) -> None:
    document = make_document(tenant_a)
    message = services.message_post(
        actor=tenant_a.initiator, document=document, text="mine"
    )
    url = f"/documents/{document.pk}/messages/{message.pk}"
    other = token_client(tenant_a.colleague)
    refused = other.patch(url, {"text": "theirs"})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "not_author"
    assert other.delete(url).status_code == 403
    api = token_client(tenant_a.initiator)
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        late = api.patch(url, {"text": "late"})
    assert late.status_code == 403
    assert late.json()["errors"][0]["code"] == "edit_window_closed"
    assert Message.objects.get().text == "mine"


def test_other_tenants_get_404_and_files_download(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    document = make_document(tenant_a)
    message = services.message_post(
        actor=tenant_a.initiator,
        document=document,
        text="with a file",
        files=[bytes_upload("files", "a.pdf", MINIMAL_PDF)],
    )
    [stored] = message.files.all()
    api = token_client(tenant_a.colleague)
    [listed] = api.get(f"/documents/{document.pk}/messages").json()
    download = listed["files"][0]["download_url"]
    got = api.client.get(download, headers=api.headers)
    assert got.status_code == 200
    assert got.getvalue() == MINIMAL_PDF
    outsider = token_client(tenant_b.admin)
    assert outsider.get(f"/documents/{document.pk}/messages").status_code == 404
    assert outsider.get(f"/message-files/{stored.pk}/download").status_code == 404
    assert (
        outsider.post(f"/documents/{document.pk}/messages", {"text": "x"}).status_code
        == 404
    )
    assert (
        outsider.get("/documents/99999999999999999999999/messages").status_code == 422
    )
