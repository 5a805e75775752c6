"""T28 / T29: the cross-tenant and in-tenant object access matrix.

The list of operations comes from Django's URL resolver (web views, the admin, the
API's Django patterns) and from the OpenAPI schema. Every one needs an entry in the
tables below, or the test fails, so a new endpoint cannot be forgotten.

For each entry a user of tenant B (the organisation administrator and a plain user,
by session; by API token for API operations) calls it with the ids of tenant A's
objects. Expected: 404 for every object id of A; list and form pages answer without
any of A's data (every text of A carries the marker ``CANARY-ALPHA``); writes change
none of A's rows (all of A's rows are compared before and after each unsafe call).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from sogla.core.models import AuditEvent
from sogla.discussion.models import Message, MessageFile, ReadMark
from sogla.discussion.services import message_post
from sogla.documents.models import (
    Contact,
    Counterparty,
    Document,
    DocumentFile,
    DocumentType,
    FieldDef,
    FileVersion,
    Folder,
    NumberSequence,
    SavedView,
    StatusDef,
)
from sogla.documents.services import NewFile, document_create, file_add
from sogla.documents.uploads import bytes_upload
from sogla.notifications.models import Notification
from sogla.orgs.models import (
    ApiToken,
    CalendarDay,
    Delegation,
    Department,
    Organisation,
    Position,
    Role,
    User,
    WorkingCalendar,
)
from sogla.orgs.tokens import api_token_create
from sogla.workflow import services as workflow_services
from sogla.workflow.models import (
    Process,
    RouteTemplate,
    RouteVersion,
    StageRun,
    StepRun,
    Task,
    Timer,
)
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import (
    CounterpartyFactory,
    DocumentTypeFactory,
    RoleFactory,
    UserFactory,
    add_field,
)

CANARY = "CANARY-ALPHA"
# Searches match A's texts but do not contain the whole marker (pages echo the query).
SEARCH = "CANARY"
API = "/api/v1"

# --- the world: tenant A's objects, every text marked ---------------------------------


@dataclass
class World:
    a: Tenant
    b: Tenant
    doc: Document
    version: FileVersion
    file: DocumentFile
    party: Counterparty
    secret_type: DocumentType
    token: ApiToken
    b_token: str
    process: Process
    task: Task
    ids: dict[str, int] = field(default_factory=dict)


def _mark_tenant_a(a: Tenant) -> None:
    a.org.name = f"{CANARY} Org"
    a.org.save()
    for user in (a.admin, a.initiator, a.colleague, a.department.head):
        assert user is not None
        user.last_name = f"{CANARY}-{user.username}"
        user.save()
    a.department.name = f"{CANARY} Sales"
    a.department.save()
    a.contract.name_ru = a.contract.name_en = f"{CANARY} Contract"
    a.contract.save()


def build_world(a: Tenant, b: Tenant) -> World:
    _mark_tenant_a(a)
    party = CounterpartyFactory(
        organisation=a.org, name=f"{CANARY} Party", tax_id="7711111127"
    )
    Contact.objects.create(
        organisation=a.org, counterparty=party, name=f"{CANARY} Contact"
    )
    doc = document_create(
        actor=a.initiator,
        doc_type=a.contract,
        values={
            "subject": f"{CANARY} subject",
            "amount": "10",
            "counterparty": party.pk,
        },
    )
    upload = bytes_upload(
        "contract_file", f"{CANARY}.pdf", MINIMAL_PDF + f"%{CANARY}\n".encode()
    )
    version = file_add(
        actor=a.initiator, document=doc, new=NewFile(upload, "contract_file")
    )
    secret_type = DocumentTypeFactory(
        organisation=a.org,
        key="alpha-only",
        name_ru=f"{CANARY} Т",
        name_en=f"{CANARY} T",
    )
    add_field(secret_type, "subject")
    folder = Folder.objects.create(
        organisation=a.org, name=f"{CANARY} folder", path=f"{CANARY} folder"
    )
    role = RoleFactory(
        organisation=a.org, key="alpha-role", name_ru=CANARY, name_en=CANARY
    )
    role.members.add(a.initiator)
    position = Position.objects.create(organisation=a.org, name=f"{CANARY} position")
    Department.objects.create(
        organisation=a.org,
        code="alpha-dept",
        name=f"{CANARY} dept",
        parent=a.department,
    )
    delegation = Delegation.objects.create(
        organisation=a.org,
        from_user=a.initiator,
        to_user=a.colleague,
        starts_on="2025-01-01",
        ends_on="2025-01-31",
        reason=CANARY,
    )
    calendar = WorkingCalendar.objects.create(organisation=a.org)
    CalendarDay.objects.create(
        organisation=a.org, calendar=calendar, date="2025-03-08", name=CANARY
    )
    token, _raw = api_token_create(actor=a.initiator, name=f"{CANARY} token")
    a_view = SavedView.objects.create(
        organisation=a.org,
        owner=a.initiator,
        name=f"{CANARY} view",
        shared=True,
        query={"q": CANARY, "type": "alpha-only", "mode": "kanban"},
    )
    # B has data of its own, so that its lists are not trivially empty.
    b_party = CounterpartyFactory(
        organisation=b.org, name="Beta Party", tax_id="7722222238"
    )
    document_create(
        actor=b.initiator,
        doc_type=b.contract,
        values={"subject": "Beta", "amount": "1"},
    )
    _b_token, b_raw = api_token_create(actor=b.initiator, name="b")
    process, task = _start_approval(a)
    message = message_post(
        actor=a.initiator,
        document=doc,
        text=f"{CANARY} message",
        files=[bytes_upload("files", f"{CANARY}-note.pdf", MINIMAL_PDF)],
    )
    world = World(
        a,
        b,
        doc,
        version,
        version.file,
        party,
        secret_type,
        token,
        b_raw,
        process,
        task,
    )
    world.ids = {
        "orgs.organisation": a.org.pk,
        "orgs.department": a.department.pk,
        "orgs.position": position.pk,
        "orgs.user": a.initiator.pk,
        "orgs.role": role.pk,
        "orgs.delegation": delegation.pk,
        "orgs.workingcalendar": calendar.pk,
        "documents.documenttype": a.contract.pk,
        "documents.folder": folder.pk,
        "documents.counterparty": party.pk,
        "documents.savedview": a_view.pk,
        "b_party": b_party.pk,
        "discussion.message": message.pk,
        "discussion.messagefile": message.files.get().pk,
    }
    return world


ALPHA_ROUTE = {
    "key": "alpha-route",
    "name": {"ru": CANARY, "en": CANARY},
    "stages": [
        {
            "key": "manager",
            "name": {"ru": CANARY, "en": CANARY},
            "steps": [
                {
                    "key": "head",
                    "kind": "approve",
                    "assignee": {"department_head": "initiator"},
                    "due": {"working_days": 2},
                }
            ],
        }
    ],
}


def _start_approval(a: Tenant) -> tuple[Process, Task]:
    """A's published route (key ``alpha-route``) and a running approval on a second
    document: an open task of A's department head."""
    template = workflow_services.route_template_create(
        actor=a.admin,
        doc_type=a.contract,
        key="alpha-route",
        name_ru=f"{CANARY} route",
        name_en=f"{CANARY} route",
    )
    draft = workflow_services.route_version_save_draft(
        actor=a.admin, template=template, definition=ALPHA_ROUTE
    )
    workflow_services.route_version_publish(actor=a.admin, version=draft)
    # A draft of a next version too, so that publishing has something to publish.
    workflow_services.route_version_save_draft(
        actor=a.admin, template=template, definition=ALPHA_ROUTE
    )
    running = document_create(
        actor=a.initiator,
        doc_type=a.contract,
        values={"subject": f"{CANARY} approval", "amount": "20"},
    )
    process = workflow_services.process_start(
        actor=a.initiator, document=running, template=template
    )
    task = Task.objects.get(process=process, state="open")
    return process, task


# Every model with rows of A: compared before and after each unsafe call.
TENANT_MODELS: list[type[models.Model]] = [
    Department, Position, User, Role, Delegation, WorkingCalendar, CalendarDay, ApiToken,
    DocumentType, FieldDef, StatusDef, NumberSequence, Folder, Counterparty, Contact,
    Document, DocumentFile, FileVersion,
    RouteTemplate, RouteVersion, Process, StageRun, StepRun, Task, Timer, AuditEvent,
    Notification, Message, MessageFile, ReadMark,
]  # fmt: skip


