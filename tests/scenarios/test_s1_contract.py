"""S1. Contract approval with department-dependent routing (SCENARIOS.md).

Short: straight to the general director. Full from sales: the initiator's manager,
the lawyer, the accountant, the executive director (sales' extra approver), the
deputy and the general director; the lawyer returns it, the initiator uploads a new
version and resubmits (nobody's old approval counts), the accountant returns it
later and the unchanged files let the earlier approvals carry over. On approval the
contract is filed into the counterparty's folder inside the department folder.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sogla.core.models import AuditEvent
from sogla.documents.models import DocumentFile, Folder
from sogla.documents.services import file_add
from sogla.orgs.models import Organisation
from sogla.workflow import services
from sogla.workflow.models import Task, Timer
from sogla.workflow.selectors import route_map
from tests.scenarios.conftest import META, Story, begin, party, pdf, user

pytestmark = pytest.mark.django_db


def contract(initiator: str, approval_type: str, counterparty: str) -> Story:
    return begin(
        initiator=initiator,
        doc_type="contract",
        route=f"contract-{approval_type}",
        values={
            "counterparty": party(counterparty).pk,
            "approval_type": approval_type,
            "object": "hotel",
            "amount": "250000.00",
            "end_date": "2027-03-31",
            "subject": "Поставка полотенец",
            "responsible": user(initiator).pk,
        },
        files=[pdf("contract_file", "contract.pdf")],
    )


def test_short_goes_straight_to_the_general_director(argo: Organisation) -> None:
    story = contract("technician", "short", "Клининг")
    assert story.document.title.startswith(f"Договор {story.document.number} с ")
    assert story.status() == "on_approval"
    assert story.new_tasks() == [("director", "ceo", "director")]

    task = story.decide("director", "approve_with_remarks", comment="Проверить НДС")

    assert (task.state, task.outcome) == ("done", "approve_with_remarks")
    assert story.new_tasks() == []
    assert story.process.status == "approved"
    assert story.status() == "approved"
    path = "Инженерная служба/Контрагенты/ООО «Клининг Плюс»"
    assert story.document.folder is not None
    assert story.document.folder.path == path
    cleaning = party("Клининг")
    assert cleaning.folder is not None
    assert cleaning.folder.path == path
    assert story.notifications() == [
        ("workflow.task_assigned", "director"),
        ("workflow.approved", "technician"),
    ]
    assert story.verbs() == [
        "document.created",
        "document.file_version_added",
        "process.started",
        "task.decided",
        "process.finished",
        "process.filed",
        "process.reminder_scheduled",  # the renewal reminder, 30 days before the end
    ]
    decided = AuditEvent.objects.get(document=story.document, verb="task.decided")
    assert decided.payload["outcome"] == "approve_with_remarks"
    assert decided.payload["comment"] == "Проверить НДС"
    assert decided.ip == META.ip

    # The renewal reminder outlives the finished process: 1 March 2027, 9:00 local.
    reminder = Timer.objects.get(process=story.process, kind="field_reminder")
    moscow = ZoneInfo("Europe/Moscow")
    assert reminder.due_at == datetime(2027, 3, 1, 9, 0, tzinfo=moscow)
    services.timers_fire_due(now=reminder.due_at - timedelta(minutes=1))
    assert story.notifications()[-1] == ("workflow.approved", "technician")
    services.timers_fire_due(now=reminder.due_at + timedelta(minutes=1))
    assert story.notifications()[-1] == ("workflow.field_reminder", "technician")
    assert story.verbs()[-1] == "process.reminder_sent"


def test_full_from_sales_with_two_returns(argo: Organisation) -> None:
    story = contract("manager", "full", "Невский")
    # Round 1: the initiator's manager (the head of sales), then the lawyer returns.
    assert story.new_tasks() == [("manager", "manager", "commercial")]
    story.decide("commercial")
    assert story.new_tasks() == [("lawyer", "lawyer", "lawyer")]
    story.decide("lawyer", "return", comment="Уточните сроки поставки")
    assert story.process.status == "revision"
    # The contract's own «На доработке» status; editable by the initiator again.
    assert story.status() == "returned"
    assert story.new_tasks() == [("lawyer", "revision", "manager")]
    old_hash = Task.objects.get(
        process=story.process, round=1, stage_key="manager"
    ).files_sha256

    # The initiator uploads a new version and resubmits: nobody's approval counts.
    version = file_add(
        actor=user("manager"),
        document=story.document,
        new=pdf("contract_file", "contract-v2.pdf", b"%v2"),
        meta=META,
    )
    assert version.version == 2
    assert DocumentFile.objects.get(document=story.document).versions.count() == 2
    services.process_resubmit(
        actor=user("manager"),
        process=story.process,
        comment="Сроки уточнены",
        meta=META,
    )
    story.refresh()
    assert (story.process.status, story.process.round) == ("running", 2)
    assert story.status() == "on_approval"
    assert story.new_tasks() == [("manager", "manager", "commercial")]
    assert story.carried_over() == []
    story.decide("commercial")
    new_hash = Task.objects.get(
        process=story.process, round=2, stage_key="manager"
    ).files_sha256
    assert new_hash != old_hash
    assert new_hash == services.files_sha256(story.document)
    story.decide("lawyer")
    assert story.new_tasks() == [
        ("lawyer", "lawyer", "lawyer"),
        ("accountant", "accountant", "accountant"),
    ]

    # Round 2: the accountant returns; resubmitted on the same files, the manager's
    # and the lawyer's approvals carry over and only the accountant is asked again.
    story.decide("accountant", "return", comment="Нет реквизитов")
    assert story.new_tasks() == [("accountant", "revision", "manager")]
    services.process_resubmit(
        actor=user("manager"),
        process=story.process,
        comment="Реквизиты есть в приложении",
        meta=META,
    )
    story.refresh()
    assert story.process.round == 3
    r2 = {
        t.stage_key: t.engine_id
        for t in Task.objects.filter(process=story.process, round=2, outcome="approve")
    }
    assert story.carried_over() == [
        (3, "manager", "commercial", r2["manager"]),
        (3, "lawyer", "lawyer", r2["lawyer"]),
    ]
    assert story.new_tasks() == [("accountant", "accountant", "accountant")]
    # the card marks the decisions that carried over
    card = route_map(user=user("manager"), document=story.document)
    assert card is not None
    assert card.round == 3
    assert [
        (stage.key, task.person.username if task.person else "", task.colour)
        for stage in card.stages[:3]
        for step in stage.steps
        for task in step.tasks
        if task.carried_over
    ] == [
        ("manager", "commercial", "carried_over"),
        ("lawyer", "lawyer", "carried_over"),
    ]
    assert [t.person.username for t in card.waiting if t.person] == ["accountant"]
    story.decide("accountant")
    # sales' extra approver, then the deputy and the general director
    assert story.new_tasks() == [("department", "executive", "executive")]
    story.decide("executive")
    assert story.new_tasks() == [("deputy", "deputy", "deputy")]
    story.decide("deputy")
    assert story.new_tasks() == [("director", "ceo", "director")]
    story.decide("director")
    # approved by the general director («Согласован»), who then signs («Подписан»)
    assert story.status() == "approved"
    assert story.new_tasks() == [("signing", "sign", "director")]
    story.decide("director")
    assert story.new_tasks() == []

    assert story.process.status == "approved"
    assert story.status() == "signed"
    path = "Отдел продаж/Контрагенты/ООО «Невский текстиль»"
    assert story.document.folder is not None
    assert story.document.folder.path == path
    assert Folder.objects.filter(organisation=argo, path="Отдел продаж").count() == 1
    textile = party("Невский")
    assert textile.folder is not None
    assert textile.folder.path == path
    assert story.notifications() == [
        ("workflow.task_assigned", "commercial"),
        ("workflow.task_assigned", "lawyer"),
        ("workflow.returned", "manager"),
        ("workflow.task_assigned", "commercial"),
        ("workflow.task_assigned", "lawyer"),
        ("workflow.task_assigned", "accountant"),
        ("workflow.returned", "manager"),
        ("workflow.task_assigned", "accountant"),
        ("workflow.task_assigned", "executive"),
        ("workflow.task_assigned", "deputy"),
        ("workflow.task_assigned", "director"),
        ("workflow.task_assigned", "director"),
        ("workflow.approved", "manager"),
    ]
    assert story.verbs() == [
        "document.created",
        "document.file_version_added",
        "process.started",
        "task.decided",
        "task.decided",
        "process.returned",
        "document.file_version_added",
        "process.resubmitted",
        "task.decided",
        "task.decided",
        "task.decided",
        "process.returned",
        "process.resubmitted",
        "task.decided",
        "task.decided",
        "task.decided",
        "task.decided",
        "process.status_set",  # the director's approval: «Согласован»
        "task.decided",  # the director signs with a code
        "process.status_set",  # «Подписан»
        "process.finished",
        "process.filed",
        "process.reminder_scheduled",
    ]
    events = {
        (e.verb, e.payload.get("round")): e.payload
        for e in AuditEvent.objects.filter(
            document=story.document, verb__startswith="process."
        )
    }
    assert events["process.returned", 1]["comment"] == "Уточните сроки поставки"
    assert events["process.returned", 2]["stage"] == "accountant"
    assert events["process.resubmitted", 2]["files_sha256"] == new_hash
    assert events["process.resubmitted", 3]["files_sha256"] == new_hash
    assert events["process.filed", None]["folder"] == path


@pytest.mark.parametrize(
    ("initiator", "manager", "extra"),
    [
        ("technician", "engineer", ("department", "chief_engineer", "engineer")),
        ("trainee", "mentor", ("department", "mentor", "mentor")),
    ],
    ids=["engineering", "trainees"],
)
def test_the_extra_approver_depends_on_the_initiators_department(
    argo: Organisation, initiator: str, manager: str, extra: tuple[str, str, str]
) -> None:
    story = contract(initiator, "full", "ТехноСнаб")
    assert story.new_tasks() == [("manager", "manager", manager)]
    first = Task.objects.get(process=story.process, stage_key="manager")
    story.decide(manager)
    story.decide("lawyer")
    story.decide("accountant")
    # The department's extra approver is the initiator's manager, who approved at
    # the first stage: asked once a round (``duplicates: merge``), the approval
    # carries over and the deputy is next.
    assert story.new_tasks() == [
        ("lawyer", "lawyer", "lawyer"),
        ("accountant", "accountant", "accountant"),
        ("deputy", "deputy", "deputy"),
    ]
    assert story.carried_over() == [(1, extra[0], extra[2], first.engine_id)]
