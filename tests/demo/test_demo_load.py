"""The demo organisations: loading, idempotency, logins, types, tenant isolation."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import models
from django.utils import translation

from sogla.core.errors import ValidationFailed
from sogla.demo.pdf import simple_pdf
from sogla.demo.schema import DATA_DIR, read_bundles
from sogla.demo.services import DemoDataError, DemoReport, demo_load
from sogla.documents.models import (
    Contact,
    Counterparty,
    Document,
    DocumentType,
    FieldDef,
    FileVersion,
    StatusDef,
)
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.orgs.access import is_org_admin, manager_of
from sogla.orgs.models import Department, Organisation, Role, User, WorkingCalendar

TODAY = date(2026, 3, 2)

pytestmark = pytest.mark.django_db

NAMED_LOGINS = {
    "admin": set(),
    "director": {"ceo", "development_fund"},
    "deputy": {"deputy_ceo"},
    "lawyer": {"lawyer", "expert"},
    "accountant": {"accountant"},
    "cfo": {"cfo", "commercial_fund", "development_fund"},
    "manager": {"sales_manager"},
    "engineer": {"chief_engineer", "expert"},
    "hr": {"hr"},
    "office": {"office_manager"},
    "it": {"tech_specialist"},
}
ROLE_KEYS = {
    "ceo", "deputy_ceo", "executive_director", "cfo", "chief_accountant", "accountant",
    "lawyer", "chief_engineer", "hr", "tech_specialist", "office_manager", "editor",
    "seo", "designer", "head_of_design", "author", "expert", "sales_manager",
    "commercial_director", "mentor", "commercial_fund", "development_fund",
}  # fmt: skip
TYPE_KEYS = {
    "contract", "theatre_contract", "payment", "absence", "hiring", "article",
    "incoming_letter", "outgoing_letter",
}  # fmt: skip


def load(**kwargs: Any) -> DemoReport:
    return demo_load(today=TODAY, **kwargs)


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in ("orgs", "documents")
        for model in apps.get_app_config(app).get_models()
    } | {"role members": Role.members.through.objects.count()}


def argo() -> Organisation:
    return Organisation.objects.get(slug="argo")


def test_loads_on_an_empty_database() -> None:
    report = load()

    assert report.warnings == []
    org = argo()
    assert (org.name, org.country, org.time_zone, org.language) == (
        "ООО «Арго»",
        "RU",
        "Europe/Moscow",
        "ru",
    )
    calendar = WorkingCalendar.objects.get(organisation=org)
    assert (
        calendar.working_weekdays,
        calendar.day_starts.isoformat(),
        calendar.day_ends.isoformat(),
        calendar.use_public_holidays,
    ) == ("0,1,2,3,4", "09:00:00", "18:00:00", True)
    assert set(
        Department.objects.for_org(org).values_list("code", flat=True)
    ) >= {"management", "sales", "engineering", "legal", "accounting", "hr", "it",
          "office", "trainees"}  # fmt: skip
    assert Department.objects.for_org(org).filter(head=None).count() == 0
    assert Department.objects.get(organisation=org, code="trainees").parent is not None
    assert set(Role.objects.for_org(org).values_list("key", flat=True)) == ROLE_KEYS
    assert (
        set(DocumentType.objects.for_org(org).values_list("key", flat=True))
        == TYPE_KEYS
    )
    categories = set(
        Counterparty.objects.for_org(org).values_list("category", flat=True)
    )
    assert categories == {
        "customer", "supplier", "contractor", "tenant", "government", "partner", "person"
    }  # fmt: skip
    assert not Counterparty.objects.for_org(org).filter(contacts=None).exists()
    assert Document.objects.for_org(org).count() == 17
    assert (
        set(Document.objects.for_org(org).values_list("doc_type__key", flat=True))
        == TYPE_KEYS
    )
    assert Document.objects.for_org(org).values("initiator").distinct().count() >= 8
    assert 20 <= User.objects.filter(organisation=org).count() <= 25


def test_users_have_addresses_languages_and_the_demo_password() -> None:
    load()
    users = list(User.objects.filter(organisation=argo()))
    assert all(u.email == f"{u.username}@argo.example" for u in users)
    assert all(u.department_id and u.position_id and u.last_name for u in users)
    assert {u.username for u in users if u.language == "en"} == {"it", "designer"}
    assert authenticate(username="director", password="demo") is not None
    assert authenticate(username="beta-user", password="demo") is not None


def test_named_logins_have_their_roles() -> None:
    load()
    for username, roles in NAMED_LOGINS.items():
        user = User.objects.get(username=username)
        assert user.organisation == argo()
        assert set(user.roles.values_list("key", flat=True)) == roles, username
    admin = User.objects.get(username="admin")
    assert (admin.is_staff, admin.is_superuser, is_org_admin(admin)) == (
        True,
        False,
        True,
    )
    assert User.objects.filter(organisation=argo(), is_staff=True).count() == 1


def test_managers_follow_the_structure_with_explicit_exceptions() -> None:
    load()
    by_name = {u.username: u for u in User.objects.filter(organisation=argo())}
    assert manager_of(by_name["manager"]) == by_name["commercial"]  # head of sales
    assert manager_of(by_name["trainee"]) == by_name["mentor"]  # head of trainees
    assert manager_of(by_name["commercial"]) == by_name["director"]  # parent's head
    assert manager_of(by_name["designer"]) == by_name["art-director"]  # explicit
    assert manager_of(by_name["lawyer"]) == by_name["deputy"]  # explicit


def test_loading_twice_changes_nothing() -> None:
    load()
    before = row_counts()
    report = load()
    assert row_counts() == before
    assert not report.created_anything
    assert report.warnings == []
    assert len(report.logins) == 24


@pytest.mark.parametrize(
    ("language", "heading", "role"),
    [
        ("ru", "Войдите под любым", "Генеральный директор"),
        ("en", "Sign in as any", "General director"),
    ],
)
def test_the_printed_listing_is_in_one_language(
    language: str, heading: str, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with translation.override(language):
        call_command("demo")
    out = capsys.readouterr().out
    director = next(line for line in out.splitlines() if " director " in line)
    assert heading in out
    assert role in director


def test_a_second_load_keeps_what_people_changed() -> None:
    load()
    director = User.objects.get(username="director")
    director.first_name = "Сергей-изменён"
    director.set_password("my-own-password")
    director.save()
    Role.objects.get(organisation=argo(), key="lawyer").members.clear()
    sales = Department.objects.get(organisation=argo(), code="sales")
    sales.name = "Продажи"
    sales.head = None
    sales.save()
    contract = DocumentType.objects.get(organisation=argo(), key="contract")
    contract.fields.filter(key="object").delete()
    Counterparty.objects.filter(organisation=argo(), tax_id="7813526018").update(
        name="ООО «БТЛ»"
    )

    report = load()

    director.refresh_from_db()
    sales.refresh_from_db()
    assert director.first_name == "Сергей-изменён"
    assert director.check_password("my-own-password")
    assert not Role.objects.get(organisation=argo(), key="lawyer").members.exists()
    assert (sales.name, sales.head) == ("Продажи", None)
    assert not contract.fields.filter(key="object").exists()
    assert Counterparty.objects.get(organisation=argo(), tax_id="7813526018").name == (
        "ООО «БТЛ»"
    )
    assert Document.objects.for_org(argo()).count() == 17
    assert not report.created_anything
    login = next(x for x in report.logins if x.username == "director")
    assert login.password_set is False


def test_missing_records_are_created_again() -> None:
    load()
    # someone with no task in the sample processes (tasks keep their assignee)
    User.objects.filter(username="author").delete()
    Counterparty.objects.filter(tax_id="7825030827", organisation=argo()).update(
        tax_id="7825030834"
    )

    report = load()

    org_report = report.organisations[0]
    assert dict(+org_report.created) == {
        "users": 1,
        "role memberships": 1,
        "counterparties": 1,
    }
    author = User.objects.get(username="author")
    assert list(author.roles.values_list("key", flat=True)) == ["author"]


def test_reset_passwords_sets_the_demo_password_again() -> None:
    load()
    manager = User.objects.get(username="manager")
    manager.set_password("changed-by-user")
    manager.save()

    load()
    assert authenticate(username="manager", password="demo") is None

    report = load(reset_passwords=True)
    assert authenticate(username="manager", password="demo") is not None
    assert all(login.password_set for login in report.logins)


def test_a_username_taken_outside_the_demo_is_left_alone() -> None:
    root = User.objects.create_superuser("admin", "root@example.test", "root-pass-123")

    report = load(reset_passwords=True)

    root.refresh_from_db()
    assert (root.organisation_id, root.check_password("root-pass-123")) == (None, True)
    assert report.warnings == [
        "argo: the username 'admin' belongs to someone outside this organisation; "
        "left alone",
        "argo: no administrator to publish the routes; routes and processes skipped",
    ]
    assert "admin" not in {
        x.username for x in report.logins if x.organisation == "argo"
    }
    assert Document.objects.for_org(argo()).count() == 17


def test_every_demo_type_accepts_a_document_and_names_its_required_fields() -> None:
    load()
    org = argo()
    manager = User.objects.get(username="manager")
    lawyer = User.objects.get(username="lawyer")
    party = Counterparty.objects.get(organisation=org, tax_id="7804830163")
    samples = {
        "string": "Тест",
        "text": "Текст",
        "number": "5",
        "money": "1 000,50",
        "date": "31.12.2027",
        "bool": True,
        "user": lawyer.pk,
        "users": [lawyer.pk, manager.pk],
        "counterparty": party.pk,
        "url": "https://example.com/text",
    }
    pdf = simple_pdf(["test"])
    for doc_type in DocumentType.objects.for_org(org):
        fields = list(FieldDef.objects.filter(doc_type=doc_type))
        required = {f.key for f in fields if f.required}
        with pytest.raises(ValidationFailed) as caught:
            document_create(actor=manager, doc_type=doc_type, values={})
        assert {p.field for p in caught.value.problems} == required, doc_type.key

        values = {
            f.key: f.choices[0]["value"] if f.kind == "choice" else samples[f.kind]
            for f in fields
            if f.kind != "file"
        }
        files = [
            NewFile(bytes_upload(f.key, "файл.pdf", pdf), f.key)
            for f in fields
            if f.kind == "file"
        ]
        document = document_create(
            actor=manager, doc_type=doc_type, values=values, files=files
        )
        assert document.status.key in {"draft", "registered"}
        assert document.status.is_initial
        assert document.folder is not None
        assert FileVersion.objects.filter(file__document=document).count() == len(files)


def test_absence_justification_is_required_only_for_remote_work() -> None:
    load()
    absence = DocumentType.objects.get(organisation=argo(), key="absence")
    manager = User.objects.get(username="manager")
    dates = {"date_from": "2027-01-10", "date_to": "2027-01-12"}

    with pytest.raises(ValidationFailed) as caught:
        document_create(
            actor=manager, doc_type=absence, values={"reason": "remote", **dates}
        )
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("justification", "required")
    ]
    document = document_create(
        actor=manager, doc_type=absence, values={"reason": "vacation", **dates}
    )
    assert document.fields == {"reason": "vacation", **dates}
    assert (absence.has_files, absence.confidential) == (False, True)


def test_sample_documents_have_titles_files_and_relative_dates() -> None:
    load()
    contract = Document.objects.filter(
        organisation=argo(), doc_type__key="contract", counterparty__tax_id="7813526018"
    ).get()
    assert contract.title == (
        f"Договор {contract.number} с ООО «Балтийские туристические линии»: "
        "групповое размещение туристов в гостинице"
    )
    assert re.fullmatch(r"Д-2026-\d{5}", contract.number)
    assert contract.fields["end_date"] == "2027-03-02"
    assert contract.folder is not None
    assert contract.folder.path == "Договоры/2026"
    assert contract.initiator.username == "manager"
    version = FileVersion.objects.get(file__document=contract)
    assert (version.mime_type, version.file.field_key) == (
        "application/pdf",
        "contract_file",
    )
    statuses = set(
        Document.objects.for_org(argo()).values_list("status__key", flat=True)
    )
    # the sample processes moved most documents on (see test_demo_processes.py)
    assert statuses == {
        "draft", "on_approval", "signed", "to_pay", "rejected", "approved",
        "in_work", "preparation", "answered", "sent",
    }  # fmt: skip
    theatre = Document.objects.get(organisation=argo(), doc_type__key="theatre_contract",
                                   fields__funding_source="commercial_fund")  # fmt: skip
    controllers = set(
        User.objects.filter(pk__in=theatre.fields["fund_controllers"]).values_list(
            "username", flat=True
        )
    )
    assert controllers == {"cfo", "commercial", "chief-accountant"}


def test_status_lists_follow_the_vocabulary() -> None:
    load()
    org = argo()

    def statuses(key: str) -> list[tuple[str, str, str]]:
        return list(
            StatusDef.objects.filter(doc_type__organisation=org, doc_type__key=key)
            .order_by("order")
            .values_list("key", "meaning", "token")
        )

    assert statuses("contract") == [
        ("draft", "draft", "neutral"),
        ("on_approval", "active", "active"),
        ("returned", "active", "returned"),
        ("approved", "success", "approved"),
        ("signed", "success", "signed"),
        ("terminated", "archived", "cancelled"),
        ("rejected", "failure", "rejected"),
        ("cancelled", "failure", "cancelled"),
    ]
    assert statuses("incoming_letter") == [
        ("registered", "draft", "neutral"),
        ("in_work", "active", "active"),
        ("answered", "success", "approved"),
    ]
    for doc_type in DocumentType.objects.for_org(org):
        assert doc_type.statuses.filter(is_initial=True).count() == 1


def test_the_two_organisations_share_nothing() -> None:
    load()
    org_ids = set(Organisation.objects.values_list("pk", flat=True))
    assert len(org_ids) == 2
    checked = 0
    for model in apps.get_models():
        if not any(f.name == "organisation" for f in model._meta.concrete_fields):
            continue
        for field in model._meta.concrete_fields:
            target = field.related_model
            if not isinstance(field, models.ForeignKey) or target is Organisation:
                continue
            assert target is not None
            if not any(f.name == "organisation" for f in target._meta.concrete_fields):
                continue
            mixed = model._default_manager.exclude(**{field.name: None}).exclude(
                **{f"{field.name}__organisation": models.F("organisation")}
            )
            assert not mixed.exists(), f"{model._meta.label}.{field.name}"
            checked += 1
    assert checked >= 15
    mixed_roles = Role.members.through.objects.exclude(
        role__organisation=models.F("user__organisation")
    )
    assert not mixed_roles.exists()
    beta = Organisation.objects.get(slug="beta")
    assert set(
        User.objects.filter(organisation=beta).values_list("username", flat=True)
    ) == {
        "beta-admin",
        "beta-user",
    }
    assert Document.objects.for_org(beta).count() == 1
    # The same tax id lives in both directories, as two separate rows.
    same = Counterparty.objects.filter(tax_id="7804830163")
    assert sorted(same.values_list("organisation__slug", flat=True)) == ["argo", "beta"]
    assert (
        Contact.objects.filter(counterparty__in=same)
        .values("organisation")
        .distinct()
        .count()
        == 2
    )


def _inn_valid(inn: str) -> bool:
    digits = [int(d) for d in inn]

    def check(weights: list[int]) -> int:
        return sum(w * d for w, d in zip(weights, digits, strict=False)) % 11 % 10

    if len(digits) == 10:
        return check([2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[9]
    if len(digits) == 12:
        return (
            check([7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[10]
            and check([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[11]
        )
    return False


def test_demo_tax_ids_have_valid_check_digits() -> None:
    tax_ids = [p.tax_id for b in read_bundles() for p in b.counterparties]
    assert tax_ids
    assert [t for t in tax_ids if not _inn_valid(t)] == []


def test_demo_pdf_is_well_formed() -> None:
    data = simple_pdf(["Contract (draft) \\ 1", "Договор"])
    assert data.startswith(b"%PDF-1.4\n")
    assert data.endswith(b"%%EOF\n")
    xref_at = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert data[xref_at:].startswith(b"xref\n0 6\n")
    entries = data[xref_at:].split(b"\n")[3:8]
    for number, entry in enumerate(entries, start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    assert b"(Contract \\(draft\\) \\\\ 1) Tj" in data
    assert b"(???????) Tj" in data
    assert simple_pdf(["a"]) == simple_pdf(["a"])


def test_command_prints_logins_and_a_weak_password_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("demo")
    first = capsys.readouterr().out
    call_command("demo")
    second = capsys.readouterr().out

    assert "ООО «Арго» (argo): organisation: 1," in first
    assert re.search(r"argo\s+director\s+Сергей Орлов — General director", first)
    assert re.search(
        r"beta\s+beta-admin\s+Олег Сидоров — organisation administrator", first
    )
    assert "“demo”" in first
    assert "Warning: demo passwords are weak" in first
    assert "ООО «Арго» (argo): nothing to add, already loaded" in second


def test_contradictory_data_is_refused_and_nothing_is_saved(tmp_path: Path) -> None:
    folder = tmp_path / "beta"
    shutil.copytree(DATA_DIR / "beta", folder)
    types = json.loads((folder / "document_types.json").read_text(encoding="utf-8"))
    types[0]["title_template"] = "Записка {number}: {no_such_field}"
    (folder / "document_types.json").write_text(json.dumps(types), encoding="utf-8")

    with pytest.raises(DemoDataError, match=r"memo: title template: unknown \{no_such"):
        demo_load(data_dir=tmp_path, today=TODAY)

    assert not Organisation.objects.exists()
    assert not User.objects.exists()


def test_a_misspelt_key_in_the_data_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "beta"
    shutil.copytree(DATA_DIR / "beta", folder)
    org = json.loads((folder / "organisation.json").read_text(encoding="utf-8"))
    org["users"][0]["rolse"] = ["ceo"]
    (folder / "organisation.json").write_text(json.dumps(org), encoding="utf-8")

    with pytest.raises(DemoDataError, match="rolse"):
        demo_load(data_dir=tmp_path, today=TODAY)
