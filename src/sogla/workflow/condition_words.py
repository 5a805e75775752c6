"""Route conditions and skip reasons in the reader's language, with field labels.

The engine records why a stage or step was skipped as an English sentence over field
keys (``condition not met: contract_type is "tours"``); the card and the start preview
say it again from the route's condition, with the document type's labels and choice
labels: «условие не выполнено: Тип договора — «Туры»».
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from sogla.documents.models import FieldDef
from sogla.engine.conditions import Condition, Op, Words, describe

NOT_MET = "condition not met: "


def words_for(fields: Iterable[FieldDef]) -> Words:
    by_key = {f.key: f for f in fields}
    derived = {
        "initiator.department": _("the initiator's department"),
        "initiator.username": _("the initiator"),
        "counterparty.category": _("the counterparty's category"),
        "doc_type": _("the document type"),
    }

    def name(key: str) -> str:
        found = by_key.get(key)
        return f"«{found.label}»" if found is not None else derived.get(key, key)

    def value(key: str, raw: Any) -> str:
        if isinstance(raw, bool):
            return _("yes") if raw else _("no")
        if isinstance(raw, list | tuple):
            return ", ".join(value(key, item) for item in raw)
        found = by_key.get(key)
        if found is not None and found.choices:
            return f"«{found.choice_label(raw)}»"
        return f"«{raw}»" if isinstance(raw, str) else str(raw)

    return Words(
        name=name,
        value=value,
        ops={
            Op.EQ: _("is"),
            Op.NE: _("is not"),
            Op.IN: _("is one of"),
            Op.NOT_IN: _("is none of"),
            Op.GT: _("is greater than"),
            Op.GTE: _("is at least"),
            Op.LT: _("is less than"),
            Op.LTE: _("is at most"),
            Op.EMPTY: _("is empty"),
            Op.NOT_EMPTY: _("is filled in"),
            Op.CONTAINS: _("contains"),
        },
        and_=_("and"),
        or_=_("or"),
        not_=_("not"),
        always=_("always"),
        never=_("never"),
    )


EVERY_STEP_SKIPPED = "every step is skipped"


def will_skip_reason(reason: str, condition: Condition | None, words: Words) -> str:
    """Why a stage or step that has not opened will be skipped, for the values the
    document has now: «будет пропущен, если не …» (the start preview and the map)."""
    if condition is not None and reason.startswith(NOT_MET):
        return _("will be skipped unless %(condition)s") % {
            "condition": describe(condition, words)
        }
    if reason == EVERY_STEP_SKIPPED:
        return _("will be skipped: none of its steps applies")
    return _("will be skipped")


def skip_reason(reason: str, condition: Condition | None, words: Words) -> str:
    """The engine's reason, said again in words when it is an unmet condition."""
    if reason == EVERY_STEP_SKIPPED:
        return _("none of its steps applies")
    if condition is None or not reason.startswith(NOT_MET):
        return reason
    return _("condition not met: %(condition)s") % {
        "condition": describe(condition, words)
    }
