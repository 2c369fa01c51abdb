"""Meetings, their attendees (with the roll call's answers) and minutes, the objections to
the minutes and their approval, each room's meeting plan, the agendas posted.

Commands call these functions; nothing here knows about chat. A meeting is started once
per command event (`source_event_id`), an attendee is noted once per meeting, an agenda
is posted once per room and meeting day: each of these is safe to repeat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import (
    Agreement,
    AgreementHistory,
    AttendanceStatus,
    Meeting,
    MeetingAgenda,
    MeetingAttendee,
    MeetingPlan,
    MinutesObjection,
    Room,
)

# Numbers are PostgreSQL INTEGER: anything larger is no meeting (and no database error).
MAX_NUMBER = 2**31 - 1
_NUMBER_ATTEMPTS = 8


# -------------------------------------------------------------------------------- meetings


def running(db: Session, room_id: str) -> Meeting | None:
    stmt = select(Meeting).where(Meeting.room_id == room_id, col(Meeting.ended_at).is_(None))
    return db.exec(stmt.order_by(col(Meeting.number).desc())).first()


def _running_at(
    room_id: str | ColumnElement[str], at: dt.datetime | ColumnElement[dt.datetime]
) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Meeting.room_id) == room_id,
        col(Meeting.started_at) <= at,
        or_(col(Meeting.ended_at).is_(None), col(Meeting.ended_at) >= at),
    )


def running_at(db: Session, room_id: str, at: dt.datetime) -> Meeting | None:
    """The meeting of the room that was running at `at` (an event replayed after the
    meeting ended still counts for it)."""
    stmt = select(Meeting).where(*_running_at(room_id, at))
    return db.exec(stmt.order_by(col(Meeting.number).desc())).first()


def ran_at(room_id: ColumnElement[str], at: ColumnElement[dt.datetime]) -> ColumnElement[bool]:
    """Whether `running_at` finds a meeting, as an SQL truth value (a column of a bigger
    query, its room and moment bound parameters of that query)."""
    return exists().where(*_running_at(room_id, at))


def by_number(db: Session, room_id: str, number: int) -> Meeting | None:
    if not 1 <= number <= MAX_NUMBER:
        return None
    stmt = select(Meeting).where(Meeting.room_id == room_id, Meeting.number == number)
    return db.exec(stmt).first()


def by_source_event(db: Session, event_id: str) -> Meeting | None:
    return db.exec(select(Meeting).where(Meeting.source_event_id == event_id)).first()


def latest(db: Session, room_id: str, *, limit: int = 1) -> list[Meeting]:
    """The room's last meetings, newest first."""
    stmt = (
        select(Meeting)
        .where(Meeting.room_id == room_id)
        .order_by(col(Meeting.number).desc())
        .limit(limit)
    )
    return list(db.exec(stmt))


def count(db: Session, room_id: str) -> int:
    stmt = select(func.count()).select_from(Meeting).where(Meeting.room_id == room_id)
    return int(db.exec(stmt).one())


def held_between(
    db: Session, since: dt.datetime, until: dt.datetime, *, room_id: str | None = None
) -> list[Meeting]:
    """Meetings that ended and started in [since, until), by room and number (for the
    overview, the leadership report and exports)."""
    stmt = select(Meeting).where(
        col(Meeting.ended_at).is_not(None),
        col(Meeting.started_at) >= since,
        col(Meeting.started_at) < until,
    )
    if room_id is not None:
        stmt = stmt.where(Meeting.room_id == room_id)
    return list(db.exec(stmt.order_by(col(Meeting.room_id), col(Meeting.number))))


def _next_number(db: Session, room_id: str) -> int:
    stmt = select(func.max(Meeting.number)).where(Meeting.room_id == room_id)
    return int(db.exec(stmt).one() or 0) + 1