def snapshot(org_id: int) -> str:
    rows: dict[str, Any] = {
        "organisation": list(Organisation.objects.filter(pk=org_id).values()),
        "role_members": sorted(
            Role.members.through.objects.filter(
                role__organisation_id=org_id
            ).values_list("role_id", "user_id")
        ),
    }
    for model in TENANT_MODELS:
        values = (
            model._default_manager.filter(organisation_id=org_id)
            .order_by("pk")
            .values()
        )
        rows[model._meta.label] = [
            {k: v for k, v in row.items() if k != "last_login"} for row in values
        ]
    return json.dumps(rows, default=str, sort_keys=True)


# --- probes ---------------------------------------------------------------------------------

NOT_FOUND = "404"  # the object is A's: must be 404
NO_DATA = "no-data"  # any answer below 500 that shows none of A's data
ADMIN_MISS = "admin-miss"  # admin with A's id: 302 away / 403 / 404, none of A's data


@dataclass
class Probe:
    method: str
    path: str
    expect: str
    data: Any = None
    json_body: bool = False

    def call(self, client: Client, headers: dict[str, str]) -> Any:
        kwargs: dict[str, Any] = {"headers": headers}
        if self.data is not None:
            if self.json_body:
                kwargs["data"] = json.dumps(self.data)
                kwargs["content_type"] = "application/json"
            else:
                kwargs["data"] = self.data
        return getattr(client, self.method)(self.path, **kwargs)

    @property
    def unsafe(self) -> bool:
        return self.method not in {"get", "head", "options"}


Entry = Callable[[World], list[Probe]]


def pdf_file() -> io.BytesIO:
    file = io.BytesIO(MINIMAL_PDF)
    file.name = "b.pdf"
    return file


def get(path: str, expect: str = NO_DATA) -> Entry:
    return lambda w: [Probe("get", path.format(w=w, ids=w.ids), expect)]


def doc_404(suffix: str = "", method: str = "get", data: Any = None) -> Entry:
    return lambda w: [Probe(method, f"/documents/{w.doc.pk}/{suffix}", NOT_FOUND, data)]


def _a_notice(w: World) -> int:
    """A notification of tenant A (the head's task notice of the running approval)."""
    return Notification.objects.filter(organisation=w.a.org).values_list(
        "pk", flat=True
    )[0]


def _a_timer(w: World) -> int:
    """A timer of tenant A (the deadline of the running approval's task)."""
    return Timer.objects.filter(organisation=w.a.org).values_list("pk", flat=True)[0]


def _a_route(w: World) -> int:
    return w.process.route_version.template_id


def _b_document(w: World) -> int:
    return Document.objects.filter(organisation=w.b.org).values_list("pk", flat=True)[0]


def _a_department(_w: World) -> str:
    """The code of a department only tenant A has (made in ``build_world``)."""
    return "alpha-dept"


