"""The reports say departments by their name in the reader's language (issue 12,
item 7): the chart, its table and the people's table show ``name_en`` under English
(the Russian name where there is none) and the Russian name under Russian, from one
cached report."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from sogla.orgs.models import User
from tests.reports.conftest import World

pytestmark = pytest.mark.django_db

APRIL_QUERY = "date_from=2025-04-01&date_to=2025-04-30"


def page(user: User, language: str) -> str:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client.get(f"/reports/?{APRIL_QUERY}").content.decode()


def chart(html: str) -> str:
    return html[html.index('id="dept-chart-title"') : html.index("</figure>")]


def test_the_department_chart_follows_the_readers_language(world: World) -> None:
    cache.clear()
    world.legal.name, world.legal.name_en = "Юридический отдел", "Legal department"
    world.legal.save()
    world.sales.name, world.sales.name_en = "Отдел продаж", ""
    world.sales.save()
    english = page(world.t.admin, "en")  # builds and caches the report
    assert "Legal department" in chart(english)
    assert "Юридический отдел" not in english
    assert "Отдел продаж" in chart(english)  # no English name: the Russian one
    russian = page(world.t.admin, "ru")  # the same cached report
    assert "Юридический отдел" in chart(russian)
    assert "Legal department" not in russian
