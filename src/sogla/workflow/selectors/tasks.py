"""One task: the decision panel of its assignee, the route owner's view of it, and
the rows an answer about a task names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import get_language

from sogla.core.access import is_org_admin, organisation_id_of
from sogla.core.errors import NotFound
from sogla.documents.access import visible_documents
from sogla.documents.models import Document, FieldDef
from sogla.engine.definition import COMMENT_REQUIRED, Outcome, RouteDefinition, StepDef
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.models import Process, Task
from sogla.workflow.selectors.inbox import inbox_rows


@dataclass
class DecisionPanel:
    task: Task
    document: Document
    step: StepDef | None
    outcomes: list[str]
    comment_required: list[str]  # outcomes that need a comment
    fields: list[FieldDef]  # what a request_info / task step fills in
    required_fields: list[str]
    # "return_to_stage": the earlier stages this step may send back to (key, name)
    return_stages: list[tuple[str, str]] = field(default_factory=list)


def task_get_for_decision(*, user: User, task_id: int | str) -> DecisionPanel:
    """The user's task with what the panel needs; NotFound for anyone else's task."""
    org_id = organisation_id_of(user)
    try:
        task = (
            Task.objects.for_org(org_id)
            .select_related(
                "process__route_version",
                "process__document__doc_type",
                "process__document__status",
                "process__initiator",
                "assignee",
                "on_behalf_of",
                "decided_by",
            )
            .get(pk=int(task_id))
        )
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if user.pk not in (task.assignee_id, task.on_behalf_of_id):
        raise NotFound()
    return decision_panel_of(task)


def decision_panel_of(task: Task) -> DecisionPanel:
    """The panel of a task read with its process, route version and document (the
    card's route map has them: no query but the step's fields, if it has any). The
    caller has checked that the task is the user's."""
    definition = definitions.definition_for(task.process.route_version)
    step = definition.step(task.stage_key, task.step_key)
    outcomes = [str(o) for o in step.allowed_outcomes()] if step else []
    return DecisionPanel(
        task=task,
        document=task.process.document,
        step=step,
        outcomes=outcomes if task.is_open else [],
        comment_required=[o for o in outcomes if o in COMMENT_REQUIRED],
        fields=_step_fields(task.process.document, step),
        required_fields=list(step.required_fields) if step else [],
        return_stages=return_stages(definition, step, task.stage_key)
        if Outcome.RETURN_TO_STAGE in outcomes and task.is_open
        else [],
    )


def return_stages(
    definition: RouteDefinition, step: StepDef | None, stage_key: str
) -> list[tuple[str, str]]:
    """The stages a "return_to_stage" decision of ``step`` may choose, in route
    order: listed by the step and not after the step's own stage."""
    own = definition.stage_index(stage_key)
    if step is None or own is None:
        return []
    language = "en" if (get_language() or "").startswith("en") else "ru"
    found = []
    for index, stage in enumerate(definition.stages):
        if stage.key in step.return_to and index <= own:
            found.append((stage.key, stage.name.get(language) or stage.key))
    return found


def _step_fields(document: Document, step: StepDef | None) -> list[FieldDef]:
    """The fields a step fills in, in the step's order; the step, not the type,
    decides which are required."""
    if step is None or not step.fields:
        return []
    by_key = {
        f.key: f
        for f in FieldDef.objects.filter(
            doc_type_id=document.doc_type_id, key__in=step.fields
        )
    }
    fields = [by_key[k] for k in step.fields if k in by_key]
    for field_def in fields:
        field_def.required = field_def.key in step.required_fields
        field_def.required_when = None
    return fields


def task_with_references(*, user: User, task: Task) -> Task:
    """A task row a command returned, with the rows an answer about it names: the
    document (the command may have changed its status) with its type and status,
    and the initiator, the assignee and the stand-in. Two queries; the task itself
    is not read again."""
    org_id = organisation_id_of(user)
    process: Process = task.process
    document = (
        Document.objects.for_org(org_id)
        .select_related("doc_type", "status")
        .get(pk=process.document_id)
    )
    wanted = {process.initiator_id, task.assignee_id, task.on_behalf_of_id}
    people = User.objects.filter(organisation_id=org_id).in_bulk(
        [pk for pk in wanted if pk is not None]
    )
    process.document = document
    process.initiator = people[process.initiator_id]
    task.assignee = people.get(task.assignee_id) if task.assignee_id else None
    task.on_behalf_of = (
        people.get(task.on_behalf_of_id) if task.on_behalf_of_id else None
    )
    return task


def can_manage_process(user: User, process: Process) -> bool:
    """Route owner or administrator: may reassign tasks and resolve failed steps."""
    template = process.route_version.template
    return is_org_admin(user) or (
        template.owner_id is not None and template.owner_id == user.pk
    )


def task_for_manager(*, user: User, task_id: int) -> Task:
    """Any task of a process the user manages (route owner or administrator)."""
    task = (
        inbox_rows(user)
        .select_related("process__route_version__template")
        .defer(None)  # every column: the manager's commands use the whole rows
    )
    found = task.filter(pk=task_id).first()
    if found is None or not can_manage_process(user, found.process):
        raise NotFound()
    return found


def colleagues_by_id(*, user: User, ids: list[int]) -> dict[int, User]:
    """Active people of the user's organisation among ``ids``, by id."""
    org_id = organisation_id_of(user)
    return {
        u.pk: u
        for u in User.objects.filter(
            organisation_id=org_id, is_active=True, pk__in=list(set(ids))
        )
    }


def colleague_by_username(*, user: User, username: str) -> User | None:
    """The active person of the user's organisation with this username, or None."""
    return User.objects.filter(
        organisation_id=organisation_id_of(user), is_active=True, username=username
    ).first()


def task_document_for_user(*, user: User, task_id: int) -> tuple[int, int] | None:
    """(document id, task id) of a task of a document the user may open, else None:
    the target of the e-mailed task link. Other tasks answer as if they did not
    exist, so task ids reveal nothing about confidential documents (rule I7)."""
    if user.organisation_id is None:
        return None
    found = (
        Task.objects.for_org(user.organisation_id)
        .filter(pk=task_id, process__document__in=visible_documents(user))
        .values_list("process__document_id", "pk")
        .first()
    )
    return (int(found[0]), int(found[1])) if found else None


def decision_comments(document_ids: Sequence[int]) -> dict[int, list[str]]:
    """The comments of the decisions on these documents, oldest first, by document
    (what full-text search finds them by; registered as a talk source)."""
    found: dict[int, list[str]] = {}
    rows = (
        Task.objects.filter(process__document_id__in=document_ids)
        .exclude(comment="")
        .values_list("process__document_id", "comment")
        .order_by("pk")
    )
    for document_id, comment in rows:
        found.setdefault(document_id, []).append(comment)
    return found
