"""Full-text search (documents.fulltext, services.search, searching): the same
results on SQLite (FTS5 + Snowball stems) and PostgreSQL (tsvector, russian), run on
both by the suite; Russian word forms, file text by the worker, access rules,
hostile strings, ranking, paging, statements per page."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sogla.demo.pdf import simple_pdf
from sogla.documents.models import Document, DocumentType, FileText, SearchEntry
from sogla.documents.selectors import DocumentFilter, document_list
from sogla.documents.services import (
    CounterpartyData,
    NewFile,
    counterparty_update,
    document_create,
    file_add,
    register_talk_source,
    search_index_due,
    search_mark,
    search_rebuild,
)
from sogla.documents.services.search import _TALK_SOURCES
from sogla.documents.textextract import extract_text
from sogla.documents.uploads import DOCX, bytes_upload
from sogla.orgs.models import User
from tests.api.conftest import token_client
from tests.conftest import Tenant
from tests.factories import CounterpartyFactory, DocumentTypeFactory, add_field


@pytest.fixture(autouse=True)
def _neutral_type_names(tenant_a: Tenant, tenant_b: Tenant) -> None:
    """Titles hold the type's name («Договор …»): keep it out of the words searched."""
    for tenant in (tenant_a, tenant_b):
        DocumentType.objects.filter(pk=tenant.contract.pk).update(
            name_ru="Карточка", name_en="Card"
        )
        tenant.contract.refresh_from_db()