WEB: dict[str, Entry] = {
    "home": get("/"),
    "favicon": get("/favicon.ico"),
    "manifest": get("/manifest.webmanifest"),
    "service_worker": get("/sw.js"),
    "offline": get("/offline/"),
    "set_language": lambda _w: [
        Probe("post", "/i18n/setlang/", NO_DATA, {"language": "en"})
    ],
    "accounts:login": lambda w: [
        Probe("get", "/accounts/login/", NO_DATA),
        Probe(
            "post",
            "/accounts/login/",
            NO_DATA,
            {"username": w.a.initiator.username, "password": "wrong"},
        ),
    ],
    "accounts:logout": lambda _w: [Probe("post", "/accounts/logout/", NO_DATA)],
    "accounts:password_change": get("/accounts/password/"),
    "accounts:password_change_done": get("/accounts/password/done/"),
    "accounts:profile": get("/accounts/profile/"),
    "accounts:language": lambda _w: [
        Probe("post", "/accounts/language/", NO_DATA, {"language": "en"})
    ],
    "accounts:tokens": get("/accounts/tokens/"),
    # Sign-up, first-run setup, invitations and password reset: public forms that
    # must show nothing of A, whatever A's ids or people are put in.
    "accounts:password_reset": lambda w: [
        Probe("get", "/accounts/password/reset/", NO_DATA),
        Probe(
            "post", "/accounts/password/reset/", NO_DATA, {"email": w.a.initiator.email}
        ),
    ],
    "accounts:password_reset_done": get("/accounts/password/reset/sent/"),
    "accounts:password_reset_confirm": lambda w: [
        Probe(
            "get",
            f"/accounts/password/reset/{urlsafe_base64_encode(force_bytes(w.a.initiator.pk))}/x-y/",
            NO_DATA,
        )
    ],
    "accounts:password_reset_complete": get("/accounts/password/reset/done/"),
    "accounts:setup": lambda _w: [
        Probe("get", "/accounts/setup/", NO_DATA),
        Probe(
            "post", "/accounts/setup/", NO_DATA, {"code": "000000", "organisation": "x"}
        ),
    ],
    "accounts:signup": get("/accounts/signup/"),
    "accounts:signup_confirm": get("/accounts/signup/not-a-token/"),
    "accounts:invitation": lambda _w: [
        Probe("get", "/accounts/invitation/not-a-token/", NO_DATA),
        Probe("post", "/accounts/invitation/not-a-token/", NO_DATA, {"password1": "x"}),
    ],
    # The people screen of B's administrator lists B's people only; A's people are 404.
    "accounts:people": get("/accounts/people/"),
    "accounts:invite": lambda w: [
        Probe(
            "post", "/accounts/people/invite/", NO_DATA, {"email": w.a.colleague.email}
        )
    ],
    "accounts:reinvite": lambda w: [
        Probe("post", f"/accounts/people/{w.ids['orgs.user']}/invite/", NOT_FOUND)
    ],
    "accounts:deactivate": lambda w: [
        Probe("post", f"/accounts/people/{w.ids['orgs.user']}/deactivate/", NOT_FOUND)
    ],
    "accounts:reactivate": lambda w: [
        Probe("post", f"/accounts/people/{w.ids['orgs.user']}/reactivate/", NOT_FOUND)
    ],
    "workflow:away": lambda w: [
        Probe("get", "/away/", NO_DATA),
        Probe(
            "post",
            "/away/",
            NO_DATA,
            {"from_user": w.ids["orgs.user"], "to_user": w.ids["orgs.user"]},
        ),
    ],
    "workflow:away_end": lambda w: [
        Probe("post", f"/away/{w.ids['orgs.delegation']}/end/", NOT_FOUND)
    ],
    "accounts:token_revoke": lambda w: [
        Probe("post", f"/accounts/tokens/{w.token.pk}/revoke/", NOT_FOUND)
    ],
    "documents:registry": lambda w: [
        Probe("get", f"/documents/?counterparty={w.party.pk}&q={SEARCH}", NO_DATA),
        Probe("get", "/documents/", NO_DATA),
        Probe("get", "/documents/?doc_type=alpha-only", NO_DATA),
        # A's shared view by its id: B sees neither its name nor its filters
        Probe("get", f"/documents/?view={w.ids['documents.savedview']}", NO_DATA),
        Probe("get", "/documents/?mode=kanban&type=alpha-only", NO_DATA),
        Probe("get", "/documents/?mode=kanban&type=contract", NO_DATA),
        Probe(
            "get",
            f"/documents/?cols=amount,control_date&sort=title&q={SEARCH}",
            NO_DATA,
        ),
    ],
    "documents:kanban_column": lambda _w: [
        Probe("get", "/documents/kanban/?type=contract&column=draft", NO_DATA),
        Probe("get", "/documents/kanban/?type=alpha-only&column=draft", NO_DATA),
        Probe("get", "/documents/kanban/?type=contract&column=approved", NO_DATA),
    ],
    "documents:view_save": lambda _w: [
        Probe(
            "post",
            "/documents/views/save/",
            NO_DATA,
            {"name": "b view", "query": "q=beta&mode=kanban", "shared": "on"},
        ),
    ],
    "documents:view_rename": lambda w: [
        Probe(
            "post",
            f"/documents/views/{w.ids['documents.savedview']}/rename/",
            NOT_FOUND,
            {"name": "b name"},
        ),
    ],
    "documents:view_delete": lambda w: [
        Probe(
            "post",
            f"/documents/views/{w.ids['documents.savedview']}/delete/",
            NOT_FOUND,
        ),
    ],
    "documents:new": get("/documents/new/"),
    "documents:create": lambda w: [
        Probe("get", "/documents/new/alpha-only/", NOT_FOUND),
        Probe("post", "/documents/new/alpha-only/", NOT_FOUND, {"subject": "x"}),
        Probe(
            "post",
            "/documents/new/contract/",
            NO_DATA,
            {"subject": "x", "amount": "1", "counterparty": w.party.pk},
        ),
    ],
    "documents:card": doc_404(),
    "documents:edit": lambda w: [
        *doc_404("edit/")(w),
        *doc_404("edit/", "post", {"subject": "taken", "amount": "1"})(w),
    ],
    "documents:archive": doc_404("archive/", "post"),
    "documents:file_upload": lambda w: [
        Probe("post", f"/documents/{w.doc.pk}/files/", NOT_FOUND, {"file": pdf_file()}),
        Probe(
            "post",
            f"/documents/{w.doc.pk}/files/",
            NOT_FOUND,
            {"file": pdf_file(), "file_id": w.file.pk},
        ),
    ],
    "documents:download": get("/files/{w.version.pk}/download/", NOT_FOUND),
    "documents:signed_download": get("/files/s/eyJ2IjoxfQ:1xZ6hB:forged/", NOT_FOUND),
    "discussion:page": doc_404("discussion/"),
    "discussion:people": doc_404("discussion/people/?q=alpha"),
    "discussion:post": doc_404("discussion/post/", "post", {"text": "b"}),
    "discussion:edit": lambda w: [
        Probe(
            "post",
            f"/documents/{w.doc.pk}/discussion/{w.ids['discussion.message']}/edit/",
            NOT_FOUND,
            {"text": "b"},
        )
    ],
    "discussion:delete": lambda w: [
        Probe(
            "post",
            f"/documents/{w.doc.pk}/discussion/{w.ids['discussion.message']}/delete/",
            NOT_FOUND,
        )
    ],
    "discussion:file": get(
        "/discussion/files/{ids[discussion.messagefile]}/", NOT_FOUND
    ),
    "evidence:sheet": get("/documents/{w.doc.pk}/approval-sheet/", NOT_FOUND),
    "evidence:stamped": get("/documents/{w.doc.pk}/stamped/", NOT_FOUND),
    "evidence:verify": get("/v/00000000000000000000/", NOT_FOUND),
    "documents:preview": get("/files/{w.version.pk}/preview/", NOT_FOUND),
    "documents:preview_pdf": get("/files/{w.version.pk}/preview.pdf", NOT_FOUND),
    "documents:preview_thumbnail": get(
        "/files/{w.version.pk}/thumbnail.png", NOT_FOUND
    ),
    "documents:preview_image": get("/files/{w.version.pk}/image/", NOT_FOUND),
    "documents:compare": doc_404("compare/"),
    "documents:document_thumbnail": doc_404("thumbnail.png"),
    "documents:counterparty_list": lambda _w: [
        Probe("get", f"/counterparties/?q={SEARCH}", NO_DATA),
        Probe("get", "/counterparties/?q=7711111127", NO_DATA),
        Probe("get", "/counterparties/", NO_DATA),
    ],
    "documents:counterparty_create": lambda _w: [
        Probe("get", "/counterparties/new/", NO_DATA),
        Probe(
            "post",
            "/counterparties/new/",
            NO_DATA,
            {"name": "Beta web", "tax_id": "7711111127", "category": "customer"},
        ),
    ],
    "documents:counterparty_search": lambda _w: [
        Probe("get", f"/counterparties/search/?q={SEARCH}", NO_DATA),
        Probe("get", "/counterparties/search/?q=7711", NO_DATA),
    ],
    "documents:counterparty_quick_create": lambda _w: [
        Probe(
            "post",
            "/counterparties/quick-create/",
            NO_DATA,
            {"name": "Beta quick", "tax_id": "771111111128"[:10]},
        )
    ],
    "documents:counterparty_detail": get("/counterparties/{w.party.pk}/", NOT_FOUND),
    "workflow:inbox": lambda _w: [
        Probe("get", "/inbox/", NO_DATA),
        Probe("get", f"/inbox/?tab=started&q={SEARCH}", NO_DATA),
        Probe("get", "/inbox/?tab=done&type=contract", NO_DATA),
    ],
    "notifications:list": lambda w: [
        Probe("get", "/notifications/", NO_DATA),
        Probe("get", f"/notifications/?before={_a_notice(w) + 1}&unread=1", NO_DATA),
    ],
    "notifications:read": lambda w: [
        Probe("post", f"/notifications/{_a_notice(w)}/read/", NOT_FOUND)
    ],
    "notifications:read_all": lambda _w: [
        Probe("post", "/notifications/read-all/", NO_DATA)
    ],
    # Settings are the signed-in person's own; an import token of A's upload is
    # refused to B (the stored file is under A's organisation).
    "notifications:settings": lambda _w: [
        Probe("get", "/notifications/settings/", NO_DATA),
        Probe(
            "post", "/notifications/settings/", NO_DATA, {"workflow.reminder": "off"}
        ),
    ],
    "accounts:people_import": lambda _w: [
        Probe("get", "/accounts/people/import/", NO_DATA),
        Probe("post", "/accounts/people/import/", NO_DATA, {"token": "abc123"}),
    ],
    "workflow:task_link": get("/t/{w.task.pk}/", NOT_FOUND),
    "documents:registry_export": lambda _w: [
        Probe("get", "/documents/export.csv", NO_DATA),
        Probe("get", f"/documents/export.xlsx?q={SEARCH}", NO_DATA),
    ],
    # The guest page: without a guest session or with a forged token, nothing of A.
    "external:page": get("/g/"),
    "external:decide": lambda _w: [
        Probe("post", "/g/decide/", NO_DATA, {"outcome": "approve"})
    ],
    "external:confirm": lambda _w: [
        Probe("post", "/g/confirm/", NO_DATA, {"code": "000000"})
    ],
    "external:language": lambda _w: [
        Probe("post", "/g/language/", NO_DATA, {"language": "en"})
    ],
    "external:leave": lambda _w: [Probe("post", "/g/leave/", NO_DATA)],
    "external:file": get("/g/files/{w.version.pk}/"),  # no guest session: 401
    "external:attachment": get(  # no guest session: 401
        "/g/attachments/{ids[discussion.messagefile]}/"
    ),
    "external:file_viewer": get("/g/files/{w.version.pk}/viewer/"),
    "external:file_preview_pdf": get("/g/files/{w.version.pk}/preview.pdf"),
    "external:file_preview_image": get("/g/files/{w.version.pk}/image/"),
    "external:renew": lambda _w: [
        Probe("post", "/g/forged-token-0000/renew/", NO_DATA)
    ],
    "external:open": get("/g/forged-token-0000/"),
    "external:resend": lambda w: [
        Probe("post", f"/tasks/{w.task.pk}/guest-link/", NOT_FOUND)
    ],
    "external:revoke": lambda w: [
        Probe("post", f"/tasks/{w.task.pk}/guest-link/revoke/", NOT_FOUND)
    ],
    "external:unlock": lambda w: [
        Probe("post", f"/tasks/{w.task.pk}/codes/unlock/", NOT_FOUND, {"person": "x"})
    ],
    "external:task_sign": lambda w: [
        Probe("post", f"/tasks/{w.task.pk}/sign/", NOT_FOUND, {"outcome": "approve"}),
    ],
    "workflow:start": lambda w: [
        Probe(
            "post",
            f"/documents/{w.doc.pk}/approval/start/",
            NOT_FOUND,
            {"route": "alpha-route"},
        )
    ],
    "workflow:resubmit": lambda w: [
        Probe(
            "post",
            f"/documents/{w.process.document_id}/approval/resubmit/",
            NOT_FOUND,
            {"comment": "taken"},
        )
    ],
    "workflow:cancel": lambda w: [
        Probe(
            "post",
            f"/documents/{w.process.document_id}/approval/cancel/",
            NOT_FOUND,
            {"reason": "taken"},
        )
    ],
    "workflow:resolve": lambda w: [
        Probe(
            "post",
            f"/documents/{w.process.document_id}/approval/resolve/",
            NOT_FOUND,
            {"stage": "manager", "step": "head", "users": w.b.colleague.pk},
        )
    ],
    "workflow:remind": lambda w: [
        Probe("post", f"/documents/{w.process.document_id}/approval/remind/", NOT_FOUND)
    ],
    "workflow:bulk": lambda w: [
        Probe(
            "post",
            "/inbox/bulk/",
            NOT_FOUND,
            {"outcome": "approve", "task": [w.task.pk]},
        ),
        Probe(
            "post",
            "/inbox/bulk/",
            NOT_FOUND,
            {"outcome": "acknowledge", "task": [w.task.pk], "confirm": "1"},
        ),
    ],
    "workflow:withdraw": lambda w: [
        Probe(
            "post",
            f"/documents/{w.process.document_id}/approval/withdraw/{w.task.pk}/",
            NOT_FOUND,
            {"comment": "taken back"},
        )
    ],
    "workflow:participants": lambda w: [
        Probe(
            "post",
            f"/documents/{w.process.document_id}/approval/participants/",
            NOT_FOUND,
            {
                "stage": "manager",
                "step": "head",
                "action": "add",
                "user": w.b.colleague.pk,
            },
        ),
        Probe(
            "post",
            f"/documents/{w.process.document_id}/approval/participants/",
            NOT_FOUND,
            {
                "stage": "manager",
                "step": "head",
                "action": "remove",
                "user": w.a.colleague.pk,
            },
        ),
    ],
    "workflow:decide": lambda w: [
        Probe(
            "post",
            f"/tasks/{w.task.pk}/decide/",
            NOT_FOUND,
            {"outcome": "approve", "request_id": "x"},
        )
    ],
    "workflow:reassign": lambda w: [
        Probe(
            "post",
            f"/tasks/{w.task.pk}/reassign/",
            NOT_FOUND,
            {"document": _b_document(w), "to_user": w.b.colleague.pk},
        ),
        Probe(
            "post",
            f"/tasks/{w.task.pk}/reassign/",
            NOT_FOUND,
            {"document": w.process.document_id, "to_user": w.b.colleague.pk},
        ),
    ],
    # Reports: B's figures only, whatever ids of A the filters name.
    "reports:page": lambda w: [
        Probe("get", "/reports/", NO_DATA),
        Probe(
            "get",
            f"/reports/?period=365&department={w.a.department.pk}"
            f"&type={w.a.contract.pk}&route={w.process.route_version.template_id}",
            NO_DATA,
        ),
    ],
    "reports:export": lambda w: [
        Probe("get", "/reports/export/people.csv?period=365", NO_DATA),
        Probe(
            "get",
            f"/reports/export/stages.csv?period=365&route={w.process.route_version.template_id}",
            NO_DATA,
        ),
        Probe("get", "/reports/export/stages.xlsx", NO_DATA),
    ],
    # The settings screens (administrators): A's department, role, type and exception
    # day are 404 for B's administrator and 403 for B's other people.
    "settings:home": get("/settings/"),
    "settings:types": lambda _w: [
        Probe("get", "/settings/types/", NO_DATA),
        Probe(
            "post", "/settings/types/", NO_DATA, {"key": "alpha-only", "name_ru": "x"}
        ),
    ],
    "settings:type_edit": lambda _w: [
        Probe("get", "/settings/types/alpha-only/", ADMIN_MISS),
        Probe(
            "post",
            "/settings/types/alpha-only/",
            ADMIN_MISS,
            {"form": "field", "key": "x", "label_ru": "x", "kind": "string"},
        ),
    ],
    "settings:status_remove": lambda _w: [
        Probe("post", "/settings/types/alpha-only/statuses/draft/remove/", ADMIN_MISS)
    ],
    # B's administrator sees and changes only B's organisation (its name carries
    # no canary); A's rows are compared before and after.
    "settings:organisation": lambda _w: [
        Probe("get", "/settings/organisation/", NO_DATA),
        Probe(
            "post",
            "/settings/organisation/",
            NO_DATA,
            {
                "name": "Beta",
                "name_en": "Beta Ltd",
                "language": "ru",
                "time_zone": "Europe/Moscow",
                "country": "RU",
            },
        ),
    ],
    "settings:departments": lambda w: [
        Probe("get", "/settings/departments/", NO_DATA),
        Probe(
            "post",
            "/settings/departments/",
            NO_DATA,
            {
                "name": "x",
                "code": "x",
                "parent": _a_department(w),
                "head": str(w.ids["orgs.user"]),
            },
        ),
    ],
    "settings:department_edit": lambda w: [
        Probe("get", f"/settings/departments/{_a_department(w)}/", ADMIN_MISS),
        Probe(
            "post",
            f"/settings/departments/{_a_department(w)}/",
            ADMIN_MISS,
            {"name": "taken"},
        ),
    ],
    "settings:roles": lambda w: [
        Probe("get", "/settings/roles/", NO_DATA),
        Probe(
            "post",
            "/settings/roles/",
            NO_DATA,
            {"key": "x", "name_ru": "x", "members": [str(w.ids["orgs.user"])]},
        ),
    ],
    "settings:role_edit": lambda _w: [
        Probe("get", "/settings/roles/alpha-role/", ADMIN_MISS),
        Probe("post", "/settings/roles/alpha-role/", ADMIN_MISS, {"name_ru": "taken"}),
    ],
    "settings:routes": lambda w: [
        Probe("get", "/settings/routes/", NO_DATA),
        Probe(
            "post",
            "/settings/routes/",
            NO_DATA,
            {"doc_type": str(w.a.contract.pk), "key": "b-route", "name_ru": "b"},
        ),
    ],
    "settings:route_builder": lambda w: [
        Probe("get", f"/settings/routes/{_a_route(w)}/", ADMIN_MISS)
    ],
    "settings:route_check": lambda w: [
        Probe(
            "post",
            f"/settings/routes/{_a_route(w)}/check/",
            ADMIN_MISS,
            {"definition": {}},
            json_body=True,
        )
    ],
    "settings:route_save": lambda w: [
        Probe(
            "post",
            f"/settings/routes/{_a_route(w)}/save/",
            ADMIN_MISS,
            {"definition": {"stages": []}, "token": "p1"},
            json_body=True,
        )
    ],
    "settings:route_publish": lambda w: [
        Probe(
            "post",
            f"/settings/routes/{_a_route(w)}/publish/",
            ADMIN_MISS,
            {"definition": {"stages": []}, "token": "p1"},
            json_body=True,
        )
    ],
    "settings:route_simulate": lambda w: [
        Probe(
            "post",
            f"/settings/routes/{_a_route(w)}/simulate/",
            ADMIN_MISS,
            {"definition": {}},
            json_body=True,
        )
    ],
    "settings:route_export": lambda w: [
        Probe("get", f"/settings/routes/{_a_route(w)}/export/", ADMIN_MISS)
    ],
    "settings:route_import": lambda w: [
        Probe(
            "post",
            f"/settings/routes/{_a_route(w)}/import/",
            ADMIN_MISS,
            {"file": io.BytesIO(b'{"stages": []}')},
        )
    ],
    "settings:positions": lambda _w: [
        Probe("get", "/settings/positions/", NO_DATA),
        Probe("post", "/settings/positions/", NO_DATA, {"name": "b position"}),
    ],
    "settings:calendar": lambda _w: [
        Probe("get", "/settings/calendar/", NO_DATA),
        Probe(
            "post",
            "/settings/calendar/",
            NO_DATA,
            {"form": "day", "day": "2025-03-09", "name": "b"},
        ),
    ],
    "settings:calendar_day_remove": lambda _w: [
        Probe("post", "/settings/calendar/2025-03-08/remove/", ADMIN_MISS)
    ],
    "starter:library": get("/settings/templates/"),
    "starter:install": lambda w: [
        Probe("get", "/settings/templates/approval/", NO_DATA),
        Probe(
            "post",
            "/settings/templates/approval/",
            NO_DATA,
            {"role_first_approver": str(w.ids["orgs.user"])},
        ),
    ],
}