def start(
    db: Session,
    *,
    room_id: str,
    title: str | None,
    by: str,
    at: dt.datetime,
    source_event_id: str,
) -> tuple[Meeting, bool]:
    """Start meeting max+1 of the room; (meeting, created). The event that already
    started one returns that one (created False). The caller checks that none runs."""
    existing = by_source_event(db, source_event_id)
    if existing is not None:
        return existing, False
    for _attempt in range(_NUMBER_ATTEMPTS):
        meeting = Meeting(
            room_id=room_id,
            number=_next_number(db, room_id),
            title=title,
            started_at=at,
            started_by=by,
            source_event_id=source_event_id,
        )
        try:
            with db.begin_nested():
                db.add(meeting)
                db.flush()
        except IntegrityError:
            existing = by_source_event(db, source_event_id)
            if existing is not None:
                return existing, False
            continue  # another process took this number meanwhile
        return meeting, True
    raise RuntimeError(f"no free meeting number in {room_id} after {_NUMBER_ATTEMPTS} tries")


def end(db: Session, meeting: Meeting, *, by: str, at: dt.datetime, minutes: str) -> None:
    meeting.ended_at = at
    meeting.ended_by = by
    meeting.minutes = minutes
    db.add(meeting)
    db.flush()


# -------------------------------------------------------------------- approval of minutes


def approve_minutes(db: Session, meeting: Meeting, at: dt.datetime) -> None:
    if meeting.minutes_approved_at is None:
        meeting.minutes_approved_at = at
        db.add(meeting)
        db.flush()


def awaiting_approval(
    db: Session, ended_since: dt.datetime, room_ids: Sequence[str] | None = None
) -> list[Meeting]:
    """Ended meetings of rooms the bot is still in whose minutes are not approved, ended
    from `ended_since` on, by room and number."""
    stmt = (
        select(Meeting)
        .join(Room, col(Room.room_id) == col(Meeting.room_id))
        .where(
            col(Room.left_at).is_(None),
            col(Meeting.ended_at) >= ended_since,
            col(Meeting.minutes).is_not(None),
            col(Meeting.minutes_approved_at).is_(None),
        )
    )
    if room_ids is not None:
        stmt = stmt.where(col(Meeting.room_id).in_(list(room_ids)))
    return list(db.exec(stmt.order_by(col(Meeting.room_id), col(Meeting.number))))


def objections(db: Session, meeting_ids: Sequence[int]) -> dict[int, list[MinutesObjection]]:
    """The objections to each meeting's minutes, oldest first."""
    found: dict[int, list[MinutesObjection]] = {m: [] for m in meeting_ids}
    if not meeting_ids:
        return found
    stmt = (
        select(MinutesObjection)
        .where(col(MinutesObjection.meeting_id).in_(list(meeting_ids)))
        .order_by(col(MinutesObjection.at), col(MinutesObjection.id))
    )
    for row in db.exec(stmt):
        found[row.meeting_id].append(row)
    return found


def objection_of(db: Session, meeting_id: int, user_id: str) -> MinutesObjection | None:
    stmt = select(MinutesObjection).where(
        MinutesObjection.meeting_id == meeting_id, MinutesObjection.user_id == user_id
    )
    return db.exec(stmt.order_by(col(MinutesObjection.id))).first()


def add_objection(
    db: Session,
    meeting_id: int,
    *,
    user_id: str,
    reason: str,
    at: dt.datetime,
    source_event_id: str,
) -> tuple[MinutesObjection, bool]:
    """Store an objection to the minutes; (objection, created). The event that stored one
    already returns that one (a replayed command)."""
    stmt = select(MinutesObjection).where(MinutesObjection.source_event_id == source_event_id)
    existing = db.exec(stmt).first()
    if existing is not None:
        return existing, False
    row = MinutesObjection(
        meeting_id=meeting_id,
        user_id=user_id,
        reason=reason,
        at=at,
        source_event_id=source_event_id,
    )
    db.add(row)
    db.flush()
    return row, True


# ------------------------------------------------------------------------------- attendees


def note_attendee(
    db: Session, meeting_id: int, user_id: str, display_name: str | None, at: dt.datetime
) -> bool:
    """Note that `user_id` took part; True when that is new. Safe to repeat."""
    if db.get(MeetingAttendee, (meeting_id, user_id)) is not None:
        return False
    row = MeetingAttendee(
        meeting_id=meeting_id, user_id=user_id, display_name=display_name or None, first_seen_at=at
    )
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        return False  # noted meanwhile by another transaction
    return True


