"""An approval with real PDFs: a three-page contract, two rounds (the lawyer
returns it once), the lawyer and the CEO approve."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from pypdf import PdfReader

from sogla.documents.models import Document, FileVersion
from sogla.documents.services import NewFile, document_create, file_add
from sogla.documents.uploads import bytes_upload
from sogla.evidence.pdfs import html_to_pdf
from sogla.orgs.models import User
from sogla.workflow import services
from sogla.workflow.models import Process
from tests.conftest import Tenant
from tests.workflow.conftest import (
    META,
    approve,
    decide,
    open_task,
    person,
    publish,
    route,
    stage,
)

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def contract_pdf(marker: str = "") -> bytes:
    pages = "".join(
        f'<section style="page-break-after: always">Договор поставки, страница {n}. '
        f"Page {n} of the supply contract. {marker}</section>"
        for n in (1, 2, 3)
    )
    return html_to_pdf(f"<html><body>{pages}</body></html>")


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


@dataclass
class Approval:
    tenant: Tenant
    document: Document
    process: Process
    lawyer: User
    ceo: User
    original: bytes
    version: FileVersion


def _document(tenant: Tenant, data: bytes, title: str = "Supply") -> Document:
    return document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": title, "amount": "1000.00"},
        files=[
            NewFile(
                bytes_upload("contract_file", "contract.pdf", data), "contract_file"
            )
        ],
    )


def run_approval(tenant: Tenant, *, comment: str = "Согласовано") -> Approval:
    lawyer = person(tenant, "lawyer", first_name="Анна", last_name="Юрьева")
    ceo = person(tenant, "ceo", first_name="Иван", last_name="Главный")
    template = publish(
        tenant,
        route(
            stage(
                "legal",
                approve(
                    "l", {"user": lawyer.username}, name={"ru": "Юрист", "en": "Lawyer"}
                ),
            ),
            stage(
                "ceo",
                approve(
                    "c", {"user": ceo.username}, name={"ru": "Директор", "en": "CEO"}
                ),
            ),
        ),
    )
    first = contract_pdf("v1")
    document = _document(tenant, first)
    process = services.process_start(
        actor=tenant.initiator, document=document, template=template, meta=META
    )
    decide(lawyer, open_task(process, lawyer), "return", comment="Уточните неустойку")
    original = contract_pdf("v2")
    document.refresh_from_db()
    file_add(
        actor=tenant.initiator,
        document=document,
        new=NewFile(
            bytes_upload("contract_file", "contract.pdf", original), "contract_file"
        ),
    )
    services.process_resubmit(actor=tenant.initiator, process=process, meta=META)
    decide(lawyer, open_task(process, lawyer), "approve", comment=comment)
    decide(ceo, open_task(process, ceo), "approve")
    process.refresh_from_db()
    version = (
        FileVersion.objects.filter(file__document=document).order_by("-version").first()
    )
    assert version is not None
    return Approval(tenant, document, process, lawyer, ceo, original, version)


@pytest.fixture
def approval(tenant_a: Tenant) -> Approval:
    return run_approval(tenant_a)
