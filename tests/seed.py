"""Test data, written the way the bot writes it: rooms, agreements with owners and history,
reminders, polls with votes, surveys and meetings, through the storage functions the
commands use (storage.agreements, reminders, polls, surveys, meetings), so the rows, their
numbers and their history are what a room's commands leave behind.

One module for the unit, dialog, storage and integration tests. Each function writes in
the caller's session (several make one transaction); `new_event()` names the command a row
came from. Only the benchmarks' big database writes in bulk, for speed
(tests/benchmarks/big_database.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence

from sqlmodel import Session, select

from storage import agreements, meetings, polls, reminders, rooms, surveys
from storage.models import (
    Agreement,
    AgreementHistory,
    AgreementOwner,
    AgreementStatus,
    Meeting,
    Poll,
    PollKind,
    Reminder,
    Room,
    Survey,
)

# A bot in the room long before any test's data: nothing seeded counts as history.
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
# The answers of a pulse and of a survey's statements: 1 to 5.
SCALE = [polls.Answer(str(i), str(i)) for i in range(1, 6)]
# Who changed an agreement in `change()`, when nobody in particular.
SOMEONE = "@x:example.org"

_events = itertools.count(1)


def new_event() -> str:
    """The event ID of the command a seeded row came from, new on every call."""
    return f"$seed{next(_events)}"


def voter(n: int, salt: int = 0) -> str:
    """A 64-character stand-in for a keyed voter hash (the bot never stores who voted)."""
    return f"{salt:032x}{n:032x}"


def room(
    s: Session,
    room_id: str,
    *,
    joined_at: dt.datetime = LONG_AGO,
    name: str | None = None,
    settings: Mapping[str, str] | None = None,
) -> Room:
    """A room the bot is in (since `joined_at`), with its name and settings."""
    row = rooms.ensure_room(s, room_id, joined_at=joined_at)
    if name is not None:
        rooms.remember_name(s, room_id, name)
    for key, value in (settings or {}).items():
        rooms.set_setting(s, room_id, key, value)
    s.flush()
    return row


def agreement(
    s: Session,
    room_id: str,
    text: str,
    *,
    by: str,
    at: dt.datetime,
    owners: Sequence[str] = (),
    due: dt.date | None = None,
    due_time: dt.time | None = None,
    status: AgreementStatus = AgreementStatus.OPEN,
    closed_at: dt.datetime | None = None,
    closed_by: str | None = None,
    number: int | None = None,
    event: str | None = None,
) -> Agreement:
    """An agreement as `!verabredung` records it, closed (done, cancelled) at `closed_at`
    as `!erledigt` leaves it. `number`: the number the room shows, as if others came first."""
    a, _ = agreements.record(
        s,
        room_id=room_id,
        text=text,
        owners=owners,
        due_date=due,
        due_time=due_time,
        actor=by,
        at=at,
        source_event_id=event or new_event(),
    )
    if number is not None:
        a.number = number
    if status != AgreementStatus.OPEN:
        agreements.set_status(s, a, status, actor=closed_by or by, at=closed_at or at)
    assert a.id is not None
    return a


def change(
    s: Session,
    agreement_id: int,
    *,
    at: dt.datetime,
    action: str | None = None,
    actor: str = SOMEONE,
    owners: Sequence[str] | None = None,
    **values: object,
) -> None:
    """Change an agreement's row (and owners) directly, with a history entry `action`:
    for states the commands reach only by many steps, or a row as an older version left it."""
    a = s.get(Agreement, agreement_id)
    assert a is not None
    for name, value in values.items():
        setattr(a, name, value)
    a.updated_at = at
    s.add(a)
    if owners is not None:
        stmt = select(AgreementOwner).where(AgreementOwner.agreement_id == agreement_id)
        for row in list(s.exec(stmt)):
            s.delete(row)
        s.flush()
        for i, owner in enumerate(owners):
            s.add(AgreementOwner(agreement_id=agreement_id, user_id=owner, position=i))
    if action:
        s.add(AgreementHistory(agreement_id=agreement_id, at=at, actor=actor, action=action))
    s.flush()


def reminder(
    s: Session,
    room_id: str,
    text: str,
    *,
    by: str,
    at: dt.datetime,
    due_at: dt.datetime | None = None,
    recurrence: str | None = None,
    mentions: Sequence[str] = (),
    event: str | None = None,
) -> Reminder:
    """A reminder as `!erinnere` stores it: once at `due_at`, or by `recurrence` (JSON)."""
    row = reminders.create_reminder(
        s,
        room_id=room_id,
        text=text,
        created_by=by,
        now=at,
        source_event_id=event or new_event(),
        due_at=due_at,
        recurrence=recurrence,
        mentions=json.dumps(list(mentions)) if mentions else None,
    )
    assert row.id is not None
    return row


def poll(
    s: Session,
    room_id: str,
    question: str,
    *,
    by: str,
    at: dt.datetime,
    kind: PollKind = PollKind.GENERAL,
    answers: Sequence[polls.Answer] = SCALE,
    closes_at: dt.datetime | None = None,
    votes: Iterable[Sequence[str]] = (),
    closed_at: dt.datetime | None = None,
    numbered: bool = True,
    survey_id: int | None = None,
    position: int = 0,
    event: str | None = None,
) -> Poll:
    """A poll as `!umfrage`/`!puls` (or a survey) creates it, with one voter per entry of
    `votes` (the answer IDs each chose), closed at `closed_at` by its deadline."""
    row, _ = polls.create(
        s,
        room_id=room_id,
        kind=kind,
        question=question,
        answers=answers,
        created_by=by,
        at=at,
        closes_at=closes_at,
        source_event_id=event or new_event(),
        numbered=numbered,
        survey_id=survey_id,
        position=position,
    )
    assert row.id is not None
    for i, chosen in enumerate(votes):
        polls.record_vote(s, row.id, voter(i, row.id), list(chosen))
    if closed_at is not None:
        polls.close(s, row, at=closed_at, by=None)
    return row


def survey(
    s: Session,
    room_id: str,
    year: int,
    *,
    invited: int,
    participants: int,
    by: str = "@buero:example.org",
    started_at: dt.datetime | None = None,
    free_question: str | None = "Was sollten wir ändern?",
) -> Survey:
    """An ended survey of `invited` members, `participants` of whom answered something:
    as the bot leaves it, with the count only (`participated`), nobody's participation."""
    start = started_at or dt.datetime(year, 11, 2, 9, 0, tzinfo=dt.UTC)
    row, _ = surveys.create(
        s,
        room_id=room_id,
        year=year,
        started_by=by,
        started_at=start,
        closes_at=start + dt.timedelta(days=14),
        free_question=free_question,
        source_event_id=new_event(),
    )
    row.closed_at = row.closes_at
    row.invited = invited
    row.participated = participants
    s.add(row)
    s.flush()
    assert row.id is not None
    return row