# API operations by operationId (the Django pattern of each has the same name).
API_OPS: dict[str, Entry] = {
    "me_get": get(f"{API}/me"),
    "me_tokens_list": get(f"{API}/me/tokens"),
    "me_token_create": lambda _w: [
        Probe("post", f"{API}/me/tokens", NO_DATA, {"name": "b2"}, True)
    ],
    "me_token_revoke": lambda w: [
        Probe("delete", f"{API}/me/tokens/{w.token.pk}", NOT_FOUND)
    ],
    "document_types_list": get(f"{API}/document-types"),
    "document_type_get": get(f"{API}/document-types/alpha-only", NOT_FOUND),
    "documents_list": lambda w: [
        Probe("get", f"{API}/documents?counterparty={w.party.pk}", NO_DATA),
        Probe("get", f"{API}/documents?q={SEARCH}&doc_type=alpha-only", NO_DATA),
        Probe("get", f"{API}/documents?archived=true", NO_DATA),
    ],
    "document_create": lambda w: [
        Probe(
            "post",
            f"{API}/documents",
            NO_DATA,
            {"doc_type": "alpha-only", "fields": {"subject": "x"}},
            True,
        ),
        Probe(
            "post",
            f"{API}/documents",
            NO_DATA,
            {
                "doc_type": "contract",
                "fields": {"subject": "x", "amount": "1", "counterparty": w.party.pk},
            },
            True,
        ),
        Probe(
            "post",
            f"{API}/documents",
            NO_DATA,
            {
                "doc_type": "contract",
                "fields": {"subject": "x", "amount": "1"},
                "organisation": w.a.org.pk,
            },
            True,
        ),
    ],
    "document_get": get(f"{API}/documents/{{w.doc.pk}}", NOT_FOUND),
    "document_update": lambda w: [
        Probe(
            "patch",
            f"{API}/documents/{w.doc.pk}",
            NOT_FOUND,
            {"fields": {"subject": "taken"}},
            True,
        )
    ],
    "document_archive": lambda w: [
        Probe("post", f"{API}/documents/{w.doc.pk}/archive", NOT_FOUND)
    ],
    "document_files_list": get(f"{API}/documents/{{w.doc.pk}}/files", NOT_FOUND),
    "document_file_upload": lambda w: [
        Probe(
            "post", f"{API}/documents/{w.doc.pk}/files", NOT_FOUND, {"file": pdf_file()}
        ),
        Probe(
            "post",
            f"{API}/documents/{w.doc.pk}/files",
            NOT_FOUND,
            {"file": pdf_file(), "file_id": w.file.pk},
        ),
    ],
    "file_download": get(f"{API}/files/{{w.version.pk}}/download", NOT_FOUND),
    "document_messages_list": get(f"{API}/documents/{{w.doc.pk}}/messages", NOT_FOUND),
    "document_message_post": lambda w: [
        Probe(
            "post",
            f"{API}/documents/{w.doc.pk}/messages",
            NOT_FOUND,
            {"text": "b"},
            True,
        )
    ],
    "document_message_edit": lambda w: [
        Probe(
            "patch",
            f"{API}/documents/{w.doc.pk}/messages/{w.ids['discussion.message']}",
            NOT_FOUND,
            {"text": "b"},
            True,
        )
    ],
    "document_message_delete": lambda w: [
        Probe(
            "delete",
            f"{API}/documents/{w.doc.pk}/messages/{w.ids['discussion.message']}",
            NOT_FOUND,
        )
    ],
    "message_file_download": get(
        f"{API}/message-files/{{ids[discussion.messagefile]}}/download", NOT_FOUND
    ),
    "approval_sheet": get(f"{API}/documents/{{w.doc.pk}}/approval-sheet", NOT_FOUND),
    "stamped_copy": get(f"{API}/documents/{{w.doc.pk}}/stamped-copy", NOT_FOUND),
    "counterparties_list": lambda _w: [
        Probe("get", f"{API}/counterparties?q={SEARCH}", NO_DATA),
        Probe("get", f"{API}/counterparties?q=7711111127", NO_DATA),
        Probe("get", f"{API}/counterparties?limit=100", NO_DATA),
    ],
    "counterparty_create": lambda _w: [
        Probe(
            "post",
            f"{API}/counterparties",
            NO_DATA,
            {"name": "Beta api", "tax_id": "7711111127"},
            True,
        )
    ],
    "counterparty_get": get(f"{API}/counterparties/{{w.party.pk}}", NOT_FOUND),
    "counterparty_update": lambda w: [
        Probe(
            "patch",
            f"{API}/counterparties/{w.party.pk}",
            NOT_FOUND,
            {"name": "taken"},
            True,
        )
    ],
    # Approvals: A's document, process, task and route, by B's people.
    "document_routes_list": get(f"{API}/documents/{{w.doc.pk}}/routes", NOT_FOUND),
    "process_start": lambda w: [
        Probe(
            "post",
            f"{API}/documents/{w.doc.pk}/process",
            NOT_FOUND,
            {"route": "alpha-route"},
            True,
        )
    ],
    "process_get": lambda w: [
        Probe("get", f"{API}/documents/{w.doc.pk}/process", NOT_FOUND),
        Probe("get", f"{API}/documents/{w.process.document_id}/process", NOT_FOUND),
    ],
    "document_history": lambda w: [
        Probe("get", f"{API}/documents/{w.doc.pk}/history", NOT_FOUND),
        Probe("get", f"{API}/documents/{w.process.document_id}/history", NOT_FOUND),
    ],
    "process_resubmit": lambda w: [
        Probe(
            "post",
            f"{API}/processes/{w.process.pk}/resubmit",
            NOT_FOUND,
            {"comment": "taken"},
            True,
        )
    ],
    "process_cancel": lambda w: [
        Probe(
            "post",
            f"{API}/processes/{w.process.pk}/cancel",
            NOT_FOUND,
            {"reason": "taken"},
            True,
        )
    ],
    "tasks_list": lambda _w: [
        Probe("get", f"{API}/tasks", NO_DATA),
        Probe("get", f"{API}/tasks?tab=started", NO_DATA),
        Probe("get", f"{API}/tasks?tab=done", NO_DATA),
    ],
    "task_get": get(f"{API}/tasks/{{w.task.pk}}", NOT_FOUND),
    # Guest links and one-time codes of A's task: as if it did not exist.
    "guest_links_list": get(f"{API}/tasks/{{w.task.pk}}/guest-links", NOT_FOUND),
    "guest_link_send": lambda w: [
        Probe("post", f"{API}/tasks/{w.task.pk}/guest-links", NOT_FOUND, {}, True)
    ],
    "guest_links_revoke_all": lambda w: [
        Probe(
            "post", f"{API}/tasks/{w.task.pk}/guest-links/revoke", NOT_FOUND, {}, True
        )
    ],
    "guest_links_revoke": lambda w: [
        Probe(
            "post", f"{API}/tasks/{w.task.pk}/guest-links/revoke", NOT_FOUND, {}, True
        )
    ],
    "guest_link_revoke": lambda w: [
        Probe("post", f"{API}/guest-links/{w.task.pk}/revoke", NOT_FOUND, {}, True)
    ],
    "task_challenge": lambda w: [
        Probe(
            "post",
            f"{API}/tasks/{w.task.pk}/challenge",
            NOT_FOUND,
            {"outcome": "approve"},
            True,
        )
    ],
    "task_codes_unlock": lambda w: [
        Probe(
            "post",
            f"{API}/tasks/{w.task.pk}/codes/unlock",
            NOT_FOUND,
            {"person": f"user:{w.ids['orgs.user']}"},
            True,
        )
    ],
    "process_remind": lambda w: [
        Probe("post", f"{API}/processes/{w.process.pk}/remind", NOT_FOUND, {}, True)
    ],
    "task_file_upload": lambda w: [
        Probe("post", f"{API}/tasks/{w.task.pk}/files", NOT_FOUND, {"file": pdf_file()})
    ],
    "task_decide": lambda w: [
        Probe(
            "post",
            f"{API}/tasks/{w.task.pk}/decision",
            NOT_FOUND,
            {"outcome": "approve", "request_id": "taken"},
            True,
        ),
        Probe(
            "post",
            f"{API}/tasks/{w.task.pk}/decision",
            NOT_FOUND,
            {"outcome": "reject", "comment": "no", "request_id": "taken-2"},
            True,
        ),
    ],
    "task_withdraw": lambda w: [
        Probe(
            "post",
            f"{API}/tasks/{w.task.pk}/withdraw",
            NOT_FOUND,
            {"comment": "taken back"},
            True,
        )
    ],
    "process_participants_change": lambda w: [
        Probe(
            "post",
            f"{API}/processes/{w.process.pk}/participants",
            NOT_FOUND,
            {"stage": "manager", "step": "head", "add": [w.b.colleague.pk]},
            True,
        ),
        Probe(
            "post",
            f"{API}/processes/{w.process.pk}/participants",
            NOT_FOUND,
            {"stage": "manager", "step": "head", "remove": [w.a.colleague.pk]},
            True,
        ),
    ],
    "task_reassign": lambda w: [
        Probe(
            "post",
            f"{API}/tasks/{w.task.pk}/reassign",
            NOT_FOUND,
            {"to_user": w.b.colleague.pk},
            True,
        ),
        Probe(
            "post",
            f"{API}/tasks/{w.task.pk}/reassign",
            NOT_FOUND,
            {"to_user": w.a.colleague.pk},
            True,
        ),
    ],
    "notifications_list": lambda w: [
        Probe("get", f"{API}/notifications", NO_DATA),
        Probe("get", f"{API}/notifications?before={_a_notice(w) + 1}", NO_DATA),
    ],
    "notifications_mark_read": lambda w: [
        Probe(
            "post", f"{API}/notifications/read", NO_DATA, {"ids": [_a_notice(w)]}, True
        ),
        Probe("post", f"{API}/notifications/read", NO_DATA, {}, True),
    ],
    "routes_list": get(f"{API}/routes"),
    "route_get": get(f"{API}/routes/alpha-route", NOT_FOUND),
    "route_create": lambda w: [
        Probe(
            "post",
            f"{API}/routes",
            NO_DATA,
            {"key": "b1", "doc_type": "alpha-only", "name_ru": "b", "definition": {}},
            True,
        ),
        Probe(
            "post",
            f"{API}/routes",
            NO_DATA,
            {
                "key": "b2",
                "doc_type": "contract",
                "name_ru": "b",
                "owner": w.a.initiator.pk,
                "definition": ALPHA_ROUTE,
            },
            True,
        ),
        Probe(
            "post",
            f"{API}/routes",
            NO_DATA,
            {
                "key": "b3",
                "doc_type": "contract",
                "name_ru": "b",
                "definition": {"key": "b", "stages": []},
            },
            True,
        ),
    ],
    "route_draft_save": lambda _w: [
        Probe(
            "put",
            f"{API}/routes/alpha-route/draft",
            NOT_FOUND,
            {"definition": {"key": "taken", "stages": []}},
            True,
        )
    ],
    "route_publish": lambda _w: [
        Probe("post", f"{API}/routes/alpha-route/publish", NOT_FOUND)
    ],
    # Writing the settings: A's type, department and role are 404 for anyone of B.
    "document_type_create": lambda _w: [
        Probe(
            "post",
            f"{API}/document-types",
            NO_DATA,
            {"key": "alpha-only", "name_ru": "x"},
            True,
        )
    ],
    "document_type_update": lambda _w: [
        Probe(
            "patch",
            f"{API}/document-types/alpha-only",
            NOT_FOUND,
            {"name_en": "taken"},
            True,
        )
    ],
    "document_type_field_add": lambda _w: [
        Probe(
            "post",
            f"{API}/document-types/alpha-only/fields",
            NOT_FOUND,
            {"key": "x", "label_ru": "x", "kind": "string"},
            True,
        )
    ],
    "document_type_status_add": lambda _w: [
        Probe(
            "post",
            f"{API}/document-types/alpha-only/statuses",
            NOT_FOUND,
            {"key": "x", "name_ru": "x", "meaning": "active", "token": "active"},
            True,
        )
    ],
    "document_type_status_remove": lambda _w: [
        Probe("delete", f"{API}/document-types/alpha-only/statuses/draft", NOT_FOUND)
    ],
    "departments_list": get(f"{API}/departments"),
    "people_list": lambda _w: [
        Probe("get", f"{API}/people", NO_DATA),
        Probe("get", f"{API}/people?q={SEARCH}", NO_DATA),
        Probe("get", f"{API}/people?q=alpha", NO_DATA),
    ],
    "department_create": lambda w: [
        Probe(
            "post",
            f"{API}/departments",
            NO_DATA,
            {
                "code": "x",
                "name": "x",
                "parent": _a_department(w),
                "head": w.ids["orgs.user"],
            },
            True,
        )
    ],
    "department_update": lambda w: [
        Probe(
            "patch",
            f"{API}/departments/{_a_department(w)}",
            NOT_FOUND,
            {"name": "taken"},
            True,
        )
    ],
    "roles_list": get(f"{API}/roles"),
    "role_create": lambda w: [
        Probe(
            "post",
            f"{API}/roles",
            NO_DATA,
            {"key": "x", "name_ru": "x", "members": [w.ids["orgs.user"]]},
            True,
        )
    ],
    "role_update": lambda _w: [
        Probe("patch", f"{API}/roles/alpha-role", NOT_FOUND, {"name_ru": "x"}, True)
    ],
    "positions_list": get(f"{API}/positions"),
    "position_create": lambda _w: [
        Probe("post", f"{API}/positions", NO_DATA, {"name": "x"}, True)
    ],
    "calendar_get": get(f"{API}/calendar"),
    "calendar_update": lambda _w: [
        Probe(
            "put",
            f"{API}/calendar",
            NO_DATA,
            {"working_weekdays": [0], "day_starts": "09:00", "day_ends": "18:00"},
            True,
        )
    ],
    "calendar_day_set": lambda _w: [
        Probe("put", f"{API}/calendar/days/2025-03-09", NO_DATA, {"name": "b"}, True)
    ],
    "calendar_day_remove": lambda _w: [
        Probe("delete", f"{API}/calendar/days/2025-03-08", ADMIN_MISS)
    ],
}

