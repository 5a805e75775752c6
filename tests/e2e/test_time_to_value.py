"""Time to value: from an empty database to a first real approval, in a browser.

Chromium, an empty database, a real SMTP server on loopback. The administrator opens
the server, creates the organisation with the setup code the console printed,
invites two colleagues by e-mail; each colleague follows the link from their mail
in a browser of their own and joins. The administrator installs the ready template
"document for approval by two people", naming the two colleagues as its approvers,
creates a document with a file and starts it; the colleagues approve in turn.

Every click (a link, a button, a choice in a list counts two: open and pick, a file
chosen counts one, following the link in a mail counts one) and every form sent is
counted, and the figure is printed: ``time to value: N clicks, M form submissions``.
The goal is at most 25 clicks; the test fails only above 40, so that the figure
cannot rot silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from sogla.documents.models import Document
from sogla.orgs.models import Organisation, User
from sogla.orgs.setup import setup_code_issue
from sogla.workflow.models import Process
from tests.conftest import MINIMAL_PDF
from tests.e2e.conftest import sideways
from tests.notifications.conftest import Smtp, body

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Long-enough-pass-42"
TARGET_CLICKS = 25
LIMIT_CLICKS = 40


@dataclass
class Tally:
    """What a person does with the mouse and the forms, across every browser."""

    clicks: int = 0
    submissions: int = 0
    typed: int = 0
    steps: list[str] = field(default_factory=list)

    def click(self, page: Any, selector: str, what: str) -> None:
        page.click(selector)
        self.clicks += 1
        self.steps.append(f"click: {what}")

    def submit(self, page: Any, selector: str, what: str) -> None:
        page.click(selector)
        self.clicks += 1
        self.submissions += 1
        self.steps.append(f"send: {what}")

    def choose(self, page: Any, selector: str, label: str) -> None:
        page.select_option(selector, label=label)
        self.clicks += 2  # open the list, pick the person
        self.steps.append(f"choose: {label}")

    def type(self, page: Any, values: dict[str, str]) -> None:
        for selector, value in values.items():
            page.fill(selector, value)
        self.typed += len(values)

    def follow_mail_link(self, page: Any, link: str) -> None:
        page.goto(link)
        self.clicks += 1
        self.steps.append("click: the link in the mail")


@pytest.fixture
def mail(live_server: Any) -> Iterator[Smtp]:
    """A real SMTP server on loopback; links in mails point at the live server."""
    server = Smtp()
    server.start()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=server.port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_TIMEOUT=5,
        SITE_URL=live_server.url,
    ):
        yield server
    server.stop()


def _link_for(mail: Smtp, address: str, base: str) -> str:
    (message,) = [m for m in mail.sink.messages if address in str(m["To"])]
    found = re.findall(re.escape(base) + r"/\S+", body(message, "plain"))
    assert len(found) == 1, found
    return str(found[0])


def _label_before(cell: Any) -> dict[str, str]:
    """The computed content and display of a cell's ::before (its phone label)."""
    return dict(
        cell.evaluate(
            """(td) => { const s = getComputedStyle(td, '::before');
                         return {content: s.content, display: s.display}; }"""
        )
    )