def statement(s: Session, sv: Survey, position: int, text: str, scores: Sequence[int]) -> Poll:
    """A statement of the survey answered with these 1–5 scores (one voter each)."""
    return poll(
        s,
        sv.room_id,
        text,
        by=sv.started_by,
        at=sv.started_at,
        kind=PollKind.SURVEY,
        votes=[[str(score)] for score in scores],
        numbered=False,
        survey_id=sv.id,
        position=position,
    )


def comments(s: Session, sv: Survey, texts: Sequence[str]) -> None:
    """The answers to the survey's free question, from made-up voters."""
    assert sv.id is not None
    surveys.rewrite_comments(s, sv.id, [(voter(i, 9999), t) for i, t in enumerate(texts)])


def meeting(
    s: Session,
    room_id: str,
    *,
    by: str,
    at: dt.datetime,
    hours: float | None = None,
    title: str | None = None,
    event: str | None = None,
) -> Meeting:
    """A meeting as `!sitzung` starts it, ended after `hours` (None: still running)."""
    row, created = meetings.start(
        s, room_id=room_id, title=title, by=by, at=at, source_event_id=event or new_event()
    )
    assert created
    if hours is not None:
        meetings.end(s, row, by=by, at=at + dt.timedelta(hours=hours), minutes="{}")
    assert row.id is not None
    return row
