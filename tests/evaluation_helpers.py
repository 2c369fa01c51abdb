"""Building a committee's year for the evaluation report: surveys, pulses, agreements.

The rows are made the way the bot makes them (`storage.polls`, `storage.agreements`);
votes come from made-up voter hashes, as the bot never stores who voted.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from sqlmodel import Session

from storage import agreements, polls, rooms, surveys
from storage.models import (
    Agreement,
    AgreementStatus,
    Poll,
    PollKind,
    Survey,
)

SCALE = [polls.Answer(str(i), str(i)) for i in range(1, 6)]
CREATOR = "@vorsitz:example.org"
_events = itertools.count(1)


def _event() -> str:
    return f"$built{next(_events)}"


def voter(n: int, salt: int = 0) -> str:
    """A 64-character stand-in for a keyed voter hash."""
    return f"{salt:032x}{n:032x}"


def room(s: Session, room_id: str, *, name: str | None = None) -> None:
    rooms.ensure_room(s, room_id, joined_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    rooms.remember_name(s, room_id, name)
    s.flush()


def survey(
    s: Session,
    room_id: str,
    year: int,
    *,
    invited: int,
    participants: int,
    started_at: dt.datetime | None = None,
    free_question: str | None = "Was sollten wir ändern?",
) -> Survey:
    """An ended survey of `invited` members, `participants` of whom answered something:
    as the bot leaves it, with the count only (`participated`), nobody's participation."""
    start = started_at or dt.datetime(year, 11, 2, 9, 0, tzinfo=dt.UTC)
    row = Survey(
        room_id=room_id,
        year=year,
        started_by="@buero:example.org",
        started_at=start,
        closes_at=start + dt.timedelta(days=14),
        closed_at=start + dt.timedelta(days=14),
        free_question=free_question,
        invited=invited,
        participated=participants,
        source_event_id=_event(),
    )
    s.add(row)
    s.flush()
    assert row.id is not None
    return row


def statement(s: Session, sv: Survey, position: int, text: str, scores: Sequence[int]) -> Poll:
    """A statement of the survey answered with these 1–5 scores (one voter each)."""
    poll, _ = polls.create(
        s,
        room_id=sv.room_id,
        kind=PollKind.SURVEY,
        question=text,
        answers=SCALE,
        created_by=sv.started_by,
        at=sv.started_at,
        source_event_id=_event(),
        numbered=False,
        survey_id=sv.id,
        position=position,
    )
    assert poll.id is not None
    for i, score in enumerate(scores):
        polls.record_vote(s, poll.id, voter(i, poll.id), [str(score)])
    return poll


def comments(s: Session, sv: Survey, texts: Sequence[str]) -> None:
    assert sv.id is not None
    surveys.rewrite_comments(s, sv.id, [(voter(i, 9999), t) for i, t in enumerate(texts)])


def pulse(
    s: Session, room_id: str, at: dt.datetime, scores: Sequence[int], *, closed: bool = True
) -> Poll:
    poll, _ = polls.create(
        s,
        room_id=room_id,
        kind=PollKind.PULSE,
        question="Wie zufrieden sind Sie mit der heutigen Sitzung?",
        answers=SCALE,
        created_by=CREATOR,
        at=at,
        closes_at=at + dt.timedelta(days=1),
        source_event_id=_event(),
    )
    assert poll.id is not None
    for i, score in enumerate(scores):
        polls.record_vote(s, poll.id, voter(i, poll.id), [str(score)])
    if closed:
        polls.close(s, poll, at=at + dt.timedelta(days=1), by=None)
    return poll


def agreement(
    s: Session,
    room_id: str,
    created_at: dt.datetime,
    *,
    due: dt.date | None = None,
    done_at: dt.datetime | None = None,
    cancelled: bool = False,
) -> Agreement:
    a, _ = agreements.record(
        s,
        room_id=room_id,
        text="Protokoll verschicken",
        owners=[CREATOR],
        due_date=due,
        due_time=None,
        actor=CREATOR,
        at=created_at,
        source_event_id=_event(),
    )
    if done_at is not None:
        agreements.set_status(s, a, AgreementStatus.DONE, actor=CREATOR, at=done_at)
    elif cancelled:
        agreements.set_status(s, a, AgreementStatus.CANCELLED, actor=CREATOR, at=created_at)
    return a