def docx_bytes(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make(
    tenant: Tenant,
    subject: str,
    *,
    actor: User | None = None,
    doc_type: DocumentType | None = None,
    party: int | None = None,
    files: list[NewFile] | None = None,
) -> Document:
    values: dict[str, object] = {"subject": subject, "amount": "500"}
    if party is not None:
        values["counterparty"] = party
    return document_create(
        actor=actor or tenant.initiator,
        doc_type=doc_type or tenant.contract,
        values=values,
        files=files or [],
    )


def found(user: User, q: str, **filters: object) -> list[str]:
    page = document_list(user=user, filters=DocumentFilter(q=q, **filters))  # type: ignore[arg-type]
    return [d.fields["subject"] for d in page.items]


@pytest.mark.parametrize(
    ("query", "hit"),
    [
        ("договоры", True),
        ("Договорами поставки", True),
        ("поставкам", True),
        ("оборудованию", True),
        ("ДОГОВОР ОБОРУДОВАНИЯ", True),
        ("догов", True),  # a word start
        ("поставки догов", True),  # the last word may be unfinished
        ("догов поставки", False),  # the words before it are complete words
        ("аренда", False),
        ("договор аренды", False),  # every word must be found
    ],
)
def test_russian_word_forms(tenant_a: Tenant, query: str, hit: bool) -> None:
    make(tenant_a, "Договор поставки оборудования")
    make(tenant_a, "Счёт на оплату")
    assert found(tenant_a.initiator, query) == (
        ["Договор поставки оборудования"] if hit else []
    )


def test_only_the_last_long_enough_word_is_a_prefix() -> None:
    from sogla.documents.fulltext import Query

    query = Query.parse("Договоры поставка")
    assert query.tsquery() == "'договоры' & 'поставка':*"
    assert query.fts5() == '"договор" "поставк"*'
    short = Query.parse("договоры ab")
    assert short.tsquery() == "'договоры' & 'ab'"
    assert short.fts5() == '"договор" "ab"'
    assert query.matches("договорами")
    assert query.matches("поставками")
    assert not query.matches("договорной")


def test_english_word_forms_and_yo(tenant_a: Tenant) -> None:
    make(tenant_a, "Supplies of running shoes")
    make(tenant_a, "Ёлочные игрушки")
    assert found(tenant_a.initiator, "supply run") == ["Supplies of running shoes"]
    assert found(tenant_a.initiator, "елочных") == ["Ёлочные игрушки"]


def test_counterparty_name_and_tax_id_and_number(tenant_a: Tenant) -> None:
    party = CounterpartyFactory(
        organisation=tenant_a.org, name="ООО «Кровельщик»", tax_id="7701234567"
    )
    doc = make(tenant_a, "Ремонт", party=party.pk)
    make(tenant_a, "Другое")
    assert found(tenant_a.initiator, "7701234567") == ["Ремонт"]
    assert found(tenant_a.initiator, "кровельщика") == ["Ремонт"]
    assert found(tenant_a.initiator, doc.number) == ["Ремонт"]
    assert found(tenant_a.initiator, doc.number[-5:]) == ["Ремонт"]


def test_a_query_that_looks_like_a_number() -> None:
    from sogla.documents.fulltext import Query

    assert Query.parse(" Д-2026-00669 ").number == "Д-2026-00669"
    assert Query.parse("ВХ-0012/26").number == "ВХ-0012/26"
    assert Query.parse("д-2026-006").number == "д-2026-006"  # the start of one
    for text in (
        "2026",  # one group: a word
        "Д-2026-",  # unfinished group
        "Д 2026 00669",  # words
        "договор-поставки",  # no digit
        "Д-2026-00669 поставка",  # a number and a word
        "Д-2026_00669",
        "Д-2026-0066%",
        "7701234567",  # a tax id: one term
    ):
        assert Query.parse(text).number == "", text


def numbered_type(tenant: Tenant, prefix: str, pattern: str) -> DocumentType:
    doc_type = DocumentTypeFactory(
        organisation=tenant.org,
        key=f"numbered-{prefix}",
        prefix=prefix,
        numbering_pattern=pattern,
        name_ru="Карточка",
        name_en="Card",
    )
    add_field(doc_type, "subject", tenant.contract.fields.get(key="subject").kind)
    add_field(doc_type, "amount", tenant.contract.fields.get(key="amount").kind)
    return doc_type


def test_a_number_finds_its_document_by_number(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """A query that looks like a number is looked up by number (the
    ``(organisation, number)`` index) before the full-text index: the number equal
    to it first, then the numbers starting with it, highest first; as typed or in
    capitals; within the organisation."""
    memo = numbered_type(tenant_a, "N", "{prefix}-{seq}")
    made = [
        make(tenant_a, f"Записка {index + 1}", doc_type=memo) for index in range(12)
    ]
    assert [d.number for d in made[:2]] == ["N-1", "N-2"]
    mention = make(tenant_a, "Дополнение к N-1")
    other = numbered_type(tenant_b, "N", "{prefix}-{seq}")
    make(tenant_b, "Чужая записка", doc_type=other)  # N-1 of the other tenant

    expected = ["Записка 1", "Записка 12", "Записка 11", "Записка 10"]
    assert found(tenant_a.initiator, "N-1") == expected
    assert found(tenant_a.initiator, "n-1") == expected
    assert found(tenant_a.initiator, "N-12") == ["Записка 12"]
    # the document that mentions the number is found with more words
    assert found(tenant_a.initiator, "N-1 дополнение") == ["Дополнение к N-1"]
    assert mention.number.startswith("D-")
    # the other tenant sees its own N-1 only
    assert found(tenant_b.initiator, "N-1") == ["Чужая записка"]
    assert found(tenant_b.initiator, "N-12") == []
    # other filters still apply
    assert found(tenant_a.initiator, "N-1", mine=True) == expected
    assert found(tenant_a.colleague, "N-1", mine=True) == []


def test_a_number_not_found_by_number_goes_to_the_full_text_index(
    tenant_a: Tenant,
) -> None:
    letter = numbered_type(tenant_a, "Вх", "{prefix}-{seq:04}/{yy}")
    doc = make(tenant_a, "Письмо")
    incoming = make(tenant_a, "Входящее", doc_type=letter)
    assert incoming.number.startswith("Вх-0001/")
    # typed in small letters: «ВХ-…» is no number, the words are found
    assert found(tenant_a.initiator, incoming.number.lower()) == ["Входящее"]
    # the end of a number: its words
    assert found(tenant_a.initiator, doc.number.split("-", 1)[1]) == ["Письмо"]


def test_a_number_of_a_hidden_document_stays_hidden(tenant_a: Tenant) -> None:
    secret = DocumentTypeFactory(
        organisation=tenant_a.org, key="secret", prefix="S", confidential=True
    )
    add_field(secret, "subject", tenant_a.contract.fields.get(key="subject").kind)
    add_field(secret, "amount", tenant_a.contract.fields.get(key="amount").kind)
    doc = make(tenant_a, "Увольнение", doc_type=secret)
    assert found(tenant_a.initiator, doc.number) == ["Увольнение"]
    assert found(tenant_a.colleague, doc.number) == []
    assert found(tenant_a.colleague, doc.number[:-1]) == []
    assert found(tenant_a.admin, doc.number) == ["Увольнение"]


def test_a_number_search_pages_and_counts(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sogla.documents import searching

    memo = numbered_type(tenant_a, "N", "{prefix}-{seq}")
    for index in range(12):
        make(tenant_a, f"Записка {index + 1}", doc_type=memo)
    seen: list[str] = []
    cursor = ""
    while True:
        with CaptureQueriesContext(connection) as captured:
            page = document_list(
                user=tenant_a.initiator,
                filters=DocumentFilter(q="N-1"),
                cursor=cursor,
                limit=3,
            )
        assert len(captured) <= 3  # number match, rows, snippets
        assert (page.total, page.approximate) == (4, False)
        seen += [d.fields["subject"] for d in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == ["Записка 1", "Записка 12", "Записка 11", "Записка 10"]
    monkeypatch.setattr(searching, "RANKED", 2)
    page = document_list(user=tenant_a.initiator, filters=DocumentFilter(q="N-1"))
    assert page.approximate
    answer = token_client(tenant_a.initiator).get("/documents", data={"q": "n-1"})
    assert answer.status_code == 200
    assert len(answer.json()["items"]) == 3  # N-1 and the 2 highest it starts


def test_counterparty_renamed_is_found_by_new_name_after_the_worker(
    tenant_a: Tenant,
) -> None:
    party = CounterpartyFactory(organisation=tenant_a.org, name="Старое имя")
    make(tenant_a, "Ремонт", party=party.pk)
    counterparty_update(
        actor=tenant_a.admin,
        counterparty=party,
        data=CounterpartyData(name="Новая компания", tax_id="5005005001"),
    )
    assert found(tenant_a.initiator, "5005005001") == []
    search_index_due()
    assert found(tenant_a.initiator, "5005005001") == ["Ремонт"]
    assert found(tenant_a.initiator, "компании") == ["Ремонт"]


def test_file_text_is_indexed_by_the_worker_with_a_snippet(tenant_a: Tenant) -> None:
    upload = bytes_upload(
        "contract_file",
        "договор.docx",
        docx_bytes("Предмет договора", "Подрядчик <b>выполняет</b> кровельные работы."),
    )
    doc = make(tenant_a, "Ремонт", files=[NewFile(upload, "contract_file")])
    assert SearchEntry.objects.get(document=doc).pending
    assert found(tenant_a.initiator, "кровельной") == []  # not extracted yet

    assert search_index_due() == 1

    entry = SearchEntry.objects.get(document=doc)
    assert not entry.pending
    assert "кровельные работы" in entry.files
    page = document_list(
        user=tenant_a.initiator, filters=DocumentFilter(q="кровельной работой")
    )
    assert [d.pk for d in page.items] == [doc.pk]
    snippet = page.extra["snippets"][doc.pk]
    assert "<mark>кровельные</mark> <mark>работы</mark>" in snippet
    assert "&lt;b&gt;" in snippet  # the file's text is escaped
    assert FileText.objects.get(sha256=upload.sha256).state == "ok"


def test_a_new_version_replaces_the_old_text(tenant_a: Tenant) -> None:
    first = bytes_upload("f", "a.txt", "Первая редакция про бетон".encode())
    doc = make(tenant_a, "Ремонт", files=[NewFile(first, "contract_file")])
    search_index_due()
    assert found(tenant_a.initiator, "бетон") == ["Ремонт"]
    second = bytes_upload("f", "a.txt", "Вторая редакция про кирпич".encode())
    file_add(
        actor=tenant_a.initiator, document=doc, new=NewFile(second, "contract_file")
    )
    search_index_due()
    assert found(tenant_a.initiator, "бетон") == []
    assert found(tenant_a.initiator, "кирпича") == ["Ремонт"]


def test_pdf_text_in_english(tenant_a: Tenant) -> None:
    pdf = simple_pdf(["Roofing works agreement", "Payments within ten days"])
    upload = bytes_upload("contract_file", "roof.pdf", pdf)
    make(tenant_a, "Кровля", files=[NewFile(upload, "contract_file")])
    search_index_due()
    assert found(tenant_a.initiator, "roof payment") == ["Кровля"]


def test_talk_sources_are_searched(tenant_a: Tenant) -> None:
    doc = make(tenant_a, "Ремонт")

    def source(ids: object) -> dict[int, list[str]]:
        return {doc.pk: ["Согласовано, но уточните гарантийный срок"]}

    register_talk_source(source)
    try:
        search_mark([doc.pk])
        search_index_due()
        assert found(tenant_a.initiator, "гарантийного") == ["Ремонт"]
    finally:
        _TALK_SOURCES.remove(source)


def test_title_beats_file_text_in_rank(tenant_a: Tenant) -> None:
    upload = bytes_upload("f", "x.txt", "Здесь упомянута гидроизоляция".encode())
    make(tenant_a, "Смета", files=[NewFile(upload, "contract_file")])
    make(tenant_a, "Гидроизоляция фундамента")
    make(tenant_a, "Прочее")
    search_index_due()
    assert found(tenant_a.initiator, "гидроизоляции") == [
        "Гидроизоляция фундамента",
        "Смета",
    ]


def test_paging_through_results(tenant_a: Tenant) -> None:
    for index in range(5):
        make(tenant_a, f"Поставка {index}")
    make(tenant_a, "Аренда")
    seen: list[int] = []
    cursor = ""
    while True:
        page = document_list(
            user=tenant_a.initiator,
            filters=DocumentFilter(q="поставки"),
            cursor=cursor,
            limit=2,
        )
        assert page.total == 5
        seen += [d.pk for d in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 5


def test_a_broad_search_ranks_only_the_newest_matches_and_says_at_least(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``searching.RANKED`` matches only the newest are ranked; the total is a
    floor, and the registry and the API say so."""
    from sogla.documents import searching

    made = [make(tenant_a, f"Поставка {index}") for index in range(5)]
    page = document_list(user=tenant_a.initiator, filters=DocumentFilter(q="поставка"))
    assert (page.total, page.approximate) == (5, False)
    monkeypatch.setattr(searching, "RANKED", 3)
    page = document_list(user=tenant_a.initiator, filters=DocumentFilter(q="поставка"))
    assert page.approximate
    assert page.total == 3
    assert {d.pk for d in page.items} == {d.pk for d in made[-3:]}
    client = Client()
    client.force_login(tenant_a.initiator)
    html = client.get("/documents/", {"q": "поставка"}).content.decode()
    assert "не менее 3 документов" in html
    answer = token_client(tenant_a.initiator).get("/documents", data={"q": "поставка"})
    assert answer.json()["total_approximate"] is True


def test_the_newest_matches_are_counted_within_the_organisation(
    tenant_a: Tenant, tenant_b: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another organisation's newer matches do not use up the ranked matches."""
    from sogla.documents import searching

    mine = [make(tenant_a, f"Поставка {index}") for index in range(2)]
    for index in range(4):
        make(tenant_b, f"Поставка {index}")
    monkeypatch.setattr(searching, "RANKED", 3)
    page = document_list(user=tenant_a.initiator, filters=DocumentFilter(q="поставка"))
    assert {d.pk for d in page.items} == {d.pk for d in mine}
    assert (page.total, page.approximate) == (2, False)


def test_the_registry_counts_up_to_a_bound(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sogla.documents import selectors

    for index in range(4):
        make(tenant_a, f"Счёт {index}")
    page = document_list(user=tenant_a.initiator, filters=DocumentFilter())
    assert (page.total, page.approximate) == (4, False)
    monkeypatch.setattr(selectors.registry, "COUNTED", 3)
    page = document_list(user=tenant_a.initiator, filters=DocumentFilter())
    assert (page.total, page.approximate, len(page.items)) == (3, True, 4)


def test_other_filters_still_apply(tenant_a: Tenant) -> None:
    make(tenant_a, "Поставка мебели")
    make(tenant_a, "Поставка бумаги", actor=tenant_a.colleague)
    assert found(tenant_a.initiator, "поставка", mine=True) == ["Поставка мебели"]


def test_confidential_types_and_other_tenants_stay_hidden(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    secret = DocumentTypeFactory(
        organisation=tenant_a.org, key="secret", prefix="S", confidential=True
    )
    add_field(secret, "subject", tenant_a.contract.fields.get(key="subject").kind)
    add_field(secret, "amount", tenant_a.contract.fields.get(key="amount").kind)
    make(tenant_a, "Увольнение сотрудника", doc_type=secret)
    make(tenant_b, "Увольнение по соглашению")

    assert found(tenant_a.initiator, "увольнения") == ["Увольнение сотрудника"]
    assert found(tenant_a.colleague, "увольнения") == []
    assert found(tenant_a.admin, "увольнения") == ["Увольнение сотрудника"]
    assert found(tenant_b.initiator, "увольнения") == ["Увольнение по соглашению"]


HOSTILE = [
    '"',
    "'",
    "''",
    '"договор',
    "договор*",
    "* OR 1=1 --",
    "' OR ''='",
    "NEAR(договор поставка)",
    "договор NOT поставка",
    "договор | поставка & !аренда",
    "a:* & b",
    "договор:*",
    "(((",
    "^договор",
    "{head}: договор",
    "head:договор",
    "-договор",
    "\\x00\x00договор",
    "Cloudстрой договор",
    "дОгОвОр ПоСтАвКи",
    "🙂🚀",
    "договор 🙂 поставки",
    "の契約",
    "%_%",
    "<script>alert(1)</script>",
    "и или the and",  # stop words only
    "д" * 10_240,
    ("договор " * 1500)[:10_240],
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_give_no_error_and_no_operators(
    tenant_a: Tenant, query: str
) -> None:
    make(tenant_a, "Договор поставки")
    make(tenant_a, "Аренда склада")
    names = found(tenant_a.initiator, query)
    # never everything: "Аренда склада" holds no word any of these queries has
    assert "Аренда склада" not in names


def test_hostile_strings_through_the_registry_and_the_api(tenant_a: Tenant) -> None:
    make(tenant_a, "Договор поставки")
    client = Client()
    client.force_login(tenant_a.initiator)
    api = token_client(tenant_a.initiator)
    for query in HOSTILE:
        page = client.get("/documents/", {"q": query})
        assert page.status_code == 200, query
        response = api.get("/documents", data={"q": query})
        # the API refuses a NUL character in any parameter with a 422 naming it
        assert response.status_code == (422 if "\x00" in query else 200), query


def test_api_search_with_snippets(tenant_a: Tenant, tenant_b: Tenant) -> None:
    party = CounterpartyFactory(organisation=tenant_a.org, tax_id="7701234567")
    doc = make(tenant_a, "Договор поставки", party=party.pk)
    make(tenant_b, "Договор поставки")
    response = token_client(tenant_a.initiator).get(
        "/documents", data={"q": "7701234567"}
    )
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [doc.pk]
    assert body["total"] == 1
    # the tax id is not in the item: the snippet shows where it was found
    assert "<mark>7701234567</mark>" in body["snippets"][str(doc.pk)]


def test_no_snippet_repeats_what_the_row_shows(tenant_a: Tenant) -> None:
    """A snippet says where a document matched; when its number, title and
    counterparty (what a result's row shows) hold every word of the query, a
    piece of its head would repeat them (the registry's search pages went over
    their 60 KB with such pieces). Words found elsewhere still get one."""
    party = CounterpartyFactory(
        organisation=tenant_a.org, name="ООО «Кровельщик»", tax_id="7701234567"
    )
    doc = make(tenant_a, "Договор поставки", party=party.pk)

    def snippets(q: str) -> dict[int, str]:
        page = document_list(user=tenant_a.initiator, filters=DocumentFilter(q=q))
        assert [d.pk for d in page.items] == [doc.pk], q
        return dict(page.extra["snippets"])

    assert snippets("договоры") == {}  # the title
    assert snippets("кровельщика") == {}  # the counterparty
    assert snippets("кровельщик поставки") == {}  # both, together
    assert "<mark>7701234567</mark>" in snippets("7701234567")[doc.pk]
    # one word the row does not show: the head's piece marks the words
    assert "<mark>7701234567</mark>" in snippets("поставка 7701234567")[doc.pk]


def test_registry_page_shows_snippets(tenant_a: Tenant) -> None:
    party = CounterpartyFactory(organisation=tenant_a.org, tax_id="7701234567")
    make(tenant_a, "Договор поставки", party=party.pk)
    client = Client()
    client.force_login(tenant_a.initiator)
    page = client.get("/documents/", {"q": "поставкам 7701234567"})
    assert page.status_code == 200
    assert "<mark>7701234567</mark>" in page.content.decode()


def test_statements_per_search_page_do_not_grow_with_results(
    tenant_a: Tenant,
) -> None:
    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = document_list(
                user=tenant_a.initiator, filters=DocumentFilter(q="поставка")
            )
            assert page.items
        return len(captured)

    make(tenant_a, "Поставка 1")
    few = statements()
    for index in range(12):
        make(tenant_a, f"Поставка {index + 2}")
    assert statements() == few <= 4


def test_rebuild_indexes_everything(tenant_a: Tenant) -> None:
    make(tenant_a, "Поставка")
    SearchEntry.objects.all().delete()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM documents_search_fts")
    assert found(tenant_a.initiator, "поставка") == []
    assert search_rebuild() == 1
    assert found(tenant_a.initiator, "поставка") == ["Поставка"]


# --- text extraction ---------------------------------------------------------------


def test_extraction_refuses_bad_files_without_raising() -> None:
    assert extract_text(b"%PDF-1.4 garbage", "application/pdf").reason == "unreadable"
    assert extract_text(b"not a zip", DOCX).reason == "unreadable"
    assert extract_text(b"\x00\x01", "image/png").reason == "unsupported"


def test_extraction_refuses_a_docx_bomb() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<" + b" " * 150_000_000 + b">")
    got = extract_text(out.getvalue(), DOCX)
    assert (got.text, got.reason) == ("", "too_large")


def test_extraction_reads_windows_1251_text() -> None:
    got = extract_text("Договор аренды".encode("cp1251"), "text/plain")
    assert got.text == "Договор аренды"
    assert got.ok


def test_an_unreadable_file_does_not_stop_the_queue(tenant_a: Tenant) -> None:
    broken = bytes_upload("f", "broken.pdf", b"%PDF-1.4\n" + b"\x8f" * 5000)
    doc = make(tenant_a, "Ремонт", files=[NewFile(broken, "contract_file")])
    assert search_index_due() == 1
    assert not SearchEntry.objects.get(document=doc).pending
    assert FileText.objects.get(sha256=broken.sha256).state == "failed"


# --- export of the registry's current view -------------------------------------------


def test_export_of_the_current_view_is_guarded_against_formulas(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    evil = CounterpartyFactory(organisation=tenant_a.org, name="=HYPERLINK(1)")
    make(tenant_a, "Ремонт", party=evil.pk)
    make(tenant_a, "Договор поставки")
    make(tenant_a, "Аренда")
    make(tenant_b, "Договор поставки")
    client = Client()
    client.force_login(tenant_a.initiator)

    everything = client.get("/documents/export.csv")
    assert everything.status_code == 200
    assert everything["Content-Type"].startswith("text/csv")
    text = everything.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert text.count("\n") == 4  # header + the three of tenant A

    searched = client.get("/documents/export.csv", {"q": "договоры"})
    lines = searched.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2
    assert "Договор поставки" in lines[1]

    xlsx = client.get("/documents/export.xlsx", {"q": "договоры"})
    assert xlsx.status_code == 200
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert client.get("/documents/export.pdf").status_code == 404
    page = client.get("/documents/", {"q": "договоры"}).content.decode()
    assert "/documents/export.csv?q=" in page


def test_registry_counterparty_search_box(tenant_a: Tenant, tenant_b: Tenant) -> None:
    roof = CounterpartyFactory(
        organisation=tenant_a.org, name="ООО «Кровля-Сервис»", tax_id="7812345678"
    )
    other = CounterpartyFactory(organisation=tenant_a.org, name="АО «Лифты»")
    first = make(tenant_a, "Ремонт", party=roof.pk)
    second = make(tenant_a, "Лифты", party=other.pk)
    client = Client()
    client.force_login(tenant_a.initiator)
    for text in ("кровля", "КРОВЛЯ-сервис", "78123"):
        html = client.get("/documents/", {"party": text}).content.decode()
        assert first.number in html, text
        assert second.number not in html, text
    by_id = client.get("/documents/", {"counterparty": other.pk}).content.decode()
    assert second.number in by_id
    assert first.number not in by_id
    assert f'name="counterparty" value="{other.pk}"' in by_id  # kept on refilter
    outsider = Client()
    outsider.force_login(tenant_b.initiator)
    html = outsider.get("/documents/", {"party": "кровля"}).content.decode()
    assert first.number not in html
