"""Tenant A speaks English here (as in tests/external), and the guest fixtures."""

from tests.external.conftest import _english, staff  # noqa: F401
