"""A guest approves from the mailed link: the link, the page, the decision record."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from sogla.external.models import GuestLink
from sogla.workflow.models import Channel, ConfirmationMethod, Task, TaskState
from tests.external.conftest import GUEST, deliver, found, open_link, to_guest_stage

pytestmark = pytest.mark.django_db


def test_guest_approves_from_the_link(tenant_a, staff) -> None:
    process, task, token = to_guest_stage(tenant_a, staff)
    client = Client()
    opened = open_link(client, token)
    assert opened.status_code == 302
    assert opened["Location"] == "/g/"
    assert opened["Referrer-Policy"] == "no-referrer"
    cookie = opened.cookies["sogla_guest"]
    assert cookie["httponly"]
    assert token not in cookie.value
    page = client.get("/g/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Supply" in html
    assert process.document.number in html
    assert page["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page["Cache-Control"]
    request_id = found(r'name="request_id" value="([0-9a-f]+)"', html)
    done = client.post("/g/decide/", {"outcome": "approve", "request_id": request_id})
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.DONE
    assert task.outcome == "approve"
    assert task.channel == Channel.GUEST
    assert task.confirmation == ConfirmationMethod.LINK
    assert task.decided_by_ref == f"guest:{GUEST}"
    after = client.get("/g/").content.decode()
    assert "Your decision is recorded" in after
    # the ceo stage opened
    assert Task.objects.filter(
        process=process, assignee=staff["ceo"], state=TaskState.OPEN
    ).exists()


def test_guest_signs_with_an_email_code(tenant_a, staff) -> None:
    _process, task, token = to_guest_stage(tenant_a, staff, otp=True)
    client = Client()
    open_link(client, token)
    html = client.get("/g/").content.decode()
    request_id = found(r'name="request_id" value="([0-9a-f]+)"', html)
    refused = client.post(
        "/g/decide/", {"outcome": "approve", "request_id": request_id}
    )
    assert refused.status_code == 422  # the agreement first
    before = len(mail.outbox)
    asked = client.post(
        "/g/decide/",
        {"outcome": "approve", "request_id": request_id, "accept_agreement": "1"},
    )
    assert asked.status_code == 200
    code_mail = mail.outbox[before:]
    assert len(code_mail) == 1
    assert code_mail[0].to == [GUEST]
    code = found(r"\b(\d{6})\b", code_mail[0].body)
    challenge = found(r'name="challenge" value="(\d+)"', asked.content.decode())
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post(
        "/g/confirm/",
        {
            "outcome": "approve",
            "request_id": request_id,
            "challenge": challenge,
            "code": wrong,
        },
    )
    assert bad.status_code == 422
    assert "4 attempts left" in bad.content.decode()
    good = client.post(
        "/g/confirm/",
        {
            "outcome": "approve",
            "request_id": request_id,
            "challenge": challenge,
            "code": code,
        },
    )
    assert good.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.DONE
    assert task.confirmation == ConfirmationMethod.EMAIL_CODE
    assert task.confirmation_to == "p***@example.com"
    assert task.agreement_version == "1"
    assert code not in str(list(GuestLink.objects.values()))


def test_resend_revokes_the_old_link(tenant_a, staff) -> None:
    from sogla.core.request_meta import RequestMeta
    from sogla.external.services.links import link_resend

    _process, task, token = to_guest_stage(tenant_a, staff)
    task = Task.objects.select_related("process__document").get(pk=task.pk)
    link_resend(actor=tenant_a.initiator, task=task, meta=RequestMeta())
    new = [m for m in deliver() if GUEST in m.to]
    from tests.external.conftest import links_in

    fresh = links_in(new)
    assert fresh
    assert fresh[0] != token
    assert open_link(Client(), token).status_code == 410
    assert open_link(Client(), fresh[0]).status_code == 302


def test_a_round_1_link_after_round_2_started(tenant_a, staff) -> None:
    from sogla.workflow import services
    from tests.workflow.conftest import META

    process, _task, token = to_guest_stage(tenant_a, staff)
    client = Client()
    open_link(client, token)
    rid = found(
        r'name="request_id" value="([0-9a-f]+)"', client.get("/g/").content.decode()
    )
    returned = client.post(
        "/g/decide/", {"outcome": "return", "comment": "fix §4", "request_id": rid}
    )
    assert returned.status_code == 302
    process.refresh_from_db()
    services.process_resubmit(
        actor=tenant_a.initiator, process=process, comment="fixed", meta=META
    )
    process.refresh_from_db()
    assert process.round == 2
    page = open_link(Client(), token)
    assert page.status_code == 302  # the old link still opens (read-only)
    fresh = Client()
    open_link(fresh, token)
    html = fresh.get("/g/").content.decode()
    assert "Your decision is recorded" in html  # round 1's vote, shown as recorded
    again = fresh.post("/g/decide/", {"outcome": "approve", "request_id": "r2"})
    assert again.status_code in (404, 409, 422)
    assert Task.objects.filter(process=process, guest_email=GUEST).count() == 1


def test_the_guest_mail_names_no_internal_people(tenant_a, staff) -> None:
    from tests.external.conftest import guest_route
    from tests.workflow.conftest import decide, make_document, publish, start

    staff["head"].first_name, staff["head"].last_name = "Anna", "Sidorova"
    staff["head"].save()
    template = publish(tenant_a, guest_route(staff))
    process = start(tenant_a, template, make_document(tenant_a))
    decide(staff["head"], Task.objects.get(process=process, assignee=staff["head"]))
    sent = [m for m in deliver() if GUEST in m.to]
    assert sent
    assert "Sidorova" not in sent[0].body
