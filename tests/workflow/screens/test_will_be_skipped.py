"""The running route map says what the start preview said (issue 13, item 10).

Before, a stage the preview said would be skipped showed on the running map as an
ordinary pending stage until it opened. Now the map reads the conditions of the
stages and steps that have not opened with the engine's preview, against the
document's values now, and says "will be skipped unless …" / «будет пропущен, если
не …» as the start preview does, adding that the condition is checked again when
the stage opens.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from sogla.documents.models import Document
from sogla.workflow.models import Process
from tests.workflow.conftest import approve, publish, route, stage
from tests.workflow.screens.conftest import Flow, draft, signed_in

pytestmark = pytest.mark.django_db


def text_of(html: str, start: str, end: str | None = None) -> str:
    part = html[html.index(start) :]
    if end is not None and end in part:
        part = part[: part.index(end)]
    return " ".join(part.split())


def conditional(flow: Flow) -> None:
    publish(
        flow.tenant,
        route(
            stage("manager", approve("m", {"manager_of": "initiator"})),
            stage(
                "board",
                approve("ceo", {"user": "alpha-ceo"}),
                when={"field": "amount", "op": "gt", "value": 2000000},
                name={"ru": "Правление", "en": "Board"},
            ),
            stage(
                "legal",
                approve("l", {"user": "alpha-ceo"}),
                approve(
                    "big",
                    {"user": "alpha-ceo"},
                    when={"field": "amount", "op": "gte", "value": 5000000},
                ),
                name={"ru": "Юристы", "en": "Legal"},
            ),
        ),
        key="conditional",
    )


def card(document: Document, language: str, flow: Flow) -> str:
    client = signed_in(flow.tenant.initiator, language)
    url = reverse("documents:card", args=[document.pk])
    return client.get(url + "?route=conditional").content.decode()


@pytest.mark.parametrize(
    ("language", "stage_words", "step_words", "note"),
    [
        (
            "en",
            "will be skipped unless «Amount» is greater than 2000000",
            "will be skipped unless «Amount» is at least 5000000",
            "checked again when the stage opens",
        ),
        (
            "ru",
            "будет пропущен, если не «amount» больше 2000000",
            "будет пропущен, если не «amount» не меньше 5000000",
            "проверяется снова, когда этап откроется",
        ),
    ],
)
def test_the_running_map_says_what_the_preview_said(
    flow: Flow, language: str, stage_words: str, step_words: str, note: str
) -> None:
    conditional(flow)
    document = draft(flow.tenant)  # amount 1 250 000
    preview = text_of(card(document, language, flow), 'id="route-preview"', "</ol>")
    assert stage_words in preview
    assert step_words in preview
    client = signed_in(flow.tenant.initiator, language)
    started = client.post(
        reverse("workflow:start", args=[document.pk]), {"route": "conditional"}
    )
    assert started.status_code == 302
    assert Process.objects.get(document=document).stage_index == 0
    route_map = text_of(card(document, language, flow), 'id="route-map"')
    assert stage_words in route_map  # the board: not opened yet, will be skipped
    assert step_words in route_map  # one step of the legal stage
    assert note in route_map
    assert route_map.count("skip-forward") >= 2


def test_a_change_of_the_values_changes_what_the_map_foresees(flow: Flow) -> None:
    conditional(flow)
    document = draft(flow.tenant)
    client = signed_in(flow.tenant.initiator)
    client.post(reverse("workflow:start", args=[document.pk]), {"route": "conditional"})
    assert "will be skipped unless" in card(document, "en", flow)
    Document.objects.filter(pk=document.pk).update(
        fields={**document.fields, "amount": "9000000.00"}
    )
    assert "will be skipped unless" not in card(document, "en", flow)
