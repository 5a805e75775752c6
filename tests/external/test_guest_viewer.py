"""The card's pdf.js viewer on the guest page (issue 9 item 2): the guest's own
files only, through the guest session, with the download's safe headers; without
JavaScript the page still offers the download."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sogla.documents.models import FileVersion
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.workflow.models import Task, TaskState
from tests.conftest import MINIMAL_PDF, Tenant
from tests.documents.test_previews import build_all, with_file
from tests.external.conftest import GUEST, deliver, guest_route, links_in, open_link
from tests.workflow.conftest import decide, publish, start

pytestmark = pytest.mark.django_db


def _guest_with_a_pdf(tenant: Tenant, staff: dict[str, Any]) -> tuple[FileVersion, str]:
    template = publish(tenant, guest_route(staff))
    document = document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": "Supply", "amount": "1000.00"},
        files=[
            NewFile(
                bytes_upload("contract_file", "contract.pdf", MINIMAL_PDF),
                "contract_file",
            )
        ],
    )
    process = start(tenant, template, document)
    head = Task.objects.get(
        process=process, assignee=staff["head"], state=TaskState.OPEN
    )
    decide(staff["head"], head)
    token = links_in([m for m in deliver() if GUEST in m.to])[-1]
    return FileVersion.objects.get(file__document=document), token


def _urls(pk: int) -> list[str]:
    return [
        f"/g/files/{pk}/",
        f"/g/files/{pk}/viewer/",
        f"/g/files/{pk}/preview.pdf",
        f"/g/files/{pk}/image/",
    ]


def test_the_guest_sees_their_pdf_in_the_viewer(tenant_a, staff) -> None:
    own, token = _guest_with_a_pdf(tenant_a, staff)
    build_all()
    client = Client()
    open_link(client, token)
    page = client.get("/g/").content.decode()
    assert f'data-src="/g/files/{own.pk}/preview.pdf"' in page
    assert "sogla/dist/viewer.js" in page
    assert f'href="/g/files/{own.pk}/"' in page  # works without JavaScript too
    pdf = client.get(f"/g/files/{own.pk}/preview.pdf")
    assert pdf.status_code == 200
    assert pdf.getvalue() == MINIMAL_PDF
    assert pdf["Content-Type"] == "application/octet-stream"
    assert pdf["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in pdf["Content-Security-Policy"]
    assert pdf["Referrer-Policy"] == "no-referrer"
    assert pdf["Cache-Control"] in ("no-store", "private, no-store")
    part = client.get(f"/g/files/{own.pk}/viewer/", HTTP_HX_REQUEST="true")
    assert part.status_code == 286  # ready: htmx stops polling
    assert f'data-src="/g/files/{own.pk}/preview.pdf"' in part.content.decode()
    assert client.get(f"/g/files/{own.pk}/image/").status_code == 404  # not an image


def test_a_preview_in_the_making_is_polled(tenant_a, staff) -> None:
    own, token = _guest_with_a_pdf(tenant_a, staff)  # no build: still pending
    client = Client()
    open_link(client, token)
    page = client.get("/g/").content.decode()
    assert f'hx-get="/g/files/{own.pk}/viewer/"' in page
    assert client.get(f"/g/files/{own.pk}/preview.pdf").status_code == 404


def test_no_other_file_or_preview_is_reachable(tenant_a, staff, tenant_b) -> None:
    own, token = _guest_with_a_pdf(tenant_a, staff)
    neighbour = with_file(tenant_a, "other.pdf", MINIMAL_PDF + b"\n% other")
    foreign = with_file(tenant_b, "foreign.pdf", MINIMAL_PDF + b"\n% foreign")
    build_all()
    client = Client()
    open_link(client, token)
    others = [neighbour.pk, foreign.pk, 999999]
    answers = [client.get(url).status_code for pk in others for url in _urls(pk)]
    assert set(answers) == {404}
    # ?file= of another document is ignored: the page shows the guest's own
    page = client.get(f"/g/?file={neighbour.pk}").content.decode()
    assert f"/g/files/{neighbour.pk}/" not in page
    assert f'data-src="/g/files/{own.pk}/preview.pdf"' in page
    # without a guest session: nothing, not even the guest's own file
    anonymous = [Client().get(url).status_code for url in _urls(own.pk)]
    assert set(anonymous) == {401}
    print(
        f"Guest viewer scope: {len(answers)} URLs of other files tried, 0 answered; "
        f"{len(anonymous)} without a session, 0 answered"
    )
