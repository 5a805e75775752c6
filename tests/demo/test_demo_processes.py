"""The demo loader publishes the route templates and moves the sample processes on.

Everything goes through the workflow services (route_template_create,
route_version_publish, process_start, task_decide, process_resubmit), so the inbox,
the route map and the history of the demo show real data.
"""

from __future__ import annotations

from datetime import date

import pytest

from sogla.demo.schema import DATA_DIR, read_bundle
from sogla.demo.services import demo_load
from sogla.documents.models import Document
from sogla.orgs.models import Organisation
from sogla.workflow.models import (
    Process,
    RouteTemplate,
    RouteVersion,
    RouteVersionStatus,
    Task,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 2)


def argo() -> Organisation:
    return Organisation.objects.get(slug="argo")


def open_tasks(number: str) -> list[tuple[str, str, str]]:
    process = Process.objects.get(document__number=number)
    return [
        (t.stage_key, t.step_key, t.assignee.username if t.assignee else t.guest_email)
        for t in Task.objects.filter(process=process, state="open").order_by("pk")
    ]


def test_every_route_file_becomes_a_published_template() -> None:
    report = demo_load(today=TODAY)
    assert report.warnings == []
    org = argo()
    files = read_bundle(DATA_DIR / "argo").routes
    templates = {
        t.key: t for t in RouteTemplate.objects.for_org(org).select_related("owner")
    }
    assert set(templates) == {f.template.key for f in files}
    for data in files:
        template = templates[data.template.key]
        assert template.doc_type.key == data.template.doc_type
        assert template.owner is not None
        assert template.owner.username == data.template.owner
        assert template.suggest_when == data.template.suggest_when
        assert template.order == data.template.order
        (version,) = RouteVersion.objects.filter(template=template)
        assert (version.number, version.status) == (1, RouteVersionStatus.PUBLISHED)
        assert version.definition == data.definition
    assert report.organisations[0].created["route templates"] == len(files)
    assert report.organisations[0].created["processes"] == 13


def test_a_second_run_creates_no_route_and_no_process() -> None:
    demo_load(today=TODAY)
    counts = (
        RouteTemplate.objects.count(),
        RouteVersion.objects.count(),
        Process.objects.count(),
        Task.objects.count(),
    )
    report = demo_load(today=TODAY)
    assert not report.created_anything
    assert (
        RouteTemplate.objects.count(),
        RouteVersion.objects.count(),
        Process.objects.count(),
        Task.objects.count(),
    ) == counts


def test_a_deleted_template_is_published_again_on_the_next_run() -> None:
    demo_load(today=TODAY)
    template = RouteTemplate.objects.get(organisation=argo(), key="article")
    Process.objects.filter(route_version__template=template).delete()
    RouteVersion.objects.filter(template=template).delete()
    template.delete()
    report = demo_load(today=TODAY)
    assert dict(+report.organisations[0].created) == {"route templates": 1}
    assert RouteTemplate.objects.filter(organisation=argo(), key="article").exists()


def test_the_sample_processes_are_in_different_states() -> None:
    demo_load(today=TODAY)
    states = {
        p.document.number: (p.status, p.round)
        for p in Process.objects.for_org(argo()).select_related("document")
    }
    assert states == {
        "Д-2026-00001": ("running", 1),
        "Д-2026-00002": ("running", 2),
        "Д-2026-00005": ("running", 1),
        "Д-2026-00006": ("approved", 1),  # S1 short: its renewal reminder is due
        "ДФ-2026-00001": ("running", 1),
        "ЗО-2026-00001": ("running", 1),
        "ЗО-2026-00002": ("rejected", 1),
        "ОТС-2026-00001": ("running", 1),
        "ОТС-2026-00002": ("approved", 1),
        "ПР-2026-00001": ("running", 1),
        "СТ-2026-00001": ("running", 1),
        "ВХ-0001/26": ("running", 1),
        "ИСХ-0001/26": ("running", 1),
    }
    # S1 full, sales: the manager and the lawyer approved, the accountant is asked
    assert open_tasks("Д-2026-00001") == [("accountant", "accountant", "accountant")]
    # S1 full, engineering: returned by the lawyer, resubmitted on the same files:
    # the manager's approval carried over, the lawyer is asked again
    assert open_tasks("Д-2026-00002") == [("lawyer", "lawyer", "lawyer")]
    assert (
        Task.objects.filter(
            process__document__number="Д-2026-00002", state="carried_over"
        ).count()
        == 1
    )
    # S1 external: waiting on the counterparty's representative by e-mail
    assert open_tasks("Д-2026-00005") == [
        ("counterparty", "representative", "partners@pitertour.example")
    ]
    # S2: two reviewers still to decide, in parallel
    assert open_tasks("ДФ-2026-00001") == [
        ("review", "chief_accountant", "chief-accountant"),
        ("review", "chief_engineer", "engineer"),
    ]
    # S3: the CFO said no executive director is needed; the accountant pays
    assert open_tasks("ЗО-2026-00001") == [("invoice", "pay", "accountant")]
    payment = Document.objects.get(organisation=argo(), number="ЗО-2026-00001")
    assert payment.fields["exec_director_needed"] is False
    assert payment.status.key == "to_pay"
    # S8: the executor approved sending; the process waits for the control date
    assert open_tasks("ИСХ-0001/26") == []
    letter = Document.objects.get(organisation=argo(), number="ИСХ-0001/26")
    assert letter.status.key == "sent"


def test_the_approved_short_contract_reminds_of_its_renewal_at_once() -> None:
    """Its end date is 20 days away: 30 days before it has passed, so the worker's
    first sweep sends the renewal reminder to the responsible person."""
    from django.utils import timezone

    from sogla.notifications.models import Notification
    from sogla.workflow.models import Timer
    from sogla.workflow.services import timers_fire_due

    demo_load(today=timezone.localdate())
    timer = Timer.objects.get(kind="field_reminder")  # the only finished contract
    assert timer.due_at <= timezone.now()
    timers_fire_due()
    reminder = Notification.objects.get(kind="workflow.field_reminder")
    assert reminder.recipient_user is not None
    assert reminder.recipient_user.username == "technician"
    assert reminder.context["field"] == "end_date"
