"""Polls and their votes: create, vote (a voter's new answer replaces the old), count, close.

Votes are stored under the keyed hash the command layer computes; these functions never
see a user ID together with an answer. Every vote rewrites the poll's votes in random
order under random IDs (`storage.shuffled`): nothing stored follows the order of answering.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import shuffled
from storage.figures.votes import NOT_JUDGED, SCALE, Distribution
from storage.models import Poll, PollKind, PollVote

_NUMBER_ATTEMPTS = 8


@dataclass(frozen=True)
class Answer:
    id: str
    text: str


@dataclass(frozen=True)
class Tally:
    """What a poll's votes add up to: votes per answer ID, and how many took part."""

    counts: dict[str, int]
    voters: int

    @property
    def votes(self) -> int:
        return sum(self.counts.values())

    @property
    def distribution(self) -> Distribution:
        """The votes of a 1–5 scale whose answer IDs are its values (a pulse's), as the
        read model counts them."""
        one, two, three, four, five = (self.counts.get(str(v), 0) for v in SCALE)
        return Distribution((one, two, three, four, five), self.counts.get(NOT_JUDGED, 0))

    @property
    def mean(self) -> float | None:
        """The mean of a pulse's answers; None without any vote."""
        return self.distribution.mean


def answers_of(poll: Poll) -> list[Answer]:
    return [Answer(str(a["id"]), str(a["text"])) for a in json.loads(poll.answers)]


def create(
    db: Session,
    *,
    room_id: str,
    kind: PollKind,
    question: str,
    answers: Sequence[Answer],
    created_by: str,
    at: dt.datetime,
    source_event_id: str,
    closes_at: dt.datetime | None = None,
    max_selections: int = 1,
    anonymous: bool = False,
    numbered: bool = True,
    survey_id: int | None = None,
    position: int = 0,
) -> tuple[Poll, bool]:
    """A new poll, numbered max+1 in its room when `numbered`; (poll, created).

    An event that already created one returns that one (a replayed command)."""
    existing = by_source_event(db, source_event_id)
    if existing is not None:
        return existing, False
    for _attempt in range(_NUMBER_ATTEMPTS):
        poll = Poll(
            room_id=room_id,
            number=_next_number(db, room_id) if numbered else None,
            kind=kind,
            question=question,
            answers=json.dumps([{"id": a.id, "text": a.text} for a in answers], ensure_ascii=False),
            max_selections=max_selections,
            anonymous=anonymous,
            created_by=created_by,
            created_at=at,
            closes_at=closes_at,
            source_event_id=source_event_id,
            survey_id=survey_id,
            position=position,
        )
        try:
            with db.begin_nested():
                db.add(poll)
                db.flush()
        except IntegrityError:
            existing = by_source_event(db, source_event_id)
            if existing is not None:
                return existing, False
            continue  # another poll took this number meanwhile
        return poll, True
    raise RuntimeError(f"no free poll number in {room_id} after {_NUMBER_ATTEMPTS} tries")


def _next_number(db: Session, room_id: str) -> int:
    top = db.exec(select(func.max(Poll.number)).where(Poll.room_id == room_id)).one()
    return int(top or 0) + 1


def by_source_event(db: Session, source_event_id: str) -> Poll | None:
    return db.exec(select(Poll).where(Poll.source_event_id == source_event_id)).first()


def get(db: Session, poll_id: int) -> Poll | None:
    return db.get(Poll, poll_id)


def by_number(db: Session, room_id: str, number: int) -> Poll | None:
    stmt = select(Poll).where(Poll.room_id == room_id, Poll.number == number)
    return db.exec(stmt).first()


def latest(db: Session, room_id: str) -> Poll | None:
    stmt = (
        select(Poll)
        .where(Poll.room_id == room_id, col(Poll.number).is_not(None))
        .order_by(col(Poll.number).desc())
    )
    return db.exec(stmt).first()


def record_vote(db: Session, poll_id: int, voter: str, answers: Sequence[str]) -> bool:
    """Store a voter's answer; True when this voter had not answered before. The poll's
    votes are all written again, in random order under new random IDs."""
    # One rewrite of a poll's votes at a time (PostgreSQL; SQLite has a single writer).
    db.exec(select(Poll.id).where(Poll.id == poll_id).with_for_update()).first()
    table = PollVote.__table__  # type: ignore[attr-defined]
    return shuffled.put(
        db, table, ("poll_id", poll_id), voter, "answers", json.dumps(list(answers))
    )


def rewrite_votes(db: Session, poll_id: int, votes: Iterable[tuple[str, str]]) -> None:
    """The poll's votes, (voter, answers) each, in random order under random IDs."""
    rows = [{"poll_id": poll_id, "voter": v, "answers": a} for v, a in votes]
    table = PollVote.__table__  # type: ignore[attr-defined]
    shuffled.rewrite(db, table, table.c.poll_id == poll_id, rows)


def tally(db: Session, poll: Poll) -> Tally:
    """Votes per answer (every answer listed, zero too) and the number of voters."""
    assert poll.id is not None
    counts: Counter[str] = Counter({a.id: 0 for a in answers_of(poll)})
    voters = 0
    for raw in db.exec(select(PollVote.answers).where(PollVote.poll_id == poll.id)):
        voters += 1
        for answer_id in json.loads(raw):
            if answer_id in counts:
                counts[answer_id] += 1
    return Tally(counts=dict(counts), voters=voters)


def close(db: Session, poll: Poll, *, at: dt.datetime, by: str | None) -> bool:
    """Close the poll; False when it was closed already."""
    if poll.closed_at is not None:
        return False
    poll.closed_at = at
    poll.closed_by = by
    db.add(poll)
    db.flush()
    return True


def due_to_close(db: Session, now: dt.datetime, room_id: str | None = None) -> list[Poll]:
    stmt = select(Poll).where(
        col(Poll.closed_at).is_(None),
        col(Poll.closes_at).is_not(None),
        col(Poll.closes_at) <= now,
        Poll.kind != PollKind.SURVEY,
    )
    if room_id is not None:
        stmt = stmt.where(Poll.room_id == room_id)
    return list(db.exec(stmt.order_by(col(Poll.closes_at), col(Poll.id))))


def next_close(
    db: Session,
    room_id: str | None = None,
    *,
    kinds: Sequence[PollKind] = (PollKind.PULSE, PollKind.GENERAL),
) -> dt.datetime | None:
    stmt = select(func.min(Poll.closes_at)).where(
        col(Poll.closed_at).is_(None),
        col(Poll.closes_at).is_not(None),
        col(Poll.kind).in_(list(kinds)),
    )
    if room_id is not None:
        stmt = stmt.where(Poll.room_id == room_id)
    found: dt.datetime | None = db.exec(stmt).one()
    if found is not None and found.tzinfo is None:  # func.min bypasses the column type
        found = found.replace(tzinfo=dt.UTC)
    return found


def in_room(
    db: Session,
    room_id: str,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    kinds: Sequence[PollKind] = (PollKind.PULSE, PollKind.GENERAL),
) -> list[Poll]:
    """The room's polls created in [since, until), oldest first."""
    stmt = select(Poll).where(Poll.room_id == room_id, col(Poll.kind).in_(list(kinds)))
    if since is not None:
        stmt = stmt.where(col(Poll.created_at) >= since)
    if until is not None:
        stmt = stmt.where(col(Poll.created_at) < until)
    return list(db.exec(stmt.order_by(col(Poll.created_at), col(Poll.id))))
