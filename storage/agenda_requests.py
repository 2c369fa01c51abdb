"""The items members ask to put on a meeting's agenda (`!top`), the failed circulations and
the minutes objected to that go there too: each an AgendaRequest of the room, meant for
the meeting on `meeting_date` (None: the next one), done once a meeting took it up.

Commands call these functions; nothing here knows about chat or the rules. A request is
stored once per command event (`source_event_id`), so a replayed `!top` adds nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.models import AgendaKind, AgendaRequest, Meeting

# The kinds in the order the draft agenda lists them after its fixed items.
_ORDER = {AgendaKind.REQUESTED: 0, AgendaKind.CIRCULATION: 1, AgendaKind.MINUTES: 2}


def by_source_event(db: Session, source_event_id: str) -> AgendaRequest | None:
    stmt = select(AgendaRequest).where(AgendaRequest.source_event_id == source_event_id)
    return db.exec(stmt).first()


def propose(
    db: Session,
    *,
    room_id: str,
    text: str,
    by: str,
    at: dt.datetime,
    meeting_date: dt.date | None,
    source_event_id: str,
) -> tuple[AgendaRequest, bool]:
    """A member's item for the meeting on `meeting_date`; (request, created)."""
    existing = by_source_event(db, source_event_id)
    if existing is not None:
        return existing, False
    row = AgendaRequest(
        room_id=room_id,
        kind=AgendaKind.REQUESTED,
        text=text,
        proposed_by=by,
        proposed_at=at,
        meeting_date=meeting_date,
        source_event_id=source_event_id,
    )
    db.add(row)
    db.flush()
    return row, True


def open_for(db: Session, room_id: str, meeting_date: dt.date | None) -> list[AgendaRequest]:
    """What the room's meeting on `meeting_date` has to take up: every item not done yet
    that is meant for it, for an earlier one (not held), or for the next one; with
    `meeting_date` None every item not done. Requested items first, then failed
    circulations, then minutes, each oldest first."""
    stmt = select(AgendaRequest).where(
        AgendaRequest.room_id == room_id, col(AgendaRequest.done_at).is_(None)
    )
    if meeting_date is not None:
        stmt = stmt.where(
            or_(
                col(AgendaRequest.meeting_date).is_(None),
                col(AgendaRequest.meeting_date) <= meeting_date,
            )
        )
    found = list(db.exec(stmt.order_by(col(AgendaRequest.proposed_at), col(AgendaRequest.id))))
    found.sort(key=lambda r: _ORDER.get(AgendaKind(r.kind), len(_ORDER)))
    return found


def mark_done(
    db: Session, meeting: Meeting, *, meeting_day: dt.date, at: dt.datetime
) -> list[AgendaRequest]:
    """The meeting that ended at `at` on `meeting_day` (room time) took up what was meant
    for it: every item not done for that day, an earlier one or the next meeting, asked
    for before it began. Returns those items."""
    taken = [
        r for r in open_for(db, meeting.room_id, meeting_day) if r.proposed_at < meeting.started_at
    ]
    for r in taken:
        r.done_at = at
        db.add(r)
    db.flush()
    return taken


def minutes_item(db: Session, meeting_id: int) -> AgendaRequest | None:
    """The item "approval of the minutes" of the meeting whose minutes were objected to."""
    stmt = select(AgendaRequest).where(
        AgendaRequest.kind == AgendaKind.MINUTES, AgendaRequest.ref_id == meeting_id
    )
    return db.exec(stmt).first()


def put_minutes_on_agenda(
    db: Session, meeting: Meeting, *, text: str, at: dt.datetime, key: str
) -> AgendaRequest | None:
    """The approval of the meeting's minutes as an item of the next meeting, once (`key`
    names it for all time); None when it is there already."""
    assert meeting.id is not None
    if by_source_event(db, key) is not None or minutes_item(db, meeting.id) is not None:
        return None
    row = AgendaRequest(
        room_id=meeting.room_id,
        kind=AgendaKind.MINUTES,
        text=text,
        proposed_by=meeting.started_by,
        proposed_at=at,
        ref_id=meeting.id,
        source_event_id=key,
    )
    db.add(row)
    db.flush()
    return row
