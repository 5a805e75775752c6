"""The approval sheet: every decision of every round, read back from the PDF."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from sogla.evidence.services import sheet_pdf
from sogla.workflow.models import Task, TaskState
from tests.conftest import Tenant
from tests.evidence.conftest import HOSTILE, Approval, page_texts, run_approval

pytestmark = pytest.mark.django_db


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_sheet_lists_every_decision_of_every_round(approval: Approval) -> None:
    data = sheet_pdf(approval.process, language="ru")
    text = _flat(" ".join(page_texts(data)))
    document = approval.document
    assert "Лист согласования" in text
    assert document.number in text
    assert approval.tenant.org.name in text
    decisions = list(
        Task.objects.filter(process=approval.process, state=TaskState.DONE).order_by(
            "decided_at"
        )
    )
    assert len(decisions) == 4  # return, resubmit, approve, approve
    assert "Раунд 1" in text
    assert "Раунд 2" in text
    for task in decisions:
        assert task.decided_at is not None
        local = task.decided_at.astimezone(ZoneInfo(approval.tenant.org.time_zone))
        assert local.strftime("%d.%m.%Y %H:%M:%S") in text
        if task.comment:
            assert _flat(task.comment) in text
    assert "Уточните неустойку" in text
    assert "Юрьева" in text
    assert "Главный" in text
    assert "Юрист" in text
    assert "Директор" in text
    assert "вернул(а) на доработку" in text or "на доработку" in text
    assert "веб" in text
    assert "сеанс с паролем" in text
    # Both versions of the contract were decided on; each hash is on the sheet.
    for sha in {
        approval.version.sha256,
        *approval.document.files.get().versions.values_list("sha256", flat=True),
    }:
        assert sha in text.replace(" ", "")


def test_sheet_in_english(approval: Approval) -> None:
    text = _flat(" ".join(page_texts(sheet_pdf(approval.process, language="en"))))
    assert "Approval sheet" in text
    assert "Lawyer" in text
    assert "CEO" in text
    assert "password session" in text
    assert "+03" in text or "+0300" in text  # the time zone of every decision


def test_html_in_comments_and_names_is_text_in_the_pdf(tenant_a: Tenant) -> None:
    tenant_a.initiator.first_name = HOSTILE
    tenant_a.initiator.save()
    approval = run_approval(tenant_a, comment=HOSTILE)
    text = _flat(" ".join(page_texts(sheet_pdf(approval.process, language="en"))))
    assert '<script>alert("x")</script>' in text  # shown, never interpreted
