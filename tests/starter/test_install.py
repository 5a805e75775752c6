"""Installing library templates: every template installs into a fresh organisation
and runs, a second install duplicates nothing, a key clash overwrites nothing, and
the roles are mapped to the organisation's people."""

from __future__ import annotations

import pytest

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.documents.models import DocumentType, FieldDef, StatusDef
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import Role
from sogla.starter.library import library, library_template
from sogla.starter.models import TemplateInstall
from sogla.starter.services import KeyClash, template_install
from sogla.workflow.models import Process, RouteTemplate, RouteVersion, Task
from sogla.workflow.services import process_start, task_decide
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STORIES = {"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"}


def test_the_library_has_the_stories_and_the_two_person_approval() -> None:
    keys = [t.key for t in library()]
    assert keys[0] == "approval"
    assert {t.story for t in library()} >= STORIES
    assert len(keys) == len(set(keys)) == 9
    for template in library():
        assert template.name_ru
        assert template.name_en
        assert template.routes, template.key
        used = {r.owner_role for r in template.routes if r.owner_role}
        assert used <= {r.key for r in template.roles}


@pytest.fixture
def fresh(tenant_a: Tenant) -> Tenant:
    """Tenant A without its own contract type: nothing clashes."""
    tenant_a.contract.delete()
    return tenant_a


@pytest.mark.parametrize("key", [t.key for t in library()])
def test_every_template_installs_into_a_fresh_organisation(
    fresh: Tenant, key: str
) -> None:
    tenant_a = fresh
    result = template_install(organisation=tenant_a.org, actor=tenant_a.admin, key=key)
    template = library_template(key)
    assert template is not None
    assert result.type_created
    assert result.doc_type is not None
    assert result.warnings == []
    assert sorted(result.routes_created) == sorted(r.key for r in template.routes)
    for route_key in result.routes_created:
        route = RouteTemplate.objects.get(organisation=tenant_a.org, key=route_key)
        assert route.doc_type_id == result.doc_type.pk
        assert RouteVersion.objects.get(template=route).status == "published"
    assert set(Role.objects.for_org(tenant_a.org).values_list("key", flat=True)) >= {
        r.key for r in template.roles
    }
    assert (
        StatusDef.objects.filter(doc_type=result.doc_type, is_initial=True).count() == 1
    )


def test_a_type_without_statuses_gets_the_usual_set(tenant_a: Tenant) -> None:
    result = template_install(
        organisation=tenant_a.org, actor=tenant_a.admin, key="approval"
    )
    assert list(
        StatusDef.objects.filter(doc_type=result.doc_type)
        .order_by("order")
        .values_list("key", "meaning")
    ) == [
        ("draft", "draft"),
        ("on_approval", "active"),
        ("returned", "active"),
        ("approved", "success"),
        ("rejected", "failure"),
        ("cancelled", "failure"),
    ]


def test_roles_are_mapped_to_people_and_the_two_approve_in_turn(
    tenant_a: Tenant,
) -> None:
    first, second = tenant_a.colleague, tenant_a.admin
    result = template_install(
        organisation=tenant_a.org,
        actor=tenant_a.admin,
        key="approval",
        role_holders={"first_approver": [first], "second_approver": [second]},
    )
    assert result.roles_created == ["first_approver", "second_approver"]
    assert list(
        Role.objects.get(organisation=tenant_a.org, key="first_approver").members.all()
    ) == [first]
    route = RouteTemplate.objects.get(organisation=tenant_a.org, key="approval")
    assert route.owner == first
    doc_type = result.doc_type
    assert doc_type is not None
    document = document_create(
        actor=tenant_a.initiator,
        doc_type=doc_type,
        values={"subject": "Price list"},
        files=[
            NewFile(
                bytes_upload("document_file", "a.pdf", MINIMAL_PDF), "document_file"
            )
        ],
    )
    assert document.number.startswith("СГ-")
    assert document.folder is not None
    process = process_start(actor=tenant_a.initiator, document=document, template=route)
    for person in (first, second):
        (task,) = Task.objects.filter(process=process, state="open")
        assert task.assignee == person
        task_decide(
            actor=person, task_id=task.pk, outcome="approve", request_id=f"r{task.pk}"
        )
    process.refresh_from_db()
    document.refresh_from_db()
    assert (process.status, document.status.key) == ("approved", "approved")


def test_installing_twice_duplicates_nothing(fresh: Tenant) -> None:
    tenant_a = fresh
    template_install(organisation=tenant_a.org, actor=tenant_a.admin, key="contract")
    counts = (
        DocumentType.objects.count(),
        FieldDef.objects.count(),
        RouteTemplate.objects.count(),
        RouteVersion.objects.count(),
        Role.objects.count(),
    )
    again = template_install(
        organisation=tenant_a.org,
        actor=tenant_a.admin,
        key="contract",
        role_holders={"lawyer": [tenant_a.colleague]},
    )
    assert again.already_installed
    assert not again.type_created
    assert again.routes_created == []
    assert (
        DocumentType.objects.count(),
        FieldDef.objects.count(),
        RouteTemplate.objects.count(),
        RouteVersion.objects.count(),
        Role.objects.count(),
    ) == counts
    # ... but the person named the second time holds the role now
    assert tenant_a.colleague.roles.filter(key="lawyer").exists()
    assert TemplateInstall.objects.filter(organisation=tenant_a.org).count() == 1


