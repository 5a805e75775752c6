"""Installing the library templates the demo organisation uses (``templates.json``)
through the same installer an administrator's one click runs: the demo's roles are
already there, so no one is named; the routes are owned by the demo users listed.
A type of the same key that exists already is kept as it is (and its sample
documents are not made again); a route deleted since is published again."""

from __future__ import annotations

from sogla.core.access import is_org_admin
from sogla.core.errors import ValidationFailed
from sogla.demo.loading import DemoDataError, Loading
from sogla.starter.library import library_template
from sogla.starter.services import template_install
from sogla.workflow.models import RouteTemplate


def load_templates(loading: Loading) -> None:
    keys = loading.data.templates.install
    if not keys:
        return
    admin = loading.users.get(loading.data.organisation.actor)
    actor = admin if admin is not None and is_org_admin(admin) else None
    owners = {
        route: user
        for route, username in loading.data.templates.route_owners.items()
        if (user := loading.user(username, f"owner of route {route}")) is not None
    }
    for key in keys:
        template = library_template(key)
        if template is None:
            raise DemoDataError(f"no library template {key}")
        try:
            result = template_install(
                organisation=loading.org,
                actor=actor,
                key=key,
                on_clash="keep",
                route_owners=owners,
            )
        except ValidationFailed as error:
            raise DemoDataError(f"template {key}: {error.problems}") from error
        if result.type_created and result.doc_type is not None:
            loading.new_types[result.doc_type.key] = result.doc_type
            loading.created["document types"] += 1
        loading.created["route templates"] += len(result.routes_created)
    loading.templates.update(
        (t.key, t) for t in RouteTemplate.objects.for_org(loading.org)
    )