def test_time_to_value(live_server: Any, browser: Any, mail: Smtp, shots: Path) -> None:
    assert not Organisation.objects.exists()
    assert not User.objects.exists()
    base = live_server.url
    code = setup_code_issue()  # what `sogla serve` prints to the console
    tally = Tally()
    errors: list[str] = []

    def new_page() -> Any:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB"
        )
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    # The administrator opens the fresh server: it offers to create the organisation.
    admin = new_page()
    admin.goto(base + "/")
    admin.wait_for_url(re.compile(r".*/accounts/setup/$"))
    tally.type(
        admin,
        {
            "#id_setup_code": code,
            "#id_name": "Romashka LLC",
            "#id_first_name": "Anna",
            "#id_last_name": "Ivanova",
            "#id_email": "anna@romashka.test",
            "#id_password": PASSWORD,
        },
    )
    tally.submit(admin, "button[type=submit]", "create the organisation")
    admin.wait_for_url(re.compile(r".*/accounts/people/$"))

    # Two invitations by e-mail.
    colleagues = [
        ("boris@romashka.test", "Boris", "Petrov"),
        ("vera@romashka.test", "Vera", "Sokolova"),
    ]
    for email, first, last in colleagues:
        tally.type(
            admin, {"#id_email": email, "#id_first_name": first, "#id_last_name": last}
        )
        tally.submit(admin, "form[action$='/people/invite/'] button[type=submit]",
                     f"invite {first}")  # fmt: skip
        admin.wait_for_selector(f"tr[data-person='{email}']")
    assert len(mail.sink.messages) == 2
    # On a phone the list of people re-flows into cards: nothing scrolls sideways,
    # neither the page nor the table in its box (UI.md), the invitation's state and
    # its buttons included. Not counted: the administrator only looks.
    admin.set_viewport_size({"width": 360, "height": 800})
    admin.reload()
    assert sideways(admin, ".table-responsive") <= 0
    invited = admin.locator("tr[data-person='boris@romashka.test']")
    assert invited.get_by_role("button", name="Send again").is_visible()
    # The headings are hidden there, so the state says what it is: its column's
    # heading as a small line above it.
    assert not admin.locator(".table-phone-cards > thead").is_visible()
    assert _label_before(invited.locator("td[data-label]:visible")) == {
        "content": '"State"', "display": "block"}  # fmt: skip
    admin.screenshot(path=str(shots / "ttv-people-360.png"), full_page=True)
    admin.set_viewport_size({"width": 1280, "height": 900})
    # On a desktop the table has its headings and the cells no label of their own.
    assert admin.locator(".table-phone-cards > thead").is_visible()
    for cell in invited.locator("td[data-label]").all():
        assert _label_before(cell)["content"] == "none"

    # Each colleague follows the link from their mail, in a browser of their own.
    pages: dict[str, Any] = {}
    for email, first, _last in colleagues:
        page = new_page()
        tally.follow_mail_link(page, _link_for(mail, email, base))
        tally.type(page, {"#id_password": PASSWORD})
        tally.submit(page, "button[type=submit]", f"{first} joins")
        page.wait_for_url(re.compile(r".*/inbox/$"))
        pages[first] = page

    # The administrator installs the ready template, naming the two approvers.
    tally.click(admin, "nav.sidenav a[href='/settings/templates/']", "Settings")
    tally.click(admin, "[data-template=approval] a:has-text('Install')", "Install")
    tally.choose(admin, "#id_role_first_approver", "Boris Petrov")
    tally.choose(admin, "#id_role_second_approver", "Vera Sokolova")
    admin.screenshot(path=str(shots / "ttv-install.png"), full_page=True)
    tally.submit(admin, "#install", "install the template")
    admin.wait_for_url(re.compile(r".*/documents/new/approval/$"))

    # Their own document with a file; then start.
    tally.type(admin, {"#id_f-subject": "Price list 2027"})
    admin.set_input_files(
        "#id_f-document_file",
        files=[{"name": "price-list.pdf", "mimeType": "application/pdf",
                "buffer": MINIMAL_PDF}],
    )  # fmt: skip
    tally.clicks += 1  # choosing the file
    tally.submit(admin, "button[type=submit]:has-text('Create draft')", "create")
    admin.wait_for_url(re.compile(r".*/documents/\d+/$"))
    preview = admin.locator("#route-preview").inner_text()
    assert preview.index("Petrov B.") < preview.index("Sokolova V.")
    tally.submit(admin, "#start-approval button[type=submit]", "start")
    admin.wait_for_selector("#route-map")
    document = Document.objects.get()
    card = f"/documents/{document.pk}/"

    # Both approve, in turn, from their inboxes.
    for first in ("Boris", "Vera"):
        page = pages[first]
        page.goto(base + "/inbox/")  # the inbox they are on, refreshed
        tally.click(page, f"a.doc-number:has-text('{document.number}') >> nth=0",
                    f"{first} opens the task")  # fmt: skip
        page.wait_for_url(re.compile(rf".*{card}$"))
        tally.submit(page, "[data-decision-form] button[type=submit]",
                     f"{first} approves")  # fmt: skip
        page.wait_for_selector(".decided-panel")

    process = Process.objects.get(document=document)
    document.refresh_from_db()
    assert process.status == "approved"
    assert document.status.key == "approved"
    admin.goto(base + card)
    admin.screenshot(path=str(shots / "ttv-approved.png"), full_page=True)
    assert errors == []

    print(
        f"\ntime to value: {tally.clicks} clicks, {tally.submissions} form submissions"
        f" ({tally.typed} fields typed; target ≤ {TARGET_CLICKS} clicks)"
    )
    print("\n".join(f"  {n}. {s}" for n, s in enumerate(tally.steps, 1)))
    assert tally.clicks <= LIMIT_CLICKS, tally.steps
