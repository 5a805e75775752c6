"""The guest page names the organisation in the guest's language (issue 12, item 7):
``name_en`` under English, the Russian name under Russian or when there is no
English name."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.external.conftest import found, open_link, to_guest_stage

pytestmark = pytest.mark.django_db


def test_the_guest_page_names_the_organisation_in_the_guests_language(
    tenant_a, staff
) -> None:
    tenant_a.org.name, tenant_a.org.name_en = "ООО «Альфа»", "Alpha Ltd"
    tenant_a.org.save(update_fields=["name", "name_en"])
    _process, _task, token = to_guest_stage(tenant_a, staff)
    client = Client()
    open_link(client, token)
    english = client.get("/g/").content.decode()  # the organisation speaks English
    assert "Alpha Ltd" in english
    assert "Альфа" not in english
    csrf = found(r'name="csrfmiddlewaretoken" value="([^"]+)"', english)
    client.post("/g/language/", {"language": "ru", "csrfmiddlewaretoken": csrf})
    russian = client.get("/g/").content.decode()
    assert "ООО «Альфа»" in russian or "ООО &laquo;Альфа&raquo;" in russian
    assert "Alpha Ltd" not in russian
    tenant_a.org.name_en = ""
    tenant_a.org.save(update_fields=["name_en"])
    client.post("/g/language/", {"language": "en", "csrfmiddlewaretoken": csrf})
    assert "Альфа" in client.get("/g/").content.decode()  # no English name
