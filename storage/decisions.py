"""Decisions (Beschlüsse): by circulation or in a meeting, numbered per room and year once
passed; a failed circulation's item for the next agenda; the agreements that follow from a
Beschluss. Commands call these functions; nothing here knows about chat or the rules.

A follow-up agreement is tied to its Beschluss by a note in its history (action `note`,
`new_value` the Beschluss's "2026/3", `note` the words the member reads): the agreement's
history shows it, and the decision finds its follow-ups by that value.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import agenda_requests
from storage.db import in_chunks
from storage.exports import Window
from storage.models import (
    AgendaKind,
    AgendaRequest,
    Agreement,
    AgreementHistory,
    Decision,
    DecisionKind,
    DecisionOutcome,
    HistoryAction,
    Meeting,
    PollVote,
    Room,
)

_NUMBER_ATTEMPTS = 8


def label(year: int, number: int) -> str:
    """A Beschluss's number as members write it: "2026/3"."""
    return f"{year}/{number}"


# ------------------------------------------------------------------------------- reading


def get(db: Session, decision_id: int) -> Decision | None:
    return db.get(Decision, decision_id)


def by_source_event(db: Session, source_event_id: str) -> Decision | None:
    stmt = select(Decision).where(Decision.source_event_id == source_event_id)
    return db.exec(stmt).first()


def by_number(db: Session, room_id: str, year: int, number: int) -> Decision | None:
    stmt = select(Decision).where(
        Decision.room_id == room_id, Decision.year == year, Decision.number == number
    )
    return db.exec(stmt).first()


def latest_year(db: Session, room_id: str) -> int | None:
    """The latest year in which the room passed a Beschluss."""
    stmt = select(func.max(Decision.year)).where(Decision.room_id == room_id)
    found = db.exec(stmt).one()
    return int(found) if found is not None else None


def passed_in(db: Session, room_id: str, year: int) -> list[Decision]:
    """The room's Beschlüsse of `year`, by number."""
    stmt = select(Decision).where(
        Decision.room_id == room_id,
        Decision.year == year,
        Decision.outcome == DecisionOutcome.PASSED,
    )
    return list(db.exec(stmt.order_by(col(Decision.number))))


def not_passed_between(
    db: Session, room_id: str, since: dt.datetime, until: dt.datetime
) -> list[Decision]:
    """The room's decisions that ended without a Beschluss in [since, until), oldest first."""
    stmt = select(Decision).where(
        Decision.room_id == room_id,
        col(Decision.outcome).in_(
            [DecisionOutcome.REJECTED, DecisionOutcome.OBJECTION, DecisionOutcome.TOO_FEW]
        ),
        col(Decision.decided_at) >= since,
        col(Decision.decided_at) < until,
    )
    return list(db.exec(stmt.order_by(col(Decision.decided_at), col(Decision.id))))


def running(db: Session, room_id: str) -> list[Decision]:
    """The room's circulations still running, by deadline."""
    stmt = select(Decision).where(
        Decision.room_id == room_id, Decision.outcome == DecisionOutcome.RUNNING
    )
    return list(db.exec(stmt.order_by(col(Decision.deadline), col(Decision.id))))


def due(db: Session, now: dt.datetime, room_id: str | None = None) -> list[Decision]:
    """Running circulations whose deadline has come."""
    stmt = select(Decision).where(
        Decision.outcome == DecisionOutcome.RUNNING,
        col(Decision.deadline).is_not(None),
        col(Decision.deadline) <= now,
    )
    if room_id is not None:
        stmt = stmt.where(Decision.room_id == room_id)
    return list(db.exec(stmt.order_by(col(Decision.deadline), col(Decision.id))))


def next_deadline(db: Session, room_id: str | None = None) -> dt.datetime | None:
    stmt = select(func.min(Decision.deadline)).where(
        Decision.outcome == DecisionOutcome.RUNNING, col(Decision.deadline).is_not(None)
    )
    if room_id is not None:
        stmt = stmt.where(Decision.room_id == room_id)
    found: dt.datetime | None = db.exec(stmt).one()
    if found is not None and found.tzinfo is None:  # func.min bypasses the column type
        found = found.replace(tzinfo=dt.UTC)
    return found


def of_meeting(db: Session, meeting_id: int) -> list[Decision]:
    """The decisions taken in a meeting, in the order recorded."""
    stmt = select(Decision).where(Decision.meeting_id == meeting_id)
    return list(db.exec(stmt.order_by(col(Decision.created_at), col(Decision.id))))


def meeting_numbers(db: Session, meeting_ids: Sequence[int]) -> dict[int, int]:
    """Each meeting's number in its room, by ID."""
    found: dict[int, int] = {}
    for chunk in in_chunks(sorted(set(meeting_ids))):
        stmt = select(Meeting.id, Meeting.number).where(col(Meeting.id).in_(chunk))
        found.update({mid: n for mid, n in db.exec(stmt) if mid is not None})
    return found


def votes_by_voter(db: Session, poll_id: int) -> dict[str, list[str]]:
    """A poll's votes: answer IDs by voter hash (a circulation's are disclosed: whoever
    holds the voters' key tells who gave them)."""
    stmt = select(PollVote.voter, PollVote.answers).where(PollVote.poll_id == poll_id)
    return {voter: list(json.loads(raw)) for voter, raw in db.exec(stmt)}