def test_a_deleted_route_comes_back_on_a_second_install(tenant_a: Tenant) -> None:
    template_install(organisation=tenant_a.org, actor=tenant_a.admin, key="payment")
    route = RouteTemplate.objects.get(organisation=tenant_a.org, key="payment")
    RouteVersion.objects.filter(template=route).delete()
    route.delete()
    again = template_install(
        organisation=tenant_a.org, actor=tenant_a.admin, key="payment"
    )
    assert again.routes_created == ["payment"]


def test_a_key_clash_asks_and_overwrites_nothing(tenant_a: Tenant) -> None:
    # the tenant has a "contract" type of its own
    before = list(
        FieldDef.objects.filter(doc_type=tenant_a.contract).values_list(
            "key", flat=True
        )
    )
    with pytest.raises(KeyClash) as caught:
        template_install(
            organisation=tenant_a.org, actor=tenant_a.admin, key="contract"
        )
    assert caught.value.problems[0].code == "key_clash"
    assert "contract" in str(caught.value.problems[0].message)

    skipped = template_install(
        organisation=tenant_a.org, actor=tenant_a.admin, key="contract", on_clash="skip"
    )
    assert skipped.skipped
    assert skipped.doc_type is None
    assert not RouteTemplate.objects.exists()
    assert not TemplateInstall.objects.exists()

    renamed = template_install(
        organisation=tenant_a.org,
        actor=tenant_a.admin,
        key="contract",
        on_clash="rename",
        new_key="contract_std",
    )
    assert renamed.doc_type is not None
    assert renamed.doc_type.key == "contract_std"
    assert set(renamed.routes_created) == {
        "contract-std-contract-short",
        "contract-std-contract-full",
        "contract-std-contract-external",
    }
    assert (
        list(
            FieldDef.objects.filter(doc_type=tenant_a.contract).values_list(
                "key", flat=True
            )
        )
        == before
    )
    # installed once: the next install finds it and asks nothing
    again = template_install(
        organisation=tenant_a.org, actor=tenant_a.admin, key="contract"
    )
    assert again.already_installed
    assert again.doc_type == renamed.doc_type


def test_a_bad_or_taken_new_key_is_refused(tenant_a: Tenant) -> None:
    for new_key in ("", "Contract!", "contract"):
        with pytest.raises(ValidationFailed) as caught:
            template_install(
                organisation=tenant_a.org,
                actor=tenant_a.admin,
                key="contract",
                on_clash="rename",
                new_key=new_key,
            )
        assert {p.field for p in caught.value.problems} == {"new_key"}, new_key
    assert DocumentType.objects.filter(organisation=tenant_a.org).count() == 1


def test_hiring_asks_the_head_of_the_chosen_department(tenant_a: Tenant) -> None:
    result = template_install(
        organisation=tenant_a.org, actor=tenant_a.admin, key="hiring"
    )
    version = RouteVersion.objects.get(
        template__key="hiring", organisation=tenant_a.org
    )
    stages = {s["key"]: s for s in version.definition["stages"]}
    for key in ("interview", "documents", "onboarding"):
        (step,) = stages[key]["steps"]
        assert step["assignee"] == {"department_head_field": "department"}
        assert "when" not in step
    (schedule,) = stages["interview"]["steps"]
    assert schedule["on_done"]["invite"]["date_field"] == "interview_date"
    assert schedule["on_done"]["notify"] == ["initiator", "field:candidate_email"]
    department = FieldDef.objects.get(doc_type=result.doc_type, key="department")
    assert department.choices == [{"value": "sales", "ru": "Sales", "en": "Sales"}]


def test_only_an_administrator_of_the_organisation_installs(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with pytest.raises(PermissionDenied):
        template_install(
            organisation=tenant_a.org, actor=tenant_a.initiator, key="payment"
        )
    with pytest.raises(PermissionDenied):
        template_install(organisation=tenant_a.org, actor=tenant_b.admin, key="payment")
    with pytest.raises(NotFound):
        template_install(organisation=tenant_a.org, actor=tenant_a.admin, key="nope")
    assert not DocumentType.objects.filter(
        organisation=tenant_a.org, key="payment"
    ).exists()


def test_people_of_another_organisation_cannot_hold_a_role(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    stranger = tenant_b.colleague
    inactive = UserFactory(organisation=tenant_a.org, is_active=False)
    for person in (stranger, inactive):
        with pytest.raises(ValidationFailed) as caught:
            template_install(
                organisation=tenant_a.org,
                actor=tenant_a.admin,
                key="approval",
                role_holders={"first_approver": [person]},
            )
        assert caught.value.problems[0].field == "role_first_approver"
    assert not DocumentType.objects.filter(
        organisation=tenant_a.org, key="approval"
    ).exists()
    assert not Process.objects.exists()
