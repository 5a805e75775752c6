"""Through the views: a task's result file from the decision panel (S3 "Provide the
act"), and approvers opening a confidential type's document."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from sogla.core.models import AuditEvent
from sogla.documents.models import DocumentFile, FieldKind
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import User
from sogla.orgs.tokens import api_token_create
from sogla.workflow import services
from sogla.workflow.models import Process, Task, TaskState
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import DocumentTypeFactory, add_field
from tests.workflow.conftest import approve, person, publish, route, stage
from tests.workflow.screens.conftest import signed_in

pytestmark = pytest.mark.django_db


def upload(name: str = "act.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, "application/pdf")


@pytest.fixture
def act_process(tenant_a: Tenant) -> Process:
    """S3's last stage: the initiator must provide the act (a required file)."""
    add_field(tenant_a.contract, "act", FieldKind.FILE, label_en="Act")
    add_field(tenant_a.contract, "act_note", FieldKind.STRING, label_en="Act note")
    template = publish(
        tenant_a,
        route(
            stage(
                "waiting_act",
                {
                    "key": "provide_act",
                    "kind": "task",
                    "name": {"en": "Provide the act", "ru": "Предоставить акт"},
                    "assignee": {"initiator": True},
                    "fields": ["act", "act_note"],
                    "required_fields": ["act"],
                },
            )
        ),
    )
    document = document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={"subject": "Payment", "amount": "10"},
    )
    return services.process_start(
        actor=tenant_a.initiator, document=document, template=template
    )


def test_the_panel_offers_the_steps_file_field_and_requires_it(
    tenant_a: Tenant, act_process: Process
) -> None:
    client = signed_in(tenant_a.initiator)
    document = act_process.document
    task = Task.objects.get(process=act_process, state=TaskState.OPEN)
    card = client.get(reverse("documents:card", args=[document.pk]))
    html = card.content.decode()
    assert 'type="file" name="f-act"' in html
    # Required by the step, so it is marked required on the panel.
    panel = html[html.index(f'id="decision-{task.pk}"') :]
    act_field = panel[
        panel.index('id="field-act"') : panel.index('id="field-act_note"')
    ]
    assert 'class="required-mark"' in act_field
    note_field = panel[panel.index('id="field-act_note"') :]
    note_field = note_field[: note_field.index("</div>")]
    assert "required-mark" not in note_field
    # "Done" without the act: 422, the field is named, nothing changes.
    response = client.post(
        reverse("workflow:decide", args=[task.pk]),
        {"outcome": "done", "request_id": uuid.uuid4().hex, "f-act_note": "x"},
    )
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    task.refresh_from_db()
    assert task.state == TaskState.OPEN
    # With the act attached on the same form: stored as the field's file, done.
    response = client.post(
        reverse("workflow:decide", args=[task.pk]),
        {
            "outcome": "done",
            "request_id": uuid.uuid4().hex,
            "f-act_note": "original signed",
            "f-act": upload(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    task.refresh_from_db()
    assert task.state == TaskState.DONE
    act_process.refresh_from_db()
    assert act_process.status == "approved"
    file = DocumentFile.objects.get(document=document, field_key="act")
    assert file.versions.get().author_id == tenant_a.initiator.pk
    added = AuditEvent.objects.get(verb="document.file_version_added")
    assert added.payload["task"] == task.pk
    assert AuditEvent.objects.get(verb="task.decided").payload["files"] == {
        "act": file.versions.get().sha256
    }


def test_someone_elses_task_cannot_take_files(
    tenant_a: Tenant, act_process: Process
) -> None:
    task = Task.objects.get(process=act_process, state=TaskState.OPEN)
    response = signed_in(tenant_a.colleague).post(
        reverse("workflow:decide", args=[task.pk]),
        {"outcome": "done", "request_id": uuid.uuid4().hex, "f-act": upload()},
    )
    assert response.status_code == 404
    assert not DocumentFile.objects.filter(field_key="act").exists()


# --- participants of a confidential document's approval ------------------------------


def test_approvers_open_a_confidential_document_others_do_not(
    tenant_a: Tenant,
) -> None:
    secret = DocumentTypeFactory(
        organisation=tenant_a.org, key="salary", confidential=True
    )
    add_field(secret, "subject")
    approver = person(tenant_a, "approver")
    later = person(tenant_a, "later")
    stand_in_seat = person(tenant_a, "seat")
    template = services.route_template_create(
        actor=tenant_a.admin, doc_type=secret, key="salary", name_ru="З", name_en="S"
    )
    version = services.route_version_save_draft(
        actor=tenant_a.admin,
        template=template,
        definition=route(
            stage("first", approve("first", {"user": approver.username})),
            stage("second", approve("second", {"user": later.username})),
        ),
    )
    services.route_version_publish(actor=tenant_a.admin, version=version)
    document = document_create(
        actor=tenant_a.initiator,
        doc_type=secret,
        values={"subject": "Raise"},
        files=[NewFile(bytes_upload("files", "raise.pdf", MINIMAL_PDF))],
    )
    file_version = document.files.get().versions.get()
    services.process_start(
        actor=tenant_a.initiator, document=document, template=template
    )
    # a stand-in holds the approver's seat for one task: the seat sees it too
    task = Task.objects.get(process__document=document, assignee=approver)
    paths = [
        reverse("documents:card", args=[document.pk]),
        f"/files/{file_version.pk}/download/",
        f"/api/v1/documents/{document.pk}",
        f"/api/v1/files/{file_version.pk}/download",
    ]

    def statuses(user: User) -> list[int]:
        client = Client()
        client.force_login(user)
        return [client.get(p, follow=True).status_code for p in paths]

    def listed(user: User) -> bool:
        _token, raw = api_token_create(actor=user, name="t")
        items = (
            Client()
            .get("/api/v1/documents", headers={"Authorization": f"Bearer {raw}"})
            .json()["items"]
        )
        return document.pk in [d["id"] for d in items]

    assert statuses(tenant_a.colleague) == [404] * 4
    assert not listed(tenant_a.colleague)
    assert statuses(later) == [404] * 4  # the second stage has not opened yet
    assert statuses(approver) == [200] * 4
    assert listed(approver)
    assert statuses(stand_in_seat) == [404] * 4
    Task.objects.filter(pk=task.pk).update(on_behalf_of=stand_in_seat)
    assert statuses(stand_in_seat) == [200] * 4
    # Once decided, the approver still sees it (a past participant), listed once.
    Task.objects.filter(pk=task.pk).update(on_behalf_of=None)
    services.task_decide(
        actor=approver, task_id=task.pk, outcome="approve", request_id="r1"
    )
    assert statuses(approver) == [200] * 4
    assert statuses(later) == [200] * 4
    _token, raw = api_token_create(actor=approver, name="t2")
    items = (
        Client()
        .get("/api/v1/documents", headers={"Authorization": f"Bearer {raw}"})
        .json()["items"]
    )
    assert [d["id"] for d in items].count(document.pk) == 1