API_PAGES: dict[str, Entry] = {
    "api:openapi-json": get(f"{API}/openapi.json"),
    "api:openapi-view": get(f"{API}/docs"),
    "api:api-root": get(f"{API}/"),
}

# Admin: every registered model needs a row: how to find an object of A.
ADMIN_MODELS: dict[str, Callable[[World], int | None]] = {
    "orgs.organisation": lambda w: w.ids["orgs.organisation"],
    "orgs.department": lambda w: w.ids["orgs.department"],
    "orgs.position": lambda w: w.ids["orgs.position"],
    "orgs.user": lambda w: w.ids["orgs.user"],
    "orgs.role": lambda w: w.ids["orgs.role"],
    "orgs.delegation": lambda w: w.ids["orgs.delegation"],
    "orgs.workingcalendar": lambda w: w.ids["orgs.workingcalendar"],
    "documents.documenttype": lambda w: w.ids["documents.documenttype"],
    "documents.folder": lambda w: w.ids["documents.folder"],
    "documents.counterparty": lambda w: w.ids["documents.counterparty"],
    "notifications.notification": _a_notice,
    "workflow.timer": _a_timer,
    "workflow.routetemplate": _a_route,
    # Platform-only models: organisation admins have no access at all.
    "auth.group": lambda _w: None,
    "django_tasks_database.dbtaskresult": lambda _w: None,
}

