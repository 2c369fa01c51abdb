"""What the committee's evaluation report reads: surveys, pulses, agreements' figures.

Read-only. Each function is one query per kind of figure (per chunk of IDs), never one per
row: the report of a busy room and the table of all rooms stay a handful of queries.
Votes are counted by the database grouped by their stored answer; what depends on a room's
time zone (which year or month a moment belongs to, whether an agreement was done by its
due date, the median) is decided here from a few columns per row, with the zones the
caller passes, since SQLite and PostgreSQL share no time-zone arithmetic.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from storage.db import in_chunks
from storage.models import (
    Agreement,
    AgreementStatus,
    Poll,
    PollKind,
    PollVote,
    Survey,
    SurveyComment,
    SurveyParticipant,
)

# The answers of a 1–5 statement or pulse, as stored in poll.answers.
SCALE = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Distribution:
    """How often each of 1–5 was chosen."""

    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    @property
    def answers(self) -> int:
        return sum(self.counts)

    @property
    def total(self) -> int:
        return sum(value * n for value, n in zip(SCALE, self.counts, strict=True))

    @property
    def mean(self) -> float | None:
        return self.total / self.answers if self.answers else None


@dataclass(frozen=True)
class Statement:
    """One statement of a survey and what its answers add up to."""

    poll_id: int
    position: int
    text: str
    distribution: Distribution


@dataclass(frozen=True)
class Pulse:
    """One closed pulse: its room, the month (in the room's zone) it was asked in, answers."""

    poll_id: int
    room_id: str
    month: int
    distribution: Distribution


@dataclass(frozen=True)
class AgreementFigures:
    """Agreements recorded in a year (cancelled ones apart) and what became of them."""

    recorded: int = 0
    done: int = 0
    # Done on or before the due date (in the room's zone); without a due date: on time.
    on_time: int = 0
    # Still open, due before today.
    overdue: int = 0
    cancelled: int = 0
    # Days from recorded to done (calendar days in the room's zone).
    median_days: float | None = None


@dataclass
class _Counter:
    counts: list[int] = field(default_factory=lambda: [0] * len(SCALE))

    def add(self, raw: str | None, n: int) -> None:
        value = _score(raw)
        if value is not None:
            self.counts[value - 1] += n

    def frozen(self) -> Distribution:
        c = self.counts
        return Distribution((c[0], c[1], c[2], c[3], c[4]))


def _score(raw: str | None) -> int | None:
    """The 1–5 of a stored vote (a JSON list with one answer ID); None for a spoiled one."""
    if raw is None:
        return None
    try:
        chosen = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(chosen, list) or len(chosen) != 1:
        return None
    try:
        value = int(chosen[0])
    except (TypeError, ValueError):
        return None
    return value if value in SCALE else None


# ---------------------------------------------------------------------------------- years


def year_window(year: int, zones: Sequence[ZoneInfo]) -> tuple[dt.datetime, dt.datetime]:
    """From the earliest start to the latest end of the year in any of the zones."""
    starts = [dt.datetime(year, 1, 1, tzinfo=z) for z in zones]
    ends = [dt.datetime(year + 1, 1, 1, tzinfo=z) for z in zones]
    return min(starts), max(ends)


# -------------------------------------------------------------------------------- surveys


def survey_of(db: Session, room_id: str, year: int) -> Survey | None:
    """The room's survey of that year (the latest, if it was started more than once)."""
    stmt = (
        select(Survey)
        .where(Survey.room_id == room_id, Survey.year == year)
        .order_by(col(Survey.started_at).desc(), col(Survey.id).desc())
    )
    return db.exec(stmt).first()


def surveys_by_room(db: Session, year: int, room_ids: Sequence[str]) -> dict[str, Survey]:
    """Each room's survey of that year (the latest of each)."""
    found: dict[str, Survey] = {}
    for chunk in in_chunks(list(room_ids)):
        stmt = (
            select(Survey)
            .where(Survey.year == year, col(Survey.room_id).in_(chunk))
            .order_by(col(Survey.started_at), col(Survey.id))
        )
        for survey in db.exec(stmt):
            found[survey.room_id] = survey  # the later one wins
    return found


def statements(db: Session, survey_ids: Sequence[int]) -> dict[int, list[Statement]]:
    """The statements of each survey in questionnaire order, with their answers counted."""
    found: dict[int, list[Statement]] = {s: [] for s in survey_ids}
    for chunk in in_chunks(list(survey_ids)):
        in_surveys = [col(Poll.kind) == PollKind.SURVEY, col(Poll.survey_id).in_(chunk)]
        polls = list(db.exec(select(Poll).where(*in_surveys)))
        counted = _votes(db, in_surveys)
        for poll in polls:
            assert poll.id is not None
            assert poll.survey_id is not None
            distribution = counted.get(poll.id, Distribution())
            found[poll.survey_id].append(
                Statement(poll.id, poll.position, poll.question, distribution)
            )
    for listed in found.values():
        listed.sort(key=lambda st: (st.position, st.poll_id))
    return found


def _votes(db: Session, polls: Sequence[ColumnElement[bool]]) -> dict[int, Distribution]:
    """The votes of the polls meeting the conditions, counted by the database per answer."""
    stmt = (
        select(PollVote.poll_id, PollVote.answers, func.count())
        .where(col(PollVote.poll_id).in_(select(Poll.id).where(*polls)))
        .group_by(col(PollVote.poll_id), col(PollVote.answers))
    )
    counters: dict[int, _Counter] = defaultdict(_Counter)
    for poll_id, raw, n in db.exec(stmt):
        counters[poll_id].add(raw, int(n))
    return {poll_id: c.frozen() for poll_id, c in counters.items()}


def participants(db: Session, survey_ids: Sequence[int]) -> dict[int, int]:
    """How many of those asked answered at least one statement, per survey: of an ended
    survey what was stored when it ended (its participants are gone), of a running one
    counted from its participants."""
    found = dict.fromkeys(survey_ids, 0)
    for chunk in in_chunks(list(survey_ids)):
        ended = select(Survey.id, Survey.participated).where(
            col(Survey.id).in_(chunk), col(Survey.participated).is_not(None)
        )
        for survey_id, n in db.exec(ended):
            if survey_id is not None and n is not None:
                found[survey_id] = n
        stmt = (
            select(SurveyParticipant.survey_id, func.count())
            .where(col(SurveyParticipant.survey_id).in_(chunk), SurveyParticipant.answered >= 1)
            .group_by(col(SurveyParticipant.survey_id))
        )
        for survey_id, n in db.exec(stmt):
            found[survey_id] = int(n)
    return found


def comments(db: Session, survey_id: int) -> list[str]:
    """The survey's free-text answers (in no meaningful order: the caller shuffles)."""
    stmt = select(SurveyComment.text).where(SurveyComment.survey_id == survey_id)
    return list(db.exec(stmt))


# --------------------------------------------------------------------------------- pulses


def pulses(db: Session, year: int, zones: Mapping[str, ZoneInfo]) -> list[Pulse]:
    """The closed pulses asked in that year (each room's year in its zone), with answers
    counted, oldest first. `zones`: the rooms to look at, with their time zones."""
    if not zones:
        return []
    since, until = year_window(year, list(zones.values()))
    found: list[tuple[dt.datetime, Pulse]] = []
    for chunk in in_chunks(list(zones)):
        conditions = [
            col(Poll.kind) == PollKind.PULSE,
            col(Poll.room_id).in_(chunk),
            col(Poll.closed_at).is_not(None),
            col(Poll.created_at) >= since,
            col(Poll.created_at) < until,
        ]
        heads = list(db.exec(select(Poll.id, Poll.room_id, Poll.created_at).where(*conditions)))
        counted = _votes(db, conditions)
        for poll_id, room_id, created_at in heads:
            assert poll_id is not None
            local = created_at.astimezone(zones[room_id])
            if local.year == year:
                distribution = counted.get(poll_id, Distribution())
                found.append((created_at, Pulse(poll_id, room_id, local.month, distribution)))
    found.sort(key=lambda p: (p[0], p[1].poll_id))
    return [p for _, p in found]


# ----------------------------------------------------------------------------- agreements


def agreement_figures(
    db: Session, year: int, zones: Mapping[str, ZoneInfo], now: dt.datetime
) -> dict[str, AgreementFigures]:
    """Per room: the agreements recorded in that year (in the room's zone) and what became
    of them; `now` decides what is overdue (due before today in the room's zone)."""
    if not zones:
        return {}
    since, until = year_window(year, list(zones.values()))
    rows: dict[str, list[_Row]] = defaultdict(list)
    for chunk in in_chunks(list(zones)):
        in_year = (
            col(Agreement.room_id).in_(chunk),
            col(Agreement.created_at) >= since,
            col(Agreement.created_at) < until,
        )
        # Two queries of four columns each (sqlmodel types select() up to four).
        done = select(
            Agreement.room_id,
            Agreement.created_at,
            col(Agreement.due_date),
            col(Agreement.closed_at),
        ).where(*in_year, col(Agreement.status) == AgreementStatus.DONE)
        for room_id, created_at, due_date, closed_at in db.exec(done):
            rows[room_id].append(_Row(AgreementStatus.DONE, created_at, due_date, closed_at))
        others = select(
            Agreement.room_id, Agreement.status, Agreement.created_at, col(Agreement.due_date)
        ).where(*in_year, col(Agreement.status) != AgreementStatus.DONE)
        for room_id, status, created_at, due_date in db.exec(others):
            rows[room_id].append(_Row(status, created_at, due_date, None))
    return {
        room_id: _figures(rows.get(room_id, []), year, zone, now) for room_id, zone in zones.items()
    }


class _Row(NamedTuple):
    status: str
    created_at: dt.datetime
    due_date: dt.date | None
    closed_at: dt.datetime | None


def _figures(
    rows: Sequence[_Row],
    year: int,
    zone: ZoneInfo,
    now: dt.datetime,
) -> AgreementFigures:
    today = now.astimezone(zone).date()
    recorded = done = on_time = overdue = cancelled = 0
    days: list[int] = []
    for status, created_at, due_date, closed_at in rows:
        created = created_at.astimezone(zone).date()
        if created.year != year:
            continue
        if status == AgreementStatus.CANCELLED:
            cancelled += 1
            continue
        recorded += 1
        if status == AgreementStatus.DONE and closed_at is not None:
            closed = closed_at.astimezone(zone).date()
            done += 1
            on_time += due_date is None or closed <= due_date
            days.append((closed - created).days)
        elif status == AgreementStatus.OPEN and due_date is not None and due_date < today:
            overdue += 1
    return AgreementFigures(
        recorded=recorded,
        done=done,
        on_time=on_time,
        overdue=overdue,
        cancelled=cancelled,
        median_days=float(statistics.median(days)) if days else None,
    )
