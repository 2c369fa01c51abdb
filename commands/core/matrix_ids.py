"""Checks of Matrix IDs an operator writes into the config, for pydantic validators."""

from __future__ import annotations


def check_room_id(value: str) -> str:
    if not value.startswith("!") or ":" not in value:
        raise ValueError(f"{value!r} is no Matrix room ID, expected e.g. !abc123:example.org")
    return value


def check_user_id(value: str) -> str:
    if not value.startswith("@") or ":" not in value:
        raise ValueError(f"{value!r} is no Matrix user ID, expected e.g. @name:example.org")
    return value
