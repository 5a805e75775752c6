"""The card's start section: the routes that fit a draft and who would approve."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.utils.translation import gettext as _

from sogla.documents.selectors import DocumentCard
from sogla.engine.conditions import ENGLISH, Condition, Words
from sogla.engine.run import PreviewStage, PreviewStep
from sogla.engine.states import Participant
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.condition_words import will_skip_reason, words_for
from sogla.workflow.labels import name_in_language
from sogla.workflow.models import RouteTemplate
from sogla.workflow.reason_words import Names, reason_in_words
from sogla.workflow.selectors import (
    ProcessPreview,
    process_preview,
    routes_for_document,
)


@dataclass
class PreviewStepView:
    name: str
    kind: str
    runs: bool
    reason: str
    unresolved: bool
    people: list[str]
    tentative: bool


@dataclass
class PreviewStageView:
    name: str
    runs: bool
    reason: str
    steps: list[PreviewStepView]
    tentative: bool = False  # its condition reads answers given later


@dataclass
class StartView:
    routes: list[RouteTemplate]
    chosen: RouteTemplate | None
    stages: list[PreviewStageView]
    problem: str = ""


def start_form(
    user: User, card: DocumentCard, route_key: str, problem: str, words: Words
) -> StartView:
    """The routes that fit the document, the chosen one (``route_key``, else the
    suggested first) and who would approve along it."""
    document = card.document
    routes = routes_for_document(user=user, document=document)
    chosen = next((r for r in routes if r.key == route_key), None) or (
        routes[0] if routes else None
    )
    stages: list[PreviewStageView] = []
    if chosen is not None:
        found = process_preview(user=user, document=document, template=chosen)
        names = Names(document.organisation_id, card.field_labels())
        stages = preview_view(found, words, names)
    return StartView(routes, chosen, stages, problem)


def preview_view(
    preview: ProcessPreview, words: Words | None = None, names: Names | None = None
) -> list[PreviewStageView]:
    """A ``selectors.ProcessPreview`` with people's names, for the start section;
    reasons in the reader's language (``names``: labels and names by key)."""
    definition = definitions.definition_for(preview.version)
    words = words or ENGLISH
    names = names or Names(preview.template.organisation_id)
    stages = []
    for stage in preview.stages:
        stage_def = definition.stage(stage.key)
        conditions = {s.key: s.when for s in stage_def.steps}
        steps = [
            PreviewStepView(
                name=name_in_language(step.name) or step.key,
                kind=step.kind,
                runs=step.runs,
                reason=reason_in_words(
                    _reason(step.runs, step.reason, conditions.get(step.key), words),
                    names,
                ),
                unresolved=step.unresolved,
                people=_names(step, preview.users),
                tentative=step.tentative,
            )
            for step in stage.steps
        ]
        stages.append(
            PreviewStageView(
                name=name_in_language(stage.name) or stage.key,
                runs=stage.runs,
                reason=reason_in_words(
                    _reason(stage.runs, stage.reason, stage_def.when, words), names
                ),
                steps=steps,
                tentative=stage.tentative,
            )
        )
    return stages


def preview_reasons_said(preview: ProcessPreview) -> list[PreviewStage]:
    """The preview's stages with their reasons said as the start section says them,
    in the reader's language (the API's route options)."""
    definition = definitions.definition_for(preview.version)
    org_id = preview.template.organisation_id
    fields = list(preview.template.doc_type.fields.all())
    words = words_for(fields, Names(org_id))
    names = Names(org_id, {f.key: f.label for f in fields})
    said = []
    for stage in preview.stages:
        stage_def = definition.stage(stage.key)
        conditions = {s.key: s.when for s in stage_def.steps}
        steps = tuple(
            replace(
                step,
                reason=reason_in_words(
                    _reason(step.runs, step.reason, conditions.get(step.key), words),
                    names,
                ),
            )
            for step in stage.steps
        )
        reason = _reason(stage.runs, stage.reason, stage_def.when, words)
        said.append(replace(stage, reason=reason_in_words(reason, names), steps=steps))
    return said


def _reason(runs: bool, reason: str, condition: Condition | None, words: Words) -> str:
    """A skip said as the running route map says it ("will be skipped unless …");
    the reason of a step that runs (nobody found) as it is."""
    return reason if runs else will_skip_reason(reason, condition, words)


def _names(step: PreviewStep, users: dict[int, User]) -> list[str]:
    """Who would take the step: names, "A for B" where a stand-in acts."""
    return [_name(person, users) for person in step.participants]


def _name(person: Participant, users: dict[int, User]) -> str:
    name = person.id
    if person.kind == "user":
        user = users.get(int(person.id))
        name = user.short_name if user else person.id
    seat = person.on_behalf_of
    if seat is not None and seat.kind == "user":
        holder = users.get(int(seat.id))
        if holder is not None:
            return _("%(name)s for %(seat)s") % {
                "name": name,
                "seat": holder.short_name,
            }
    return name
