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
