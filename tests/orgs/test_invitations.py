"""Invitations through a real SMTP server: single use, expiring, refused when
forged, reused, replaced or for a deactivated person; tenants apart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sogla.core.models import AuditEvent
from sogla.orgs.models import Invitation, User
from tests.conftest import Tenant, phone_card_labels
from tests.orgs.conftest import Smtp, body, link_in, subject

PASSWORD = "Long-enough-pass-42"
JOIN = {"first_name": "Olga", "last_name": "Smirnova", "password": PASSWORD}


@pytest.fixture(autouse=True)
def _english(tenant_a: Tenant) -> None:
    """Alpha speaks English here (its default is Russian); one test checks ru."""
    tenant_a.org.language = "en"
    tenant_a.org.save(update_fields=["language"])


def admin_client(tenant: Tenant) -> Client:
    client = Client()
    client.force_login(tenant.admin)
    return client


def invite(client: Client, email: str = "olga@alpha.test", **extra: str) -> Any:
    return client.post("/accounts/people/invite/", {"email": email, **extra})


def test_invited_person_joins_and_lands_in_their_inbox(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    tenant_a.admin.first_name, tenant_a.admin.last_name = "Ivan", "Petrov"
    tenant_a.admin.save()
    admin = admin_client(tenant_a)
    response = invite(admin, "Olga@Alpha.test", first_name="Olga")
    assert response.status_code == 302
    person = User.objects.get(email="olga@alpha.test")
    assert person.organisation == tenant_a.org
    assert person.is_active
    assert not person.has_usable_password()
    assert not person.is_staff
    page = admin.get("/accounts/people/").content.decode()
    assert "olga@alpha.test" in page
    assert "Invited, link until" in page

    [mail] = smtp.sink.messages
    assert mail["To"] == "olga@alpha.test"
    assert subject(mail) == "Invitation to Alpha in Sogla"
    assert "Ivan Petrov invites you to Alpha" in body(mail, "plain")
    assert link_in(mail) in body(mail, "html")
    link = link_in(mail)

    guest = Client()
    for _ in range(2):  # opening the link (a mail scanner, twice) does not use it
        form = guest.get(link)
        assert form.status_code == 200
        assert 'value="Olga"' in form.content.decode()
    joined = guest.post(link, JOIN)
    assert joined.status_code == 302
    assert joined["Location"] == "/inbox/"
    assert guest.get("/inbox/").status_code == 200
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
    assert (person.first_name, person.last_name) == ("Olga", "Smirnova")
    assert AuditEvent.objects.filter(
        verb="person.joined", target_id=str(person.pk)
    ).exists()
    # they sign in with their e-mail in any case
    assert Client().login(username="olga@alpha.test", password=PASSWORD)
    fresh = Client()
    signed = fresh.post(
        "/accounts/login/", {"username": "OLGA@alpha.test", "password": PASSWORD}
    )
    assert signed.status_code == 302

    # used once: the link now says so, and changes nothing
    reused = Client().post(link, JOIN | {"password": "Another-pass-99"})
    assert reused.status_code == 410
    assert b'data-reason="used"' in reused.content
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_forged_expired_replaced_and_deactivated_links_are_refused(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    admin = admin_client(tenant_a)
    invite(admin)
    first = link_in(smtp.sink.messages[0])
    guest = Client()

    forged = guest.get(first[:-6] + "AAAAA/")
    assert forged.status_code == 404
    assert b'data-reason="invalid"' in forged.content
    assert guest.get("/accounts/invitation/" + "x" * 300 + "/").status_code == 404

    # sending again replaces the first link
    person = User.objects.get(email="olga@alpha.test")
    assert admin.post(f"/accounts/people/{person.pk}/invite/").status_code == 302
    second = link_in(smtp.sink.messages[1])
    replaced = guest.post(first, JOIN)
    assert replaced.status_code == 410
    assert b'data-reason="revoked"' in replaced.content

    # expired
    Invitation.objects.filter(accepted_at=None, revoked_at=None).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = guest.post(second, JOIN)
    assert expired.status_code == 410
    assert b'data-reason="expired"' in expired.content

    # a new one, then the person is deactivated before using it
    admin.post(f"/accounts/people/{person.pk}/invite/")
    third = link_in(smtp.sink.messages[2])
    assert guest.get(third).status_code == 200
    assert admin.post(f"/accounts/people/{person.pk}/deactivate/").status_code == 302
    refused = guest.post(third, JOIN)
    assert refused.status_code == 403
    assert b'data-reason="deactivated"' in refused.content
    person.refresh_from_db()
    assert not person.has_usable_password()


def test_invitation_form_errors_and_who_cannot_be_invited(
    tenant_a: Tenant, tenant_b: Tenant, smtp: Smtp
) -> None:
    admin = admin_client(tenant_a)
    assert invite(admin, "not-an-email").status_code == 400
    # someone of another organisation
    taken = invite(admin, tenant_b.colleague.email)
    assert taken.status_code == 400
    assert b"already exists on this server" in taken.content
    # a member who has joined
    member = invite(admin, tenant_a.colleague.email)
    assert member.status_code == 400
    assert b"already joined" in member.content
    assert smtp.sink.messages == []
    # a weak password is refused with the field named; the link still works
    invite(admin)
    link = link_in(smtp.sink.messages[0])
    weak = Client().post(link, JOIN | {"password": "12345"})
    assert weak.status_code == 400
    assert b"aria-invalid" in weak.content
    assert Client().post(link, JOIN).status_code == 302


def test_people_screen_is_for_administrators_of_their_own_organisation(
    tenant_a: Tenant, tenant_b: Tenant, smtp: Smtp
) -> None:
    member = Client()
    member.force_login(tenant_a.colleague)
    assert member.get("/accounts/people/").status_code == 404
    assert invite(member).status_code == 404
    assert not User.objects.filter(email="olga@alpha.test").exists()

    admin_b = admin_client(tenant_b)
    page = admin_b.get("/accounts/people/").content.decode()
    assert tenant_a.colleague.email not in page
    for action in ("deactivate", "reactivate", "invite"):
        url = f"/accounts/people/{tenant_a.colleague.pk}/{action}/"
        assert admin_b.post(url).status_code == 404
    tenant_a.colleague.refresh_from_db()
    assert tenant_a.colleague.is_active
    assert smtp.sink.messages == []


def test_on_a_phone_a_persons_state_says_what_it_is(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    """Below 768 px the list is cards without the heading row: the state carries its
    column's heading (data-label; so does the department, a phone hides it); the
    name, the address and the buttons say what they are."""
    invite(admin_client(tenant_a))
    page = admin_client(tenant_a).get("/accounts/people/").content.decode()
    headings, rows = phone_card_labels(page)
    assert len(rows) == User.objects.filter(organisation=tenant_a.org).count()
    assert all(row == [None, None, "Department", "State", None] for row in rows), rows
    assert {"Department", "State"} <= set(headings)


def test_unsent_invitation_offers_the_link_to_copy(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    smtp.stop()  # the mail server is down
    response = invite(admin_client(tenant_a))
    assert response.status_code == 200
    text = response.content.decode()
    assert "could not be sent" in text
    link = text.split('data-copy="http://testserver')[1].split('"')[0]
    assert Client().post(link, JOIN).status_code == 302


def test_invitation_mail_and_page_in_the_organisations_language(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    tenant_a.org.language = "ru"
    tenant_a.org.save(update_fields=["language"])
    invite(admin_client(tenant_a))
    [mail] = smtp.sink.messages
    assert subject(mail) == "Приглашение в Alpha в Sogla"
    assert "Откройте ссылку" in body(mail, "plain")
    page = Client(headers={"Accept-Language": "ru"}).get(link_in(mail))
    assert "Присоединиться к Alpha" in page.content.decode()
