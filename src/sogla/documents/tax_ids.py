"""Russian tax identifiers and their check digits (pure: no Django).

- ИНН (INN): 10 digits for an organisation (one check digit), 12 for a person or
  a sole trader (two check digits); weights from the Federal Tax Service's rules.
- КПП (KPP): 9 characters, NNNNPPNNN, where PP are digits or capital Latin letters;
  it has no check digit, so only its form is checked.
- ОГРН (OGRN): 13 digits (the first 12 modulo 11, last digit); ОГРНИП: 15 digits
  (the first 14 modulo 13, last digit).

Each check returns '' when the value is right, else the name of the problem:
``length`` (wrong number of digits or form) or ``checksum``.
"""

from __future__ import annotations

import re

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")


def compact(value: str) -> str:
    """What people type, without spaces and dashes."""
    return re.sub(r"[\s\-]+", "", value or "")


def _digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_problem(value: str) -> str:
    if not value.isdigit() or len(value) not in (10, 12):
        return "length"
    if len(value) == 10:
        ok = _digit(value, _INN10) == int(value[9])
    else:
        ok = _digit(value, _INN11) == int(value[10]) and _digit(value, _INN12) == int(
            value[11]
        )
    return "" if ok else "checksum"


def kpp_problem(value: str) -> str:
    return "" if _KPP.fullmatch(value) else "length"


def ogrn_problem(value: str) -> str:
    if not value.isdigit() or len(value) not in (13, 15):
        return "length"
    modulus = 11 if len(value) == 13 else 13
    body, check = int(value[:-1]), int(value[-1])
    return "" if body % modulus % 10 == check else "checksum"
