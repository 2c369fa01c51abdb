"""Rated answers (a survey's statements, a pulse): the one decoder of a stored vote, the
distribution of answers, the pooled mean, the agreement rate and the minimum below which
nothing but a count is shown.

A stored vote is a JSON list with one answer ID: "1".."5" rate, NOT_JUDGED is "kann ich
nicht beurteilen" (counted apart, never in a mean, a rate or the minimum), anything else is
spoiled and not counted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from storage.db import in_chunks
from storage.figures.period import Period, window
from storage.models import Poll, PollKind, PollVote

SCALE = (1, 2, 3, 4, 5)
# The answer ID of "kann ich nicht beurteilen" / "cannot judge".
NOT_JUDGED = "0"
# Fewer real answers than this are never shown as a mean, a rate or a distribution, so
# that nobody can infer what one member answered.
MIN_ANSWERS = 3
# A rating of 4 or 5 agrees with the statement.
AGREES_FROM = 4


def decode(raw: str | None) -> int | None:
    """The rating of a stored vote: 1–5, 0 for "cannot judge", None for a spoiled one."""
    if raw is None:
        return None
    try:
        chosen = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(chosen, list) or len(chosen) != 1:
        return None
    if str(chosen[0]) == NOT_JUDGED:
        return 0
    try:
        value = int(chosen[0])
    except (TypeError, ValueError):
        return None
    return value if value in SCALE else None


@dataclass(frozen=True)
class Distribution:
    """How often each of 1–5 was chosen, and how often "cannot judge"."""

    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    not_judged: int = 0

    @property
    def answers(self) -> int:
        """The real answers (1–5): what a mean, a rate and the minimum count."""
        return sum(self.counts)

    @property
    def total(self) -> int:
        return sum(value * n for value, n in zip(SCALE, self.counts, strict=True))

    @property
    def shown(self) -> bool:
        return self.answers >= MIN_ANSWERS

    @property
    def mean(self) -> float | None:
        return self.total / self.answers if self.answers else None

    @property
    def agreement_rate(self) -> float | None:
        """The share answering 4 or 5 of those who could judge."""
        agree = sum(self.counts[AGREES_FROM - 1 :])
        return agree / self.answers if self.answers else None

    def __add__(self, other: Distribution) -> Distribution:
        c = tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))
        return Distribution((c[0], c[1], c[2], c[3], c[4]), self.not_judged + other.not_judged)


def response_rate(participants: int, invited: int) -> float | None:
    """The share of the members asked by a survey who answered at least one statement;
    None when nobody was asked."""
    return participants / invited if invited else None


def pooled(distributions: Iterable[Distribution]) -> Distribution:
    """All answers of those that may be shown, pooled: the mean of a set of pulses is the
    mean of their answers, never the mean of their means."""
    return sum((d for d in distributions if d.shown), Distribution())


@dataclass
class _Counter:
    counts: list[int] = field(default_factory=lambda: [0] * len(SCALE))
    not_judged: int = 0

    def add(self, raw: str | None, n: int) -> None:
        value = decode(raw)
        if value == 0:
            self.not_judged += n
        elif value is not None:
            self.counts[value - 1] += n

    def frozen(self) -> Distribution:
        c = self.counts
        return Distribution((c[0], c[1], c[2], c[3], c[4]), self.not_judged)


def distributions(db: Session, polls: Sequence[ColumnElement[bool]]) -> dict[int, Distribution]:
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


# --------------------------------------------------------------------------------- pulses


@dataclass(frozen=True)
class Pulse:
    """One closed pulse: its room, the local day it was asked on, its answers."""

    poll_id: int
    room_id: str
    day: dt.date
    distribution: Distribution

    @property
    def month(self) -> int:
        return self.day.month


@dataclass(frozen=True)
class PulseFigures:
    """A room's pulses in a period: those counted (enough answers), their pooled answers,
    and how many were left out for too few."""

    counted: int = 0
    left_out: int = 0
    distribution: Distribution = Distribution()

    @property
    def mean(self) -> float | None:
        return self.distribution.mean if self.counted else None


def pulses(db: Session, period: Period, zones: Mapping[str, ZoneInfo]) -> list[Pulse]:
    """The closed pulses asked in the period (each room's days in its zone), answers
    counted, oldest first. `zones`: the rooms to look at, with their time zones."""
    if not zones:
        return []
    since, until = window(period, zones.values())
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
        counted = distributions(db, conditions)
        for poll_id, room_id, created_at in heads:
            assert poll_id is not None
            day = created_at.astimezone(zones[room_id]).date()
            if period.contains(day):
                d = counted.get(poll_id, Distribution())
                found.append((created_at, Pulse(poll_id, room_id, day, d)))
    found.sort(key=lambda p: (p[0], p[1].poll_id))
    return [p for _, p in found]


def pulse_figures(pulses_: Iterable[Pulse], room_ids: Iterable[str]) -> dict[str, PulseFigures]:
    """Per room: the pulses counted, left out, and their pooled answers."""
    by_room: dict[str, list[Distribution]] = {r: [] for r in room_ids}
    for p in pulses_:
        by_room.setdefault(p.room_id, []).append(p.distribution)
    return {
        room: PulseFigures(
            counted=sum(1 for d in found if d.shown),
            left_out=sum(1 for d in found if not d.shown),
            distribution=pooled(found),
        )
        for room, found in by_room.items()
    }
