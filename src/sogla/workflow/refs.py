"""Participant refs: how the engine names a person (``user:<id>``, ``guest:<e-mail>``)
and how they map to the columns of a task row."""

from __future__ import annotations

from sogla.engine.states import Participant


def user_ref(user_id: int) -> str:
    return f"user:{user_id}"


def ref_user_id(ref: str | None) -> int | None:
    """The user id of a ``user:<id>`` ref; None for a guest, a route word or junk."""
    if ref and ref.startswith("user:"):
        try:
            return int(ref[5:])
        except ValueError:
            return None
    return None


def participant(user_id: int | None, email: str) -> Participant:
    """The participant of a task row: its assignee, else its guest's e-mail."""
    if user_id is not None:
        return Participant.user(user_id)
    return Participant.guest(email)
