"""How the bot names a member in its texts: one rule for every feature.

`members` maps user IDs to display names as `commands.parsing.mentions.member_names` made
them (cleaned, on one line, with the user ID added where two names look alike); "" or a
missing entry means the member has no name the bot knows, and then the user ID's own part
("anna" of "@anna:example.org") stands for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from commands.core.rich import Rich, mention


def localpart(user_id: str) -> str:
    """ "@anna:example.org" -> "anna"."""
    return user_id.split(":", 1)[0].lstrip("@")


def display_name(user_id: str, members: Mapping[str, str] | None, known: str | None = None) -> str:
    """The member's display name, else `known` (a name noted earlier, e.g. of an attendee
    who has left the room since), else the user ID's own part."""
    return (members or {}).get(user_id) or known or localpart(user_id)


def name_list(user_ids: Iterable[str], members: Mapping[str, str] | None) -> str:
    """People by name, without notifying them: "Anna, Ben"."""
    return ", ".join(display_name(u, members) for u in user_ids)


def pills(user_ids: Iterable[str], members: Mapping[str, str] | None) -> Rich:
    """People as pills: their clients notify them."""
    return Rich.join([mention(u, display_name(u, members)) for u in user_ids], ", ")