def set_status(
    db: Session,
    meeting_id: int,
    user_id: str,
    display_name: str | None,
    status: AttendanceStatus,
    at: dt.datetime,
) -> str | None:
    """The roll call's answer for `user_id` (noted as an attendee if not yet); returns the
    answer noted before (None: none). Safe to repeat."""
    note_attendee(db, meeting_id, user_id, display_name, at)
    row = db.get(MeetingAttendee, (meeting_id, user_id))
    assert row is not None
    before = row.status
    if before != status:
        row.status = status
        db.add(row)
        db.flush()
    return before


def status_of(db: Session, meeting_id: int, user_id: str) -> str | None:
    """The roll call's answer of `user_id` (None: none, or not noted at all)."""
    row = db.get(MeetingAttendee, (meeting_id, user_id))
    return None if row is None else row.status


def attendees(db: Session, meeting_id: int) -> list[MeetingAttendee]:
    stmt = (
        select(MeetingAttendee)
        .where(MeetingAttendee.meeting_id == meeting_id)
        .order_by(col(MeetingAttendee.first_seen_at), col(MeetingAttendee.user_id))
    )
    return list(db.exec(stmt))


def agreement_changes(
    db: Session, room_id: str, since: dt.datetime, until: dt.datetime
) -> list[tuple[Agreement, list[AgreementHistory]]]:
    """Agreements of the room changed in [since, until], each with those history rows,
    by number."""
    stmt = (
        select(AgreementHistory, Agreement)
        .join(Agreement, col(Agreement.id) == col(AgreementHistory.agreement_id))
        .where(
            Agreement.room_id == room_id,
            col(AgreementHistory.at) >= since,
            col(AgreementHistory.at) <= until,
        )
        .order_by(col(Agreement.number), col(AgreementHistory.at), col(AgreementHistory.id))
    )
    found: dict[int, tuple[Agreement, list[AgreementHistory]]] = {}
    for row, agreement in db.exec(stmt):
        assert agreement.id is not None
        found.setdefault(agreement.id, (agreement, []))[1].append(row)
    return list(found.values())


# ------------------------------------------------------------------------------------ plan


def plan_of(db: Session, room_id: str) -> MeetingPlan | None:
    return db.get(MeetingPlan, room_id)


def set_plan(
    db: Session,
    room_id: str,
    *,
    next_date: dt.date | None = None,
    next_time: dt.time | None = None,
    recurrence: str | None = None,
    by: str,
    at: dt.datetime,
    source_event_id: str,
) -> MeetingPlan:
    """Replace the room's plan by one date or one series."""
    if (next_date is None) == (recurrence is None):
        raise ValueError("a meeting plan is either one date or a series")
    plan = plan_of(db, room_id) or MeetingPlan(
        room_id=room_id, set_by=by, set_at=at, source_event_id=source_event_id
    )
    plan.next_date, plan.next_time, plan.recurrence = next_date, next_time, recurrence
    plan.set_by, plan.set_at, plan.source_event_id = by, at, source_event_id
    db.add(plan)
    db.flush()
    return plan


def clear_plan(db: Session, room_id: str) -> bool:
    plan = plan_of(db, room_id)
    if plan is None:
        return False
    db.delete(plan)
    db.flush()
    return True


def active_plans(db: Session, room_ids: Sequence[str] | None = None) -> list[MeetingPlan]:
    """Plans of rooms the bot is still in (of `room_ids` only, when given)."""
    stmt = (
        select(MeetingPlan)
        .join(Room, col(Room.room_id) == col(MeetingPlan.room_id))
        .where(col(Room.left_at).is_(None))
    )
    if room_ids is not None:
        stmt = stmt.where(col(MeetingPlan.room_id).in_(list(room_ids)))
    return list(db.exec(stmt.order_by(col(MeetingPlan.room_id))))


# ---------------------------------------------------------------------------------- agenda


def agenda_posted(db: Session, room_id: str, meeting_date: dt.date) -> bool:
    stmt = select(MeetingAgenda).where(
        MeetingAgenda.room_id == room_id, MeetingAgenda.meeting_date == meeting_date
    )
    return db.exec(stmt).first() is not None


def record_agenda(
    db: Session, room_id: str, meeting_date: dt.date, *, key: str, at: dt.datetime
) -> None:
    db.add(MeetingAgenda(room_id=room_id, meeting_date=meeting_date, posted_at=at, key=key))
    db.flush()
