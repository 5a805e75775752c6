"""The route builder's commands: drafts with a revision, a second save refused with
who changed the route and when, publishing (a new version; running processes stay on
theirs), import refused whole, the simulation, the diff."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from sogla.core.errors import ValidationFailed
from sogla.orgs.models import Role, User
from sogla.workflow.models import ProcessStatus, RouteTemplate, RouteVersion
from sogla.workflow.selectors import route_builder as reads
from sogla.workflow.services import route_builder as commands
from sogla.workflow.services import route_template_create
from tests.conftest import Tenant
from tests.workflow.conftest import (
    approve,
    decide,
    make_document,
    open_task,
    person,
    route,
    stage,
    start,
)

pytestmark = pytest.mark.django_db


def _template(tenant: Tenant) -> RouteTemplate:
    return route_template_create(
        actor=tenant.admin,
        doc_type=tenant.contract,
        key="built",
        name_ru="Собранный",
        name_en="Built",
    )


def _two_stages(tenant: Tenant) -> dict[str, object]:
    return route(
        stage("manager", approve("m", {"manager_of": "initiator"})),
        stage(
            "checks",
            approve(
                "big",
                {"user": tenant.colleague.username},
                when={"all": [{"field": "amount", "op": "gt", "value": 100000}]},
            ),
        ),
    )


def test_draft_saves_bump_the_revision_and_a_stale_save_is_refused_with_who_and_when(
    tenant_a: Tenant,
) -> None:
    template = _template(tenant_a)
    other_admin = person(
        tenant_a, "admin2", is_staff=True, last_name="Sidorov", first_name="Anton"
    )
    first = commands.route_token(template)
    assert first == "p0"
    draft = commands.route_builder_save(
        actor=tenant_a.admin,
        template=template,
        definition=_two_stages(tenant_a),
        base=first,
    )
    assert (draft.revision, draft.updated_by) == (1, tenant_a.admin)
    assert draft.definition["key"] == "built"
    loaded = commands.route_token(template)  # both admins open the builder here
    commands.route_builder_save(
        actor=other_admin,
        template=template,
        definition=_two_stages(tenant_a),
        base=loaded,
    )
    changed = route(stage("only", approve("x", {"initiator": True})))
    with pytest.raises(commands.DraftChanged) as refused:
        commands.route_builder_save(
            actor=tenant_a.admin, template=template, definition=changed, base=loaded
        )
    assert "Sidorov A." in str(refused.value.message)
    assert (
        RouteVersion.objects.get(template=template).definition["stages"][0]["key"]
        == "manager"
    )


def test_publish_creates_a_version_and_a_stale_publish_is_refused(
    tenant_a: Tenant,
) -> None:
    template = _template(tenant_a)
    v1 = commands.route_builder_publish(
        actor=tenant_a.admin,
        template=template,
        definition=_two_stages(tenant_a),
        base=commands.route_token(template),
    )
    assert (v1.number, v1.status) == (1, "published")
    assert commands.route_token(template) == "p1"
    with pytest.raises(commands.DraftChanged) as refused:
        commands.route_builder_save(
            actor=tenant_a.admin,
            template=template,
            definition=_two_stages(tenant_a),
            base="p0",
        )
    assert "1" in str(refused.value.message)


def test_publish_refused_with_every_problem_by_path_and_nothing_saved(
    tenant_a: Tenant,
) -> None:
    template = _template(tenant_a)
    Role.objects.create(
        organisation=tenant_a.org, key="lawyer", name_ru="Юрист", name_en="Lawyer"
    )
    bad = route(
        stage(
            "a",
            approve("r", {"role": "lawyer"}),
            approve("g", {"guests": ["not-an-address"]}),
            approve("c", {"user": tenant_a.colleague.username}, when={"field": "gone", "op": "eq", "value": 1}),
        )
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        commands.route_builder_publish(
            actor=tenant_a.admin, template=template, definition=bad, base="p0"
        )
    paths = {p.field for p in refused.value.problems}
    assert paths == {
        "stages[0].steps[0].assignee.role",  # nobody holds the role
        "stages[0].steps[1].assignee.guests[0]",
        "stages[0].steps[2].when",
    }
    assert not RouteVersion.objects.filter(template=template).exists()


def test_problems_are_said_in_the_readers_language(tenant_a: Tenant) -> None:
    template = _template(tenant_a)
    definition = route(stage("a", approve("r", {"role": "nobody"})))
    with translation.override("ru"):
        ru = commands.route_check(template, definition)
    with translation.override("en"):
        en = commands.route_check(template, definition)
    assert en[0].message == "There is no role «nobody» in this organisation."
    assert ru[0].message.startswith("В организации нет роли")
    assert ru[0].path == "stages[0].steps[0].assignee.role"


def test_import_reports_and_saves_nothing_when_wrong(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    template = _template(tenant_a)
    for content, expected in [
        (b"\x00\xff not json", "not JSON"),
        (b'{"hello": "world"}', "not a Sogla route"),
        (b"[1, 2]", "not a Sogla route"),
        (b" " * (commands.MAX_IMPORT_BYTES + 1), "too large"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            commands.route_import(
                actor=tenant_a.admin, template=template, content=content, base="p0"
            )
        assert expected in str(refused.value.problems[0].message)
    # Another organisation's route: its people and roles are unknown here.
    foreign = route(
        stage("a", approve("x", {"user": tenant_b.colleague.username})),
        stage("b", approve("y", {"role": "beta_lawyer"})),
    )
    with pytest.raises(ValidationFailed) as refused:
        commands.route_import(
            actor=tenant_a.admin,
            template=template,
            content=json.dumps(foreign).encode(),
            base="p0",
        )
    paths = [p.field for p in refused.value.problems]
    assert "stages[0].steps[0].assignee.user" in paths
    assert "stages[1].steps[0].assignee.role" in paths
    assert not RouteVersion.objects.filter(template=template).exists()
    # A good file becomes the draft.
    draft = commands.route_import(
        actor=tenant_a.admin,
        template=template,
        content=json.dumps(_two_stages(tenant_a)).encode(),
        base="p0",
    )
    assert draft.definition["stages"][1]["key"] == "checks"


def test_simulation_says_who_approves_and_what_is_skipped(tenant_a: Tenant) -> None:
    template = _template(tenant_a)
    definition = _two_stages(tenant_a)
    small = reads.route_simulate(
        user=tenant_a.admin, template=template, definition=definition,
        initiator_id=tenant_a.initiator.pk, values={"amount": "500"},
    )  # fmt: skip
    assert small[0]["runs"]
    assert small[0]["steps"][0]["people"] == [
        User.objects.get(username="alpha-head").short_name
    ]
    assert not small[1]["runs"]
    assert not small[1]["steps"][0]["runs"]
    assert "condition not met" in small[1]["steps"][0]["reason"]
    big = reads.route_simulate(
        user=tenant_a.admin, template=template, definition=definition,
        initiator_id=tenant_a.initiator.pk, values={"amount": "250000"},
    )  # fmt: skip
    assert big[1]["runs"]
    assert big[1]["steps"][0]["people"] == [tenant_a.colleague.short_name]


def test_diff_and_running_count(tenant_a: Tenant) -> None:
    template = _template(tenant_a)
    v1 = commands.route_builder_publish(
        actor=tenant_a.admin,
        template=template,
        definition=_two_stages(tenant_a),
        base="p0",
    )
    start(tenant_a, template, make_document(tenant_a))
    assert reads.running_processes(template) == 1
    v2 = route(
        stage(
            "manager",
            approve("m", {"manager_of": "initiator"}, due={"working_days": 2}),
        ),
        stage("sign", approve("ceo", {"user": tenant_a.colleague.username})),
    )
    kinds = {
        (line["kind"], line["text"]) for line in reads.route_diff(v1.definition, v2)
    }
    assert ("added", "Stage «sign» added") in kinds
    assert ("removed", "Stage «checks» removed") in kinds
    assert ("changed", "Step «m» in «manager» changed") in kinds
    named = dict(v2)
    named["stages"] = [{**v2["stages"][0], "name": {"ru": "Начальник", "en": "Boss"}}]
    with translation.override("en"):
        lines = reads.route_diff(v1.definition, named)
    assert {"kind": "changed", "text": "Stage «Boss» changed"} in lines


def test_a_v1_process_finishes_on_v1_after_v2_is_published(tenant_a: Tenant) -> None:
    template = _template(tenant_a)
    v1 = commands.route_builder_publish(
        actor=tenant_a.admin,
        template=template,
        definition=route(stage("manager", approve("m", {"manager_of": "initiator"}))),
        base="p0",
    )
    process = start(tenant_a, template, make_document(tenant_a))
    v2 = commands.route_builder_publish(
        actor=tenant_a.admin,
        template=template,
        definition=route(
            stage("manager", approve("m", {"manager_of": "initiator"})),
            stage("more", approve("c", {"user": tenant_a.colleague.username})),
        ),
        base=commands.route_token(template),
    )
    assert v2.number == 2
    head = User.objects.get(username="alpha-head")
    decide(head, open_task(process, head))
    process.refresh_from_db()
    assert process.route_version_id == v1.pk
    assert process.status == ProcessStatus.APPROVED
    later = start(tenant_a, template, make_document(tenant_a))
    assert later.route_version_id == v2.pk
