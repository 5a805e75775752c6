"""The inbox's Watching tab: who holds the approvals I took part in, now."""

from __future__ import annotations

from django.urls import reverse

from sogla.workflow.models import Task, TaskState
from sogla.workflow.selectors import task_list_for_user
from sogla.workflow.services import process_start, task_decide
from tests.api.conftest import token_client
from tests.workflow.screens.conftest import Flow, draft, signed_in


def test_watching_lists_open_tasks_of_approvals_i_decided_in(flow: Flow) -> None:
    document = draft(flow.tenant)
    other = draft(flow.tenant, "Another supply")
    for doc in (document, other):
        process_start(actor=flow.tenant.initiator, document=doc, template=flow.template)
    mine = Task.objects.get(
        process__document=document, assignee=flow.head, state=TaskState.OPEN
    )
    task_decide(actor=flow.head, task_id=mine.pk, outcome="approve", request_id="r1")
    lawyer_task = Task.objects.get(assignee=flow.lawyer, state=TaskState.OPEN)

    page = task_list_for_user(user=flow.head, tab="watching")
    assert [t.pk for t in page.items] == [lawyer_task.pk]
    # The head's own open task on the other document is under "mine", not here.
    assert [
        t.process.document_id for t in task_list_for_user(user=flow.head).items
    ] == [other.pk]

    html = signed_in(flow.head).get(reverse("workflow:inbox"), {"tab": "watching"})
    assert html.status_code == 200
    assert document.number in html.content.decode()
    assert other.number not in html.content.decode()

    api = token_client(flow.head).get("/tasks?tab=watching")
    assert api.status_code == 200
    assert [item["id"] for item in api.json()["items"]] == [lawyer_task.pk]


def test_watching_is_empty_for_someone_who_took_no_part(flow: Flow) -> None:
    process_start(
        actor=flow.tenant.initiator, document=draft(flow.tenant), template=flow.template
    )
    assert task_list_for_user(user=flow.tenant.colleague, tab="watching").items == []
    html = signed_in(flow.tenant.colleague).get(
        reverse("workflow:inbox"), {"tab": "watching"}
    )
    assert "No running approval you took part in" in html.content.decode()


def test_inbox_rows_say_who_holds_the_task_what_was_decided_and_escape_titles(
    flow: Flow,
) -> None:
    """The rows are written by ``workflow_web.inbox_row``: the watching tab names
    the holder, the done tab the decision, and a hostile title stays text."""
    document = draft(flow.tenant, '<img src=x onerror="alert(1)">')
    process_start(
        actor=flow.tenant.initiator, document=document, template=flow.template
    )
    mine = Task.objects.get(process__document=document, assignee=flow.head)
    head = signed_in(flow.head)
    pending = head.get(reverse("workflow:inbox")).content.decode()
    assert "<img src=x" not in pending
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in pending
    task_decide(actor=flow.head, task_id=mine.pk, outcome="approve", request_id="r2")

    watching = head.get(reverse("workflow:inbox"), {"tab": "watching"}).content.decode()
    assert "Petrov P." in watching  # the lawyer holds it now
    done = head.get(reverse("workflow:inbox"), {"tab": "done"}).content.decode()
    assert 'class="status-chip' in done
    assert "Approved" in done
    assert f'href="{reverse("documents:card", args=[document.pk])}"' in done
