"""The rules of procedure's rows: each room's rules parameters (JSON, read and written by
commands.procedure.rules) and its voting members."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, delete, select

from storage.models import ProcedureRules, VotingMember


def rules_params(db: Session, room_id: str) -> dict[str, Any] | None:
    """The parameters the chair set for the room, or None when nobody has."""
    row = db.get(ProcedureRules, room_id)
    return None if row is None else dict(json.loads(row.params))


def rules_row(db: Session, room_id: str) -> ProcedureRules | None:
    """The chair's parameters with who set them and when; None when nobody has."""
    return db.get(ProcedureRules, room_id)


def clear_rules_params(db: Session, room_id: str) -> bool:
    """Forget the chair's parameters (the config's apply again); False if there were none."""
    row = db.get(ProcedureRules, room_id)
    if row is None:
        return False
    db.delete(row)
    db.flush()
    return True


def set_rules_params(
    db: Session, room_id: str, params: dict[str, Any], *, by: str, at: dt.datetime
) -> None:
    row = db.get(ProcedureRules, room_id)
    text = json.dumps(params, sort_keys=True)
    if row is None:
        row = ProcedureRules(room_id=room_id, params=text, set_by=by, set_at=at)
    else:
        row.params, row.set_by, row.set_at = text, by, at
    db.add(row)
    db.flush()


def voting_members(db: Session, room_id: str) -> list[str]:
    """The voting members the rules name (empty: every member of the room votes)."""
    stmt = (
        select(VotingMember.user_id)
        .where(VotingMember.room_id == room_id)
        .order_by(col(VotingMember.user_id))
    )
    return list(db.exec(stmt))


def set_voting_members(
    db: Session, room_id: str, user_ids: Sequence[str], *, by: str, at: dt.datetime
) -> None:
    """Replace the room's voting members (none: every member votes again)."""
    db.exec(delete(VotingMember).where(col(VotingMember.room_id) == room_id))
    for user_id in dict.fromkeys(user_ids):
        db.add(VotingMember(room_id=room_id, user_id=user_id, set_by=by, set_at=at))
    db.flush()