# Extra admin POST bodies that try to pull A's objects into B's rows.
ADMIN_ADD_POSTS: dict[str, Callable[[World], dict[str, Any]]] = {
    "orgs.department": lambda w: {
        "name": "B dep",
        "code": "bdep",
        "head": w.a.initiator.pk,
        "parent": w.a.department.pk,
    },
    "orgs.role": lambda w: {
        "key": "b-role",
        "name_ru": "b",
        "name_en": "b",
        "members": [w.a.initiator.pk],
    },
    "orgs.delegation": lambda w: {
        "from_user": w.a.initiator.pk,
        "to_user": w.b.colleague.pk,
        "starts_on": "2025-01-01",
        "ends_on": "2025-01-02",
    },
}


def _admin_entries() -> dict[str, Entry]:
    entries: dict[str, Entry] = {
        "admin:index": get("/admin/"),
        "admin:login": get("/admin/login/"),
        "admin:logout": lambda _w: [Probe("post", "/admin/logout/", NO_DATA)],
        "admin:password_change": get("/admin/password_change/"),
        "admin:password_change_done": get("/admin/password_change/done/"),
        "admin:jsi18n": get("/admin/jsi18n/"),
        "admin:autocomplete": lambda _w: [
            Probe(
                "get",
                f"/admin/autocomplete/?app_label=orgs&model_name=department&field_name=head&term={SEARCH}",
                NO_DATA,
            ),
            Probe(
                "get",
                "/admin/autocomplete/?app_label=orgs&model_name=user&field_name=department&term=",
                NO_DATA,
            ),
        ],
        "admin:view_on_site": lambda w: [
            Probe(
                "get",
                f"/admin/r/{ContentType.objects.get_for_model(Counterparty).pk}/{w.party.pk}/",
                ADMIN_MISS,
            ),
            Probe(
                "get",
                f"/admin/r/{ContentType.objects.get_for_model(Document).pk}/{w.doc.pk}/",
                ADMIN_MISS,
            ),
        ],
        "admin:app_list": lambda _w: [
            Probe("get", "/admin/orgs/", NO_DATA),
            Probe("get", "/admin/documents/", NO_DATA),
        ],
        "route:admin/(?P<url>.*)$": get("/admin/no-such-page/"),
        "admin:auth_user_password_change": lambda w: [
            Probe("get", f"/admin/orgs/user/{w.a.initiator.pk}/password/", ADMIN_MISS),
            Probe(
                "post",
                f"/admin/orgs/user/{w.a.initiator.pk}/password/",
                ADMIN_MISS,
                {
                    "usable_password": "true",
                    "password1": "Taken-over-123",
                    "password2": "Taken-over-123",
                },
            ),
        ],
    }
    for label, find in ADMIN_MODELS.items():
        app, model = label.split(".")
        base = f"/admin/{app}/{model}/"

        def object_probes(
            w: World, base: str = base, find: Callable[[World], int | None] = find
        ) -> Iterator[Probe]:
            pk = find(w) or 1
            yield Probe("get", f"{base}{pk}/change/", ADMIN_MISS)
            yield Probe(
                "post",
                f"{base}{pk}/change/",
                ADMIN_MISS,
                {"name": "taken", "key": "taken"},
            )

        # The loop binds its values as the lambdas' defaults; mypy cannot type those.
        entries[f"admin:{app}_{model}_changelist"] = lambda _w, base=base: [  # type: ignore[misc]
            Probe("get", base, NO_DATA),
            Probe("get", f"{base}?q={SEARCH}", NO_DATA),
        ]
        entries[f"admin:{app}_{model}_add"] = lambda w, base=base, label=label: [  # type: ignore[misc]
            Probe("get", f"{base}add/", NO_DATA),
            *(
                [Probe("post", f"{base}add/", NO_DATA, ADMIN_ADD_POSTS[label](w))]
                if label in ADMIN_ADD_POSTS
                else []
            ),
        ]
        entries[f"admin:{app}_{model}_change"] = lambda w, f=object_probes: list(f(w))  # type: ignore[misc]
        entries[f"admin:{app}_{model}_history"] = lambda w, base=base, find=find: [  # type: ignore[misc]
            Probe("get", f"{base}{find(w) or 1}/history/", ADMIN_MISS)
        ]
        entries[f"admin:{app}_{model}_delete"] = lambda w, base=base, find=find: [  # type: ignore[misc]
            Probe("get", f"{base}{find(w) or 1}/delete/", ADMIN_MISS),
            Probe("post", f"{base}{find(w) or 1}/delete/", ADMIN_MISS, {"post": "yes"}),
        ]
        entries[f"route:{base[1:]}<path:object_id>/"] = lambda w, base=base, find=find: [  # type: ignore[misc]
            Probe("get", f"{base}{find(w) or 1}/", ADMIN_MISS)
        ]
    return entries


