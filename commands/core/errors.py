"""Exceptions a handler raises to answer with a clear message instead of a result."""

from __future__ import annotations


class CommandError(Exception):
    """A user-caused problem; `key` names the catalogue message, `values` fill it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class UsageError(CommandError):
    """The arguments do not fit the command; the registry adds the command's usage line."""

    def __init__(self, key: str = "error.bad_arguments", **values: object) -> None:
        super().__init__(key, **values)


class PermissionDenied(CommandError):
    """The sender's role does not allow this; the message says who may."""
