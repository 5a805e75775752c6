"""In-app notifications: the bell, the page, read marks, the API; tenant-scoped."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sogla.notifications.models import Notification
from sogla.notifications.services import notification_enqueue
from sogla.orgs.models import User
from sogla.orgs.tokens import api_token_create
from tests.conftest import Tenant


def _notices(tenant: Tenant, user: User, count: int, start: int = 0) -> list[int]:
    return [
        notification_enqueue(
            organisation_id=tenant.org.pk,
            kind="workflow.approved",
            recipient_user=user,
            context={"number": f"D-{i}", "title": f"Doc {i}"},
            idempotency_key=f"n:{user.pk}:{i}",
        ).pk
        for i in range(start, start + count)
    ]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page_queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_bell_shows_the_unread_count_with_constant_queries(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    client = _client(user)
    _notices(tenant_a, user, 2)
    html = client.get(reverse("notifications:list")).content.decode()
    assert 'id="nav-bell"' in html
    assert "Notifications: 2 unread" in html
    few = _page_queries(client, reverse("notifications:list"))
    inbox_few = _page_queries(client, reverse("workflow:inbox"))
    _notices(tenant_a, user, 25, start=2)
    assert _page_queries(client, reverse("notifications:list")) == few
    assert _page_queries(client, reverse("workflow:inbox")) == inbox_few
    assert "Notifications: 27 unread" in client.get("/inbox/").content.decode()


def test_the_bell_counts_what_the_page_lists_as_unread(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """Cancelled rows, daily digests, resent copies and read ones are not counted,
    nor another person's or organisation's."""
    from sogla.notifications.models import DIGEST_KIND, NotificationState
    from sogla.notifications.selectors import (
        notification_unread_count,
        notifications_for_user,
    )

    user = tenant_a.initiator
    ids = _notices(tenant_a, user, 6)
    _notices(tenant_a, tenant_a.colleague, 2)
    _notices(tenant_b, tenant_b.initiator, 2)
    Notification.objects.filter(pk=ids[0]).update(state=NotificationState.CANCELLED)
    Notification.objects.filter(pk=ids[1]).update(kind=DIGEST_KIND)
    Notification.objects.filter(pk=ids[2]).update(resent_from_id=ids[5])
    Notification.objects.filter(pk=ids[3]).update(read_at=timezone.now())
    listed = notifications_for_user(user=user).filter(read_at__isnull=True)
    assert sorted(listed.values_list("pk", flat=True)) == [ids[4], ids[5]]
    assert notification_unread_count(user=user) == 2
    assert notification_unread_count(user=tenant_b.initiator) == 2


def test_the_navigations_statement_counts_the_bells_rows(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """The bell's count is folded into the navigation's one statement of counts
    (``notifications.selectors.UNREAD_SQL``): it leaves out what the bell's
    queryset leaves out, each filter on its own row."""
    from sogla.notifications.models import DIGEST_KIND, NotificationState
    from sogla.notifications.selectors import notification_unread_count
    from sogla.workflow.selectors import navigation_counts

    user = tenant_a.initiator
    ids = _notices(tenant_a, user, 7)
    _notices(tenant_a, tenant_a.colleague, 3)
    _notices(tenant_b, tenant_b.initiator, 2)
    people = (user, tenant_a.colleague, tenant_b.initiator)
    assert [navigation_counts(user=p)[1] for p in people] == [7, 3, 2]
    changes: list[dict[str, Any]] = [
        {"state": NotificationState.CANCELLED},
        {"kind": DIGEST_KIND},
        {"resent_from_id": ids[6]},
        {"read_at": timezone.now()},
        {"recipient_user_id": tenant_a.colleague.pk},
    ]
    for pk, change in zip(ids, changes, strict=False):
        Notification.objects.filter(pk=pk).update(**change)
        assert [navigation_counts(user=p)[1] for p in people] == [
            notification_unread_count(user=p) for p in people
        ]
    assert [navigation_counts(user=p)[1] for p in people] == [2, 4, 2]


def test_page_lists_newest_first_with_paging(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    _notices(tenant_a, user, 35)
    client = _client(user)
    html = client.get(reverse("notifications:list")).content.decode()
    assert html.index("Approved: D-34") < html.index("Approved: D-33")
    assert "Approved: D-4 Doc 4<" not in html  # page 1 holds 30
    older = html.split("?before=")[1].split('"')[0]
    html2 = client.get(f"/notifications/?before={older}").content.decode()
    assert "Approved: D-4" in html2
    assert "Approved: D-34" not in html2


def test_mark_one_and_all_read(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    first, second, third = _notices(tenant_a, user, 3)
    client = _client(user)
    response = client.post(
        reverse("notifications:read", args=[first]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert f'id="notification-{first}"' in text
    assert 'hx-swap-oob="true"' in text
    assert "Notifications: 2 unread" in text
    assert Notification.objects.get(pk=first).read_at is not None
    # without htmx: back to the page
    assert client.post(reverse("notifications:read", args=[second])).status_code == 302
    assert client.post(reverse("notifications:read_all")).status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert client.get(reverse("notifications:read", args=[third])).status_code == 405


def test_another_tenant_can_neither_see_nor_mark(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    [mine] = _notices(tenant_a, tenant_a.initiator, 1)
    for intruder in (tenant_b.admin, tenant_b.initiator, tenant_a.colleague):
        client = _client(intruder)
        assert (
            client.post(reverse("notifications:read", args=[mine])).status_code == 404
        )
        client.post(reverse("notifications:read_all"))
        assert "D-0" not in client.get(reverse("notifications:list")).content.decode()
        _token, raw = api_token_create(actor=intruder, name="x")
        api = Client(headers={"Authorization": f"Bearer {raw}"})
        listed = api.get("/api/v1/notifications").json()
        assert listed["items"] == []
        marked = api.post(
            "/api/v1/notifications/read",
            {"ids": [mine]},
            content_type="application/json",
        ).json()
        assert marked["marked"] == 0
    assert Notification.objects.get(pk=mine).read_at is None


def test_api_lists_and_marks_read(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    ids = _notices(tenant_a, user, 3)
    _token, raw = api_token_create(actor=user, name="bell")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    listed = api.get("/api/v1/notifications?limit=2").json()
    assert [i["id"] for i in listed["items"]] == [ids[2], ids[1]]
    assert listed["unread"] == 3
    assert listed["items"][0]["headline"] == "Approved: D-2 Doc 2"
    rest = api.get(f"/api/v1/notifications?before={listed['next_before']}").json()
    assert [i["id"] for i in rest["items"]] == [ids[0]]
    assert rest["next_before"] is None
    one = api.post(
        "/api/v1/notifications/read", {"ids": [ids[0]]}, content_type="application/json"
    ).json()
    assert one == {"marked": 1, "unread": 2}
    every = api.post(
        "/api/v1/notifications/read", {}, content_type="application/json"
    ).json()
    assert every == {"marked": 2, "unread": 0}
    assert api.get("/api/v1/notifications?unread=true").json()["items"] == []
    bad = api.post(
        "/api/v1/notifications/read", {"ids": [0]}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "ids[0]"


def test_profile_offers_the_daily_digest(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    client = _client(user)
    assert (
        "Once a day, in a morning digest"
        in client.get("/accounts/profile/").content.decode()
    )
    response = client.post(
        "/accounts/profile/",
        {"first_name": "A", "last_name": "B", "email": "a@example.test",
         "language": "en", "time_zone": "", "email_mode": "digest"},
    )  # fmt: skip
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_mode == "digest"