ADMIN = _admin_entries()


# --- enumerating the operations -----------------------------------------------------------


def resolver_keys() -> list[str]:
    """Every URL pattern: its namespaced name, or ``route:<route>`` when unnamed."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = (
                        f"{namespace}:{pattern.namespace}"
                        if namespace
                        else pattern.namespace
                    )
                yield from walk(
                    pattern.url_patterns, prefix + str(pattern.pattern), inner
                )
            elif isinstance(pattern, URLPattern):
                if pattern.name:
                    yield f"{namespace}:{pattern.name}" if namespace else pattern.name
                else:
                    yield f"route:{prefix}{pattern.pattern}"

    return list(walk(get_resolver().url_patterns, "", ""))


def openapi_operations() -> list[str]:
    schema = Client().get(f"{API}/openapi.json").json()
    return [
        op["operationId"] for path in schema["paths"].values() for op in path.values()
    ]


def table_entry(key: str) -> Entry | None:
    if key.startswith("api:") and key[4:] in API_OPS:
        return API_OPS[key[4:]]
    return WEB.get(key) or API_PAGES.get(key) or ADMIN.get(key)


# --- running --------------------------------------------------------------------------------


@dataclass
class Outcome:
    calls: int = 0
    leaks: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return str(response.content.decode("utf-8", "replace"))


def check(probe: Probe, response: Any, who: str, client: Client) -> str | None:
    """A description of the leak, or None."""
    status = response.status_code
    text = _body(response) + " ".join(f"{k}: {v}" for k, v in response.headers.items())
    where = f"{who} {probe.method.upper()} {probe.path} -> {status}"
    if CANARY in text:
        return f"{where}: shows tenant A's data"
    if status >= 500:
        return f"{where}: server error"
    if probe.expect == NOT_FOUND and status != 404:
        return f"{where}: expected 404"
    if probe.expect == ADMIN_MISS:
        if status not in (302, 403, 404):
            return f"{where}: expected a redirect away, 403 or 404"
        if status == 302:
            followed = client.get(response["Location"])
            if CANARY in _body(followed):
                return f"{where}: the redirect target shows tenant A's data"
            if probe.path.rstrip("/").split("/")[-1] in {
                "change",
                "delete",
                "history",
                "password",
            } and (response["Location"].startswith(probe.path)):
                return f"{where}: redirected to the object itself"
    return None


def principals(
    world: World, *, api: bool
) -> list[tuple[str, Callable[[], Client], dict[str, str]]]:
    def session(user: User) -> Callable[[], Client]:
        def make() -> Client:
            client = Client()
            client.force_login(user)
            return client

        return make

    result: list[tuple[str, Any, dict[str, str]]] = [
        ("B admin (session)", session(world.b.admin), {}),
        ("B user (session)", session(world.b.initiator), {}),
    ]
    if api:
        result.append(
            ("B user (token)", Client, {"Authorization": f"Bearer {world.b_token}"})
        )
    return result


def run_matrix(world: World, keys: list[str]) -> Outcome:
    outcome = Outcome()
    org_id = world.a.org.pk
    for key in keys:
        entry = table_entry(key)
        assert entry is not None
        is_api = key.startswith("api:")
        for probe in entry(world):
            for who, make_client, headers in principals(world, api=is_api):
                client = make_client()
                before = snapshot(org_id) if probe.unsafe else ""
                response = probe.call(client, headers)
                outcome.calls += 1
                problem = check(probe, response, who, client)
                if problem:
                    outcome.leaks.append(f"[{key}] {problem}")
                if probe.unsafe and snapshot(org_id) != before:
                    outcome.writes.append(
                        f"[{key}] {who} {probe.method.upper()} {probe.path}"
                    )
                    before = snapshot(org_id)
                # files are re-read on every call
                if isinstance(probe.data, dict):
                    for value in probe.data.values():
                        if isinstance(value, io.BytesIO):
                            value.seek(0)
    return outcome


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n{line}")


@pytest.mark.slow  # a stress test (every URL for every role)
@pytest.mark.django_db
def test_t28_cross_tenant_matrix(
    tenant_a: Tenant, tenant_b: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world(tenant_a, tenant_b)
    routes = resolver_keys()
    operations = [f"api:{op}" for op in openapi_operations()]
    keys = list(dict.fromkeys(routes + operations))
    missing = [key for key in keys if table_entry(key) is None]
    covered = len(keys) - len(missing)
    before = snapshot(tenant_a.org.pk)
    outcome = run_matrix(world, [k for k in keys if k not in missing])
    changed = snapshot(tenant_a.org.pk) != before
    report(
        capsys,
        f"T28: operations covered {covered}/{len(keys)} "
        f"(resolver patterns {len(routes)}, OpenAPI operations {len(operations)}), "
        f"calls {outcome.calls}, leaks {len(outcome.leaks)}, writes {len(outcome.writes)}",
    )
    assert not missing, f"no matrix entry for: {missing}"
    assert not outcome.leaks, "\n".join(outcome.leaks)
    assert not outcome.writes, "\n".join(outcome.writes)
    assert not changed


# --- T29: within one organisation -----------------------------------------------------------


def _t29_check(
    policy: dict[str, tuple[User | None, int]],
    surfaces: dict[str, str],
    doc: Document,
    exceptions: dict[tuple[str, str], int],
    details: list[str],
) -> tuple[int, int]:
    """Every person of ``policy`` on every surface and in the list: the cells
    checked and the mismatches (described into ``details``)."""
    cells = mismatches = 0
    for who, (user, expected) in policy.items():
        assert user is not None
        _token, raw = api_token_create(actor=user, name="t29")
        for surface, path in surfaces.items():
            for via in ("session", "token") if path.startswith(API) else ("session",):
                client = Client()
                headers = {}
                if via == "session":
                    client.force_login(user)
                else:
                    headers = {"Authorization": f"Bearer {raw}"}
                # downloads redirect to a short-lived link (T37): follow it
                status = client.get(path, headers=headers, follow=True).status_code
                wanted = exceptions.get((who, surface), expected)
                cells += 1
                if status != wanted:
                    mismatches += 1
                    details.append(f"{who} {surface} ({via}): {status} != {wanted}")
        # Lists never show the document to those who may not open it.
        listed = Client()
        listed.force_login(user)
        found = listed.get(f"{API}/documents").json()["items"]
        cells += 1
        if (doc.pk in [d["id"] for d in found]) != (expected == 200):
            mismatches += 1
            details.append(f"{who} list: {'shown' if expected != 200 else 'missing'}")
    return cells, mismatches


@pytest.mark.django_db
def test_t29_confidential_document_within_tenant(
    tenant_a: Tenant, tenant_b: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    a = tenant_a
    secret = DocumentTypeFactory(organisation=a.org, key="salary", confidential=True)
    add_field(secret, "subject")
    doc = document_create(
        actor=a.initiator, doc_type=secret, values={"subject": "Raise"}
    )
    upload = bytes_upload("files", "raise.pdf", MINIMAL_PDF)
    version = file_add(actor=a.initiator, document=doc, new=NewFile(upload))
    surfaces = {
        "card": f"/documents/{doc.pk}/",
        "edit": f"/documents/{doc.pk}/edit/",
        "download": f"/files/{version.pk}/download/",
        "preview": f"/files/{version.pk}/preview/",
        "compare": f"/documents/{doc.pk}/compare/",
        "api document": f"{API}/documents/{doc.pk}",
        "api files": f"{API}/documents/{doc.pk}/files",
        "api download": f"{API}/files/{version.pk}/download",
    }
    policy = {  # who -> expected status on every surface
        "unrelated colleague": (a.colleague, 404),
        "initiator": (a.initiator, 200),
        "organisation admin": (a.admin, 200),
        "department head (manager)": (a.department.head, 200),
        "other organisation's admin": (tenant_b.admin, 404),
    }
    # The manager may read the document but not edit it (only the initiator or an admin).
    exceptions = {("department head (manager)", "edit"): 403}
    details: list[str] = []
    cells, mismatches = _t29_check(policy, surfaces, doc, exceptions, details)

    # Approvers: the one holding the current stage's task opens the confidential
    # document (read only); the approver of a stage not yet active does not, and
    # sees a non-confidential type's document like any colleague.
    current = UserFactory(organisation=a.org, username="alpha-t29-current")
    later = UserFactory(organisation=a.org, username="alpha-t29-later")
    public = DocumentTypeFactory(organisation=a.org, key="memo")
    add_field(public, "subject")

    def in_approval(doc_type: DocumentType) -> tuple[Document, FileVersion]:
        template = workflow_services.route_template_create(
            actor=a.admin, doc_type=doc_type, key=f"t29-{doc_type.key}", name_ru="T29"
        )
        draft = workflow_services.route_version_save_draft(
            actor=a.admin,
            template=template,
            definition={
                "key": "t29",
                "stages": [
                    {
                        "key": key,
                        "steps": [
                            {"key": key, "kind": "approve", "assignee": {"user": name}}
                        ],
                    }
                    for key, name in (
                        ("now", current.username),
                        ("next", later.username),
                    )
                ],
            },
        )
        workflow_services.route_version_publish(actor=a.admin, version=draft)
        started = document_create(
            actor=a.initiator, doc_type=doc_type, values={"subject": "Bonus"}
        )
        added = file_add(
            actor=a.initiator,
            document=started,
            new=NewFile(bytes_upload("files", "bonus.pdf", MINIMAL_PDF)),
        )
        workflow_services.process_start(
            actor=a.initiator, document=started, template=template
        )
        return started, added

    def surfaces_of(doc: Document, version: FileVersion) -> dict[str, str]:
        return {
            "card": f"/documents/{doc.pk}/",
            "edit": f"/documents/{doc.pk}/edit/",
            "download": f"/files/{version.pk}/download/",
            "api document": f"{API}/documents/{doc.pk}",
            "api files": f"{API}/documents/{doc.pk}/files",
            "api download": f"{API}/files/{version.pk}/download",
        }

    secret_doc, secret_version = in_approval(secret)
    more = _t29_check(
        {
            "approver of the current stage": (current, 200),
            "approver of a stage not yet active": (later, 404),
        },
        surfaces_of(secret_doc, secret_version),
        secret_doc,
        {("approver of the current stage", "edit"): 403},
        details,
    )
    cells, mismatches = cells + more[0], mismatches + more[1]
    # The e-mailed task link redirects only someone who may open the document: task
    # ids must not map to the existence and ids of confidential documents (I7).
    secret_task = Task.objects.get(process__document=secret_doc, assignee=current)
    link = f"/t/{secret_task.pk}/"
    for who, user, wanted in (
        ("holder of the task", current, 302),
        ("organisation admin", a.admin, 302),
        ("unrelated colleague", a.colleague, 404),
        ("approver of a stage not yet active", later, 404),
        ("other organisation's admin", tenant_b.admin, 404),
    ):
        client = Client()
        client.force_login(user)
        response = client.get(link)
        cells += 1
        if response.status_code != wanted:
            mismatches += 1
            details.append(f"{who} task link: {response.status_code} != {wanted}")
        elif wanted == 302 and not response["Location"].startswith(
            f"/documents/{secret_doc.pk}/"
        ):
            mismatches += 1
            details.append(f"{who} task link: redirected to {response['Location']}")
    public_doc, public_version = in_approval(public)
    more = _t29_check(
        {"approver of a stage not yet active (non-confidential type)": (later, 200)},
        surfaces_of(public_doc, public_version),
        public_doc,
        {("approver of a stage not yet active (non-confidential type)", "edit"): 403},
        details,
    )
    cells, mismatches = cells + more[0], mismatches + more[1]
    # Writes by the unrelated colleague change nothing.
    colleague = Client()
    colleague.force_login(a.colleague)
    before = snapshot(a.org.pk)
    for method, path in [
        ("post", f"/documents/{doc.pk}/archive/"),
        ("post", f"/documents/{doc.pk}/edit/"),
        ("post", f"{API}/documents/{doc.pk}/archive"),
    ]:
        status = getattr(colleague, method)(path).status_code
        cells += 1
        if status != 404:
            mismatches += 1
            details.append(f"colleague {method} {path}: {status}")
    cells += 1
    if snapshot(a.org.pk) != before:
        mismatches += 1
        details.append("the colleague's writes changed data")
    report(
        capsys,
        f"T29: cells {cells}, matching the policy {cells - mismatches}/{cells}, unauthorised reads or writes {mismatches}",
    )
    assert not details, "\n".join(details)


@pytest.mark.django_db
def test_matrix_positive_control(tenant_a: Tenant, tenant_b: Tenant) -> None:
    """The same calls made by tenant A show the marker: the matrix is not vacuous."""
    world = build_world(tenant_a, tenant_b)
    user = Client()
    user.force_login(tenant_a.initiator)
    admin = Client()
    admin.force_login(tenant_a.admin)
    _token, raw = api_token_create(actor=tenant_a.initiator, name="control")
    token = {"Authorization": f"Bearer {raw}"}
    shown = {
        "card": user.get(f"/documents/{world.doc.pk}/"),
        "download": user.get(f"/files/{world.version.pk}/download/", follow=True),
        "counterparty": user.get(f"/counterparties/{world.party.pk}/"),
        "registry search": user.get(f"/documents/?q={SEARCH}"),
        "api document": Client().get(f"{API}/documents/{world.doc.pk}", headers=token),
        "api download": Client().get(
            f"{API}/files/{world.version.pk}/download", headers=token, follow=True
        ),
        "api counterparties": Client().get(
            f"{API}/counterparties?q={SEARCH}", headers=token
        ),
        "admin change": admin.get(
            f"/admin/documents/counterparty/{world.party.pk}/change/"
        ),
        "admin list": admin.get(f"/admin/orgs/user/?q={SEARCH}"),
    }
    for name, response in shown.items():
        assert response.status_code == 200, name
        assert CANARY in _body(response), name
