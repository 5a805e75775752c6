"""Words a new user tripped over (issue 13, item 14): the administration is
Sogla's, and a role's step reads «любой с ролью «…»» (English with plain quotes)."""

from __future__ import annotations

from django.utils import translation

from sogla.workflow.screens.route_map import _rule_words
from tests.conftest import Tenant
from tests.web.conftest import signed_in


def test_the_admin_is_titled_sogla_in_both_languages(tenant_a: Tenant) -> None:
    for language in ("ru", "en"):
        html = signed_in(tenant_a.admin, language).get("/admin/").content.decode()
        title = html.split("<title>")[1].split("</title>")[0]
        assert "Django" not in title
        assert "Sogla" in title
        assert "Django" not in html.split('id="site-name"')[1][:200]


def test_a_role_step_in_words() -> None:
    rule, names = {"role": "lawyer"}, {"lawyer": "Юрист"}
    with translation.override("ru"):
        assert _rule_words(rule, names, {}) == "любой с ролью «Юрист»"
    with translation.override("en"):
        assert _rule_words(rule, {"lawyer": "Lawyer"}, {}) == (
            'anyone with the role "Lawyer"'
        )


def test_the_head_of_a_department_chosen_in_a_field_in_words() -> None:
    rule, labels = {"department_head_field": "unit"}, {"unit": "Подразделение"}
    with translation.override("ru"):
        assert _rule_words(rule, {}, labels) == (
            "руководитель подразделения, выбранного в поле «Подразделение»"
        )
    with translation.override("en"):
        assert _rule_words(rule, {}, {"unit": "Unit"}) == (
            "the head of the department chosen in the field “Unit”"
        )


def test_english_dates_in_one_unambiguous_form() -> None:
    from datetime import date, datetime

    from django.utils import formats

    day, moment = date(2026, 12, 3), datetime(2026, 12, 3, 17, 1)  # noqa: DTZ001
    with translation.override("en"):
        assert formats.date_format(day) == "3 Dec 2026"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "3 Dec 2026"
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == (
            "3 Dec 2026, 17:01"
        )
    with translation.override("ru"):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "03.12.2026"