def circulations_decided(
    db: Session, room_id: str, since: dt.datetime | None, until: dt.datetime
) -> list[Decision]:
    """The room's circulations that ended in [since, until) (since None: any time before)."""
    stmt = select(Decision).where(
        Decision.room_id == room_id,
        Decision.kind == DecisionKind.CIRCULATION,
        Decision.outcome != DecisionOutcome.RUNNING,
        col(Decision.decided_at) < until,
    )
    if since is not None:
        stmt = stmt.where(col(Decision.decided_at) >= since)
    return list(db.exec(stmt.order_by(col(Decision.decided_at), col(Decision.id))))


def passed_between(
    db: Session, since: dt.datetime, until: dt.datetime, room_ids: Sequence[str]
) -> list[Decision]:
    """The Beschlüsse of these rooms decided in [since, until), by room, year and number."""
    found: list[Decision] = []
    for chunk in in_chunks(list(room_ids)):
        stmt = select(Decision).where(
            col(Decision.room_id).in_(chunk),
            Decision.outcome == DecisionOutcome.PASSED,
            col(Decision.decided_at) >= since,
            col(Decision.decided_at) < until,
        )
        found.extend(db.exec(stmt))
    found.sort(key=lambda d: (d.room_id, d.year or 0, d.number or 0))
    return found


def in_window(db: Session, window: Window) -> Iterator[tuple[Decision, str | None]]:
    """Decisions ended in the window, with their room's name, by room and moment decided:
    what the exports list (a running circulation has no result yet)."""
    stmt = (
        select(Decision, Room.name)
        .join(Room, col(Room.room_id) == col(Decision.room_id))
        .where(
            Decision.outcome != DecisionOutcome.RUNNING,
            *window.holds(Decision.room_id, Decision.decided_at),
        )
        .order_by(col(Decision.room_id), col(Decision.decided_at), col(Decision.id))
    )
    yield from db.exec(stmt)


# ------------------------------------------------------------------------------- writing


def create(db: Session, decision: Decision) -> tuple[Decision, bool]:
    """Store a new decision; one its command event stored already is returned instead (a
    replayed command): (decision, created)."""
    existing = by_source_event(db, decision.source_event_id)
    if existing is not None:
        return existing, False
    try:
        with db.begin_nested():
            db.add(decision)
            db.flush()
    except IntegrityError:
        existing = by_source_event(db, decision.source_event_id)
        if existing is None:
            raise
        return existing, False
    return decision, True


def number(db: Session, decision: Decision, year: int) -> None:
    """Give a passed decision the next number of its room's `year`."""
    if decision.number is not None:
        return
    for _attempt in range(_NUMBER_ATTEMPTS):
        top = db.exec(
            select(func.max(Decision.number)).where(
                Decision.room_id == decision.room_id, Decision.year == year
            )
        ).one()
        decision.year, decision.number = year, int(top or 0) + 1
        try:
            with db.begin_nested():
                db.add(decision)
                db.flush()
        except IntegrityError:
            continue  # another decision took this number meanwhile
        return
    raise RuntimeError(f"no free decision number in {decision.room_id} {year}")


def save(db: Session, decision: Decision) -> None:
    db.add(decision)
    db.flush()


def put_on_agenda(
    db: Session, decision: Decision, *, at: dt.datetime, key: str
) -> AgendaRequest | None:
    """The failed circulation as an item of the next meeting's draft agenda, once (`key`
    names it for all time); None when it is there already."""
    assert decision.id is not None
    if agenda_requests.by_source_event(db, key) is not None:
        return None
    row = AgendaRequest(
        room_id=decision.room_id,
        kind=AgendaKind.CIRCULATION,
        text=decision.text,
        proposed_by=decision.created_by,
        proposed_at=at,
        ref_id=decision.id,
        source_event_id=key,
    )
    db.add(row)
    db.flush()
    return row


# ---------------------------------------------------------------------------- follow-ups


def add_follow_up(
    db: Session,
    decision: Decision,
    agreement: Agreement,
    *,
    note: str,
    actor: str,
    at: dt.datetime,
    source_event_id: str,
) -> None:
    """Note in the agreement's history that it follows from the Beschluss."""
    assert decision.year is not None
    assert decision.number is not None
    assert agreement.id is not None
    value = label(decision.year, decision.number)
    noted = select(AgreementHistory.id).where(
        AgreementHistory.agreement_id == agreement.id,
        AgreementHistory.action == HistoryAction.NOTE,
        AgreementHistory.new_value == value,
    )
    if db.exec(noted).first() is not None:
        return  # noted already (a replayed command)
    db.add(
        AgreementHistory(
            agreement_id=agreement.id,
            at=at,
            actor=actor,
            action=HistoryAction.NOTE,
            new_value=value,
            note=note,
            source_event_id=source_event_id,
        )
    )
    db.flush()


def follow_ups(db: Session, room_id: str, labels: Sequence[str]) -> dict[str, list[Agreement]]:
    """The agreements of the room noted as following from each of these Beschlüsse (by
    "2026/3"), by number."""
    found: dict[str, list[Agreement]] = {x: [] for x in labels}
    if not labels:
        return found
    for chunk in in_chunks(list(labels)):
        stmt = (
            select(AgreementHistory.new_value, Agreement)
            .join(Agreement, col(Agreement.id) == col(AgreementHistory.agreement_id))
            .where(
                Agreement.room_id == room_id,
                AgreementHistory.action == HistoryAction.NOTE,
                col(AgreementHistory.new_value).in_(chunk),
            )
        )
        for value, agreement in db.exec(stmt):
            if value is not None and agreement not in found[value]:
                found[value].append(agreement)
    for items in found.values():
        items.sort(key=lambda a: a.number)
    return found
