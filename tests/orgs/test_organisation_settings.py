"""The "Organisation" settings tab (issue 12, item 7): an administrator sets the
organisation's names in Russian and English, its default language and time zone and
the country of its public holidays there instead of in the Django admin. One
service (``structure.organisation_update``): one transaction, audited with the old
and new values, administrators of the organisation only, bad values refused naming
the field in the reader's language."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.utils import translation

from sogla.core.errors import PermissionDenied, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.orgs import structure
from sogla.orgs.calendars import calendar_version
from sogla.orgs.models import Organisation, User
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

URL = "/settings/organisation/"
GOOD = {
    "name": "ООО «Альфа»",
    "name_en": "Alpha Ltd",
    "language": "en",
    "time_zone": "Asia/Yekaterinburg",
    "country": "BY",
}


def client_of(user: User, language: str = "en") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def audits(org: Organisation) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.for_org(org)
        .filter(verb="organisation.changed")
        .order_by("pk")
    )


# --- the service ------------------------------------------------------------------------


def test_the_service_changes_every_setting_and_audits_old_and_new(
    tenant_a: Tenant,
) -> None:
    org = tenant_a.org
    before = {k: getattr(org, k) for k in structure.ORGANISATION_SETTINGS}
    version = calendar_version(org.pk)
    structure.organisation_update(actor=tenant_a.admin, changes=GOOD)
    org.refresh_from_db()
    assert {k: getattr(org, k) for k in GOOD} == GOOD
    [event] = audits(org)
    assert event.actor_id == tenant_a.admin.pk
    assert event.target_type == "organisation"
    assert event.payload["changes"] == {
        k: {"old": before[k], "new": GOOD[k]} for k in GOOD if before[k] != GOOD[k]
    }
    # another country, other holidays: every process reads the calendar again
    assert calendar_version(org.pk) > version
    # saving the same values again changes and records nothing
    structure.organisation_update(actor=tenant_a.admin, changes=GOOD)
    assert len(audits(org)) == 1


def test_names_are_trimmed_and_the_english_one_may_be_empty(tenant_a: Tenant) -> None:
    structure.organisation_update(
        actor=tenant_a.admin, changes={"name": "  Альфа  ", "name_en": "   "}
    )
    tenant_a.org.refresh_from_db()
    assert (tenant_a.org.name, tenant_a.org.name_en) == ("Альфа", "")
    with translation.override("en"):
        assert tenant_a.org.display_name == "Альфа"  # no English name: the Russian


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"name": "  "}, {"name": "required"}),
        ({"name": "x" * 201, "name_en": "y" * 201},
         {"name": "too_long", "name_en": "too_long"}),
        ({"language": "de"}, {"language": "invalid"}),
        ({"time_zone": "Mars/Olympus"}, {"time_zone": "invalid"}),
        ({"country": "XX"}, {"country": "invalid"}),
        ({"country": "RUS"}, {"country": "invalid"}),  # two letters only
        ({"slug": "other"}, {"slug": "unknown"}),
        ({"name": "", "time_zone": "", "country": ""},
         {"name": "required", "time_zone": "invalid", "country": "invalid"}),
    ],
)  # fmt: skip
def test_bad_values_are_refused_naming_each_field_and_nothing_changes(
    tenant_a: Tenant, changes: dict[str, str], problems: dict[str, str]
) -> None:
    before = Organisation.objects.values().get(pk=tenant_a.org.pk)
    with pytest.raises(ValidationFailed) as refused:
        structure.organisation_update(actor=tenant_a.admin, changes={**GOOD, **changes})
    assert {p.field: p.code for p in refused.value.problems} == problems
    assert Organisation.objects.values().get(pk=tenant_a.org.pk) == before
    assert audits(tenant_a.org) == []


def test_only_an_administrator_may_and_only_for_their_organisation(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with pytest.raises(PermissionDenied):
        structure.organisation_update(actor=tenant_a.initiator, changes=GOOD)
    structure.organisation_update(actor=tenant_b.admin, changes=GOOD)
    tenant_a.org.refresh_from_db()
    tenant_b.org.refresh_from_db()
    assert tenant_a.org.name == "Alpha"
    assert tenant_a.org.name_en == ""
    assert tenant_b.org.name_en == "Alpha Ltd"
    assert audits(tenant_a.org) == []
    assert len(audits(tenant_b.org)) == 1


# --- the screen -------------------------------------------------------------------------


def test_the_tab_shows_the_settings_and_saves_them(tenant_a: Tenant) -> None:
    admin = client_of(tenant_a.admin)
    page = admin.get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'href="/settings/organisation/"' in text
    assert (
        'aria-current="page"' in text.split('href="/settings/organisation/"')[0][-120:]
    )
    assert 'value="Alpha"' in text
    assert '<option value="Europe/Moscow" selected>' in text
    assert '<option value="RU" selected>' in text
    saved = admin.post(URL, GOOD, REMOTE_ADDR="10.1.2.3")
    assert saved.status_code == 302
    assert saved["Location"] == URL
    tenant_a.org.refresh_from_db()
    assert (tenant_a.org.name_en, tenant_a.org.time_zone) == (
        "Alpha Ltd",
        "Asia/Yekaterinburg",
    )
    [event] = audits(tenant_a.org)
    assert event.ip == "10.1.2.3"
    after = words(admin.get(URL).content.decode())
    assert "Organisation saved." in after
    assert "Alpha Ltd" in after  # the English interface, the English name


def test_bad_input_comes_back_on_its_fields_in_russian(tenant_a: Tenant) -> None:
    admin = client_of(tenant_a.admin, "ru")
    answer = admin.post(
        URL, {**GOOD, "name": " ", "time_zone": "Mars/Olympus", "country": "XX"}
    )
    assert answer.status_code == 400
    text = answer.content.decode()
    for field in ("name", "time_zone", "country"):
        assert f'id="id_{field}_error"' in text, field
    assert 'id="id_name_en_error"' not in text
    said = words(text)
    assert "Обязательное поле." in said
    assert "This field is required" not in said
    assert "Select a valid choice" not in said
    tenant_a.org.refresh_from_db()
    assert tenant_a.org.name == "Alpha"
    assert audits(tenant_a.org) == []


def test_people_who_are_not_administrators_get_403(tenant_a: Tenant) -> None:
    plain = client_of(tenant_a.initiator)
    assert plain.get(URL).status_code == 403
    assert plain.post(URL, GOOD).status_code == 403
    tenant_a.org.refresh_from_db()
    assert tenant_a.org.name_en == ""
    assert Client().get(URL).status_code == 302  # signed out: to the sign-in page
