"""The registry's rows written by ``registry_web`` say what the templates said: the
"now with" cell as workflow/partials/now_with.html (which the kanban still uses)
writes it, in every combination of holder, guest, more people, waiting, overdue and
finished; and values are escaped."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from sogla.documents.registry_query import view_from
from sogla.workflow.screens.traffic_light import Segment, StageSummary
from sogla.workflow.selectors.lights import Holder, ProcessValues
from sogla.workflow.templatetags.registry_web import _Page

MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _light(**changes: Any) -> StageSummary:
    process = ProcessValues(
        pk=1,
        document_id=1,
        route_version_id=1,
        version_status="published",
        published_at=MOMENT,
        status="running",
        round=1,
        stage_index=1,
        started_at=MOMENT,
        finished_at=changes.pop("finished_at", None),
    )
    values: dict[str, Any] = {
        "process": process,
        "segments": [Segment("Lawyer <b>", "done"), Segment("CEO", "waiting")],
        "position": 2,
        "total": 2,
        "current_name": "CEO",
        "current_word": "waiting",
        "holder": None,
        "holder_email": "",
        "more_holders": 0,
        "waiting": "",
        "overdue": False,
    }
    values.update(changes)
    return StageSummary(**values)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_now_with_as_the_template_writes_it(language: str) -> None:
    with translation.override(language):
        page = _Page(view_from({}), {}, {}, {})
        combos = itertools.product(
            [None, Holder("Petrov P.")],
            ["", "guest@example.com"],
            [0, 2],
            ["", "3 working days"],
            [False, True],
            [None, MOMENT],
        )
        for holder, email, more, waiting, overdue, finished in combos:
            light = _light(
                holder=holder,
                holder_email=email,
                more_holders=more,
                waiting=waiting,
                overdue=overdue,
                finished_at=finished,
            )
            expected = render_to_string(
                "workflow/partials/now_with.html", {"light": light}
            ).strip()
            assert page.now_with(light) == expected


def test_the_light_is_one_image_named_by_its_title() -> None:
    """One name (and tooltip) per light, not one per segment: what the hidden text
    said, escaped; a stage done is a bare <b>, the current one classed."""
    with translation.override("en"):
        written = _Page(view_from({}), {}, {}, {}).light(_light(current_name="CEO <i>"))
    assert written == (
        '<span role="img" title="Stage 2 of 2, CEO &lt;i&gt;, waiting">'
        '<b></b><i class="tl-current"></i>2/2</span>'
    )
    assert "Lawyer" not in written  # each stage's name is on the card's route map
