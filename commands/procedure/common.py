"""What the meeting parts of the procedure share: a room's rules as they apply now, who
votes, and the number of a meeting as members write it ("4", "#4", "Nr. 4")."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlmodel import Session

from commands.core.defaults import Defaults
from commands.procedure.engine import Rules
from commands.procedure.rules import configured_rules, rules_of, voting_members

# "4", "#4", "Nr. 4", "4." at the start of the arguments, then the rest.
_NUMBER = re.compile(r"(?:nr\.?\s*|#)?([0-9]{1,12})\.?(?=\s|$)", re.IGNORECASE)


def room_rules(db: Session, room_id: str, defaults: Defaults) -> Rules:
    """The room's rules: the chair's parameters over the config's over the defaults."""
    return rules_of(db, room_id, configured_rules(defaults, room_id))


def voters(
    db: Session, room_id: str, members: Mapping[str, str] | None, bot_user: str | None
) -> list[str]:
    """The room's voting members (commands.procedure.rules.voting_members)."""
    return voting_members(db, room_id, members or {}, bot_user or "")


def split_meeting_number(args: str) -> tuple[int | None, str]:
    """ "4 Punkt 3 fehlt" -> (4, "Punkt 3 fehlt"); "#4", "Nr. 4" alike; (None, args) when
    the arguments do not begin with a number."""
    stripped = args.strip()
    m = _NUMBER.match(stripped)
    if m is None:
        return None, stripped
    return int(m[1]), stripped[m.end() :].strip()
