"""The approval sheet names the file version a carried-over approval was given on."""

from __future__ import annotations

import re

import pytest

from sogla.evidence.selectors import sheet_data
from sogla.evidence.services import sheet_pdf
from sogla.workflow import services
from sogla.workflow.models import TaskState
from tests.conftest import Tenant
from tests.evidence.conftest import _document, contract_pdf, page_texts
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

pytestmark = pytest.mark.django_db


def test_the_sheet_says_which_version_a_carried_approval_was_given_on(
    tenant_a: Tenant,
) -> None:
    from sogla.documents.services import NewFile, file_add
    from sogla.documents.uploads import bytes_upload

    lawyer = person(tenant_a, "lawyer", first_name="Anna", last_name="Yurieva")
    ceo = person(tenant_a, "ceo", first_name="Ivan", last_name="Glavny")
    template = publish(
        tenant_a,
        route(
            stage("legal", approve("l", {"user": lawyer.username})),
            stage("ceo", approve("c", {"user": ceo.username})),
            on_return={"reask": "not_approved_even_if_changed"},
        ),
    )
    document = _document(tenant_a, contract_pdf("v1"))
    process = services.process_start(
        actor=tenant_a.initiator, document=document, template=template, meta=META
    )
    decide(lawyer, open_task(process, lawyer))
    decide(ceo, open_task(process, ceo), "return", comment="Fix the penalty")
    document.refresh_from_db()
    file_add(
        actor=tenant_a.initiator,
        document=document,
        new=NewFile(
            bytes_upload("contract_file", "contract.pdf", contract_pdf("v2")),
            "contract_file",
        ),
    )
    services.process_resubmit(actor=tenant_a.initiator, process=process, meta=META)
    decide(ceo, open_task(process, ceo))
    process.refresh_from_db()
    assert process.status == "approved"

    data = sheet_data(process)
    carried = [d for d in data.decisions if d.task.state == TaskState.CARRIED_OVER]
    assert len(carried) == 1
    row = carried[0]
    assert (row.round, row.carried_from_round) == (2, 1)
    assert [(f.name, f.version) for f in row.files] == [("contract.pdf", 1)]
    assert row.files_match  # the v1 hash the approval recorded, found again

    text = re.sub(r"\s+", " ", " ".join(page_texts(sheet_pdf(process, language="en"))))
    assert "Carried over from round 1, given on: contract.pdf v1" in text
