"""Starting an approval: the routes that fit a document, and who would approve."""

from __future__ import annotations

from dataclasses import dataclass

from sogla.core.access import organisation_id_of
from sogla.core.errors import NotFound
from sogla.documents.models import Document
from sogla.engine.conditions import evaluate, parse_condition
from sogla.engine.run import PreviewStage, preview
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.models import RouteTemplate, RouteVersion, RouteVersionStatus
from sogla.workflow.resolver import Resolver, document_facts


def routes_for_document(*, user: User, document: Document) -> list[RouteTemplate]:
    """Active routes of the document's type that fit its values; the first is suggested.

    Only routes with a published version are offered.
    """
    org_id = organisation_id_of(user)
    if document.organisation_id != org_id:
        raise NotFound()
    templates = list(
        RouteTemplate.objects.for_org(org_id)
        .filter(
            doc_type_id=document.doc_type_id,
            is_active=True,
            versions__status=RouteVersionStatus.PUBLISHED,
        )
        .distinct()
        .order_by("order", "key")
    )
    facts = document_facts(document)
    fitting = []
    for template in templates:
        if template.suggest_when is None:
            fitting.append(template)
            continue
        try:
            condition = parse_condition(template.suggest_when)
        except ValueError:
            continue
        if evaluate(condition, facts):
            fitting.append(template)
    return fitting


@dataclass
class ProcessPreview:
    template: RouteTemplate
    version: RouteVersion
    stages: list[PreviewStage]
    users: dict[int, User]  # the people named in the preview, by id


def process_preview(
    *, user: User, document: Document, template: RouteTemplate
) -> ProcessPreview:
    """Who would approve in which order for the document's current values."""
    org_id = organisation_id_of(user)
    if document.organisation_id != org_id or template.organisation_id != org_id:
        raise NotFound()
    version = (
        RouteVersion.objects.filter(
            template=template, status=RouteVersionStatus.PUBLISHED
        )
        .order_by("-number")
        .first()
    )
    if version is None:
        raise NotFound()
    definition = definitions.definition_for(version)
    stages = preview(definition, document_facts(document), Resolver(document))
    ids: set[int] = set()
    for stage in stages:
        for step in stage.steps:
            for person in step.participants:
                for who in (person, person.on_behalf_of):
                    if who is not None and who.kind == "user":
                        ids.add(int(who.id))
    users = {u.pk: u for u in User.objects.filter(organisation_id=org_id, pk__in=ids)}
    return ProcessPreview(template, version, stages, users)
