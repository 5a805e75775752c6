"""Structured conditions over field values, as the route builder edits them.

A condition is a comparison ``{"field": "amount", "op": "gt", "value": 1000000}`` or a
group ``{"all": [...]}`` / ``{"any": [...]}`` / ``{"not": {...}}``. There is no
expression language and no ``eval``: every condition can be shown as a sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    EMPTY = "empty"
    NOT_EMPTY = "not_empty"
    CONTAINS = "contains"


class Comparison(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(min_length=1)
    op: Op = Op.EQ
    value: Any = None


class AllOf(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    all: list[Condition]


class AnyOf(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    any: list[Condition]


class NotOf(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    not_: Condition = Field(alias="not")


Condition = Annotated[Comparison | AllOf | AnyOf | NotOf, "condition"]
_adapter: TypeAdapter[Condition] = TypeAdapter(Condition)
Kind = Literal["comparison", "all", "any", "not"]


def parse_condition(data: Mapping[str, Any]) -> Condition:
    """Validate a condition's JSON; raises pydantic.ValidationError with paths."""
    return _adapter.validate_python(data)


def referenced_fields(condition: Condition) -> set[str]:
    """Every field key a condition reads, so validators can check they exist."""
    if isinstance(condition, Comparison):
        return {condition.field}
    if isinstance(condition, AllOf):
        return set().union(*(referenced_fields(c) for c in condition.all))
    if isinstance(condition, AnyOf):
        return set().union(*(referenced_fields(c) for c in condition.any))
    return referenced_fields(condition.not_)


def evaluate(condition: Condition, facts: Mapping[str, Any]) -> bool:
    """True when the condition holds for ``facts`` (field key -> value).

    A dotted key such as ``initiator.department`` is looked up as given, so the
    caller decides which derived facts exist.
    """
    if isinstance(condition, AllOf):
        return all(evaluate(c, facts) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(evaluate(c, facts) for c in condition.any)
    if isinstance(condition, NotOf):
        return not evaluate(condition.not_, facts)
    return _compare(condition.op, facts.get(condition.field), condition.value)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _ordered(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both sides as comparable values (numbers or ISO dates), or None."""
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return ln, rn
    try:
        return date.fromisoformat(str(left)), date.fromisoformat(str(right))
    except ValueError:
        return None


def _equal(left: Any, right: Any) -> bool:
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return ln == rn
    return bool(left == right) or str(left) == str(right)


def _compare(op: Op, left: Any, right: Any) -> bool:
    if op is Op.EMPTY:
        return _is_empty(left)
    if op is Op.NOT_EMPTY:
        return not _is_empty(left)
    if op is Op.EQ:
        return _equal(left, right)
    if op is Op.NE:
        return not _equal(left, right)
    if op in (Op.IN, Op.NOT_IN):
        options = right if isinstance(right, list) else [right]
        found = any(_equal(left, option) for option in options)
        return found if op is Op.IN else not found
    if op is Op.CONTAINS:
        if isinstance(left, list):
            return any(_equal(item, right) for item in left)
        return isinstance(left, str) and str(right).lower() in left.lower()
    pair = _ordered(left, right)
    if pair is None:
        return False
    a, b = pair
    outcome: bool = {Op.GT: a > b, Op.GTE: a >= b, Op.LT: a < b, Op.LTE: a <= b}[op]
    return outcome


_OP_WORDS: dict[Op, str] = {
    Op.EQ: "is",
    Op.NE: "is not",
    Op.IN: "is one of",
    Op.NOT_IN: "is not one of",
    Op.GT: "is greater than",
    Op.GTE: "is at least",
    Op.LT: "is less than",
    Op.LTE: "is at most",
    Op.EMPTY: "is empty",
    Op.NOT_EMPTY: "is filled in",
    Op.CONTAINS: "contains",
}


def _describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_describe_value(item) for item in value)
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


@dataclass(frozen=True)
class Words:
    """How ``describe`` names things: English and field keys by default; the UI
    passes its translated words, field labels and choice labels."""

    name: Callable[[str], str] = str
    value: Callable[[str, Any], str] = lambda _key, value: _describe_value(value)
    ops: Mapping[Op, str] = _field(default_factory=lambda: dict(_OP_WORDS))
    and_: str = "and"
    or_: str = "or"
    not_: str = "not"
    always: str = "always"
    never: str = "never"


ENGLISH = Words()


def describe(condition: Condition, words: Words = ENGLISH) -> str:
    """The condition as a sentence, e.g. ``amount is greater than 1000``.

    Nested groups are put in parentheses.
    """

    def inner(part: Condition) -> str:
        text = describe(part, words)
        return f"({text})" if isinstance(part, AllOf | AnyOf) else text

    if isinstance(condition, AllOf):
        return f" {words.and_} ".join(inner(c) for c in condition.all) or words.always
    if isinstance(condition, AnyOf):
        return f" {words.or_} ".join(inner(c) for c in condition.any) or words.never
    if isinstance(condition, NotOf):
        return f"{words.not_} ({describe(condition.not_, words)})"
    op = words.ops[condition.op]
    name = words.name(condition.field)
    if condition.op in (Op.EMPTY, Op.NOT_EMPTY):
        return f"{name} {op}"
    return f"{name} {op} {words.value(condition.field, condition.value)}"
