"""S6. Article writing (SCENARIOS.md).

Preparation: the editor picks the expert and the SEO writes the brief (in parallel);
the expert and the author are told of the interview, the author records the
expert's comment, writes and gives the text link; the head of design picks the
designer, who gets the next task and attaches the image links; the editor
publishes, and the card goes to the archive keeping every link.
"""

from __future__ import annotations

import pytest

from sogla.orgs.models import Organisation
from tests.scenarios.conftest import Story, begin, user

pytestmark = pytest.mark.django_db


def article(*, expert: bool, seo: bool) -> Story:
    return begin(
        initiator="editor",
        doc_type="article",
        route="article",
        values={
            "topic": "Как мы ремонтировали кровлю",
            "author": user("author").pk,
            "expert_needed": expert,
            "seo_needed": seo,
        },
    )


def test_with_an_expert_and_an_seo_brief(argo: Organisation) -> None:
    story = article(expert=True, seo=True)
    assert story.status() == "preparation"
    assert story.new_tasks() == [
        ("preparation", "choose_expert", "editor"),
        ("preparation", "seo_brief", "seo"),
    ]
    story.decide("editor", "done", fields={"expert": user("engineer").pk})
    assert story.new_tasks() == []
    story.decide("seo", "done", fields={"seo_brief": "Ключевые слова: кровля"})
    assert story.new_tasks() == [("interview", "interview", "author")]
    assert story.status() == "writing"
    story.decide("author", "done", fields={"expert_comment": "Главное — водосток"})
    assert story.new_tasks() == [("writing", "write", "author")]
    story.decide("author", "done", fields={"text_link": "https://docs.argo.example/1"})
    assert story.new_tasks() == [("design_choice", "choose_designer", "art-director")]
    assert story.status() == "design"
    # The head of design picks the designer, who gets the next task at once.
    story.decide("art-director", "done", fields={"designer": user("designer").pk})
    assert story.new_tasks() == [("design", "images", "designer")]
    story.decide(
        "designer", "done", fields={"image_links": "https://img.argo.example/1.png"}
    )
    assert story.new_tasks() == [("publication", "publish", "editor")]
    assert story.status() == "publication"
    story.decide("editor", "done")

    assert story.new_tasks() == []
    assert story.process.status == "approved"
    assert story.status() == "published"
    assert story.document.folder is not None
    assert story.document.folder.path == "Статьи/Архив"
    assert story.document.fields == {
        "topic": "Как мы ремонтировали кровлю",
        "author": user("author").pk,
        "expert_needed": True,
        "seo_needed": True,
        "expert": user("engineer").pk,
        "seo_brief": "Ключевые слова: кровля",
        "expert_comment": "Главное — водосток",
        "text_link": "https://docs.argo.example/1",
        "designer": user("designer").pk,
        "image_links": "https://img.argo.example/1.png",
    }
    assert story.notifications() == [
        ("workflow.task_assigned", "editor"),
        ("workflow.task_assigned", "seo"),
        ("workflow.route_notice", "engineer"),  # the chosen expert
        ("workflow.route_notice", "author"),
        ("workflow.task_assigned", "author"),
        ("workflow.task_assigned", "author"),
        ("workflow.task_assigned", "art-director"),
        ("workflow.task_assigned", "designer"),
        ("workflow.task_assigned", "editor"),
        ("workflow.approved", "editor"),
    ]
    assert story.verbs() == [
        "document.created",
        "process.started",
        *["task.decided", "document.fields_changed"] * 6,
        "task.decided",
        "process.finished",
        "process.filed",
    ]


def test_without_an_expert_or_seo_the_author_writes_first(
    argo: Organisation,
) -> None:
    story = article(expert=False, seo=False)
    assert story.new_tasks() == [("writing", "write", "author")]
    assert dict(story.stages())["interview"] == "skipped"
    assert story.status() == "writing"
