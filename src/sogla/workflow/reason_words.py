"""The engine's and the resolver's reasons in the reader's language.

The engine and the resolver record why a step found nobody (or why a date is
missing) as English sentences over keys: ``the department "engineering" has no
head``, ``nobody holds the role "lawyer"``, ``the field "designer" is empty``. They
stay so in the database and the audit log; the card, the start preview and the
notices say them again here, translated, with the field's label, the role's and the
department's name in the reader's language instead of their keys and codes.

A reason this module does not know is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from sogla.orgs.models import name_in_language
from sogla.workflow import tenant


@dataclass
class Names:
    """Labels and names by key, read lazily: a reason that names no department
    costs no query (the names are kept per organisation: ``tenant``)."""

    org_id: int
    fields: Mapping[str, str] = field(default_factory=dict)
    _departments: dict[str, str] | None = None
    _roles: dict[str, str] | None = None

    def field(self, key: str) -> str:
        return self.fields.get(key, key)

    def department(self, code: str) -> str:
        if self._departments is None:
            self._departments = {
                code: name_in_language(name, name_en)
                for code, (name, name_en) in tenant.department_names(
                    self.org_id
                ).items()
            }
        return self._departments.get(code, code)

    def role(self, key: str) -> str:
        if self._roles is None:
            self._roles = {k: r.name for k, r in tenant.roles(self.org_id).items()}
        return self._roles.get(key, key)


Say = Callable[[re.Match[str], Names], str]
_Q = r'"([^"]*)"'


def _who(what: str, names: Names) -> str:
    """The subject of a resolver reason ("role \"lawyer\"", "the manager of …")."""
    if what == "the initiator":
        return _("the initiator")
    if what == "the counterparty's contacts":
        return _("the counterparty's contacts")
    if found := re.fullmatch(r"the manager of (.+)", what):
        return _("the manager of %(who)s") % {"who": _who(found[1], names)}
    simple: list[tuple[str, Callable[[str], str], str]] = [
        (rf"user {_Q}", str, _("the user “%(x)s”")),
        (rf"role {_Q}", names.role, _("the role “%(x)s”")),
        (rf"the field {_Q}", names.field, _("the field “%(x)s”")),
        (rf"the person in {_Q}", names.field, _("the person in the field “%(x)s”")),
        (rf"the head of {_Q}", names.department, _("the head of “%(x)s”")),
    ]
    for pattern, name, words in simple:
        if found := re.fullmatch(pattern, what):
            return words % {"x": name(found[1])}
    return what


def _date_why(why: str) -> str:
    return _("is empty") if why == "is empty" else _("is not a date")


_REASONS: list[tuple[str, Say]] = [
    ("nobody to assign", lambda _m, _n: _("nobody to assign")),
    ("the step has no assignee", lambda _m, _n: _("the step names nobody")),
    ("no resolver was given", lambda _m, _n: _("nobody could be found")),
    ("every step is skipped", lambda _m, _n: _("none of its steps applies")),
    (
        r"the quorum is (\d+) but only (\d+) people are assigned",
        lambda m, _n: (
            _("the quorum is %(quorum)s but only %(people)s people are found")
            % {"quorum": m[1], "people": m[2]}
        ),
    ),
    (
        rf"the field {_Q} is empty",
        lambda m, n: _("the field “%(field)s” is empty") % {"field": n.field(m[1])},
    ),
    (
        rf"the field {_Q} does not name a person",
        lambda m, n: (
            _("the field “%(field)s” does not name a person") % {"field": n.field(m[1])}
        ),
    ),
    (
        rf"no user {_Q} in this organisation",
        lambda m, _n: _("no user “%(user)s” in this organisation") % {"user": m[1]},
    ),
    (
        rf"nobody holds the role {_Q}",
        lambda m, n: _("nobody holds the role “%(role)s”") % {"role": n.role(m[1])},
    ),
    (
        "the document has no counterparty",
        lambda _m, _n: _("the document has no counterparty"),
    ),
    (
        "the initiator has no department",
        lambda _m, _n: _("the initiator has no department"),
    ),
    (
        rf"no department {_Q} in this organisation",
        lambda m, n: (
            _("no department “%(department)s” in this organisation")
            % {"department": n.department(m[1])}
        ),
    ),
    (
        rf"the department {_Q} has no head",
        lambda m, n: (
            _("the department “%(department)s” has no head")
            % {"department": n.department(m[1])}
        ),
    ),
    (
        r"(.+) has no manager (\d+) level\(s\) up",
        lambda m, n: (
            _("%(who)s has no manager %(levels)s level(s) up")
            % {"who": _who(m[1], n), "levels": m[2]}
        ),
    ),
    (
        r"(.+): nobody active to assign",
        lambda m, n: _("%(who)s: nobody active to assign") % {"who": _who(m[1], n)},
    ),
    (
        r"(.+): no e-mail address",
        lambda m, n: _("%(who)s: no e-mail address") % {"who": _who(m[1], n)},
    ),
    (
        rf"the (date|deadline) field {_Q} (is empty|is not a date)",
        lambda m, n: (
            (
                _("the date field “%(field)s” %(why)s")
                if m[1] == "date"
                else _("the deadline field “%(field)s” %(why)s")
            )
            % {"field": n.field(m[2]), "why": _date_why(m[3])}
        ),
    ),
]
_COMPILED = [(re.compile(pattern), say) for pattern, say in _REASONS]


def reason_in_words(reason: str, names: Names) -> str:
    """The engine's or resolver's ``reason`` in the active language (see above)."""
    for pattern, say in _COMPILED:
        if found := pattern.fullmatch(reason):
            return say(found, names)
    return reason
