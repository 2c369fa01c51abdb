"""What the leadership's report and its committee paper say, gathered once for a period:
per committee the figures (storage.figures), the Beschlusskontrolle's rows, the meetings
held, the pulse trend and the evaluation's participation; across committees the totals
and the possible duplicate work. Nothing here names a person: owners become offices.

A handful of queries for all committees together, none per committee or per agreement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core.defaults import Defaults
from commands.desk.control import Row, rows
from commands.desk.overlaps import Overlap, overlaps_of
from storage import agreements as store
from storage import decisions as decision_store
from storage import evaluation, reports
from storage.figures.agreements import AgreementFigures, agreement_figures
from storage.figures.period import Period, window
from storage.figures.votes import MIN_ANSWERS, pulse_figures, pulses
from storage.models import Decision
from storage.offices import offices_of


@dataclass(frozen=True)
class ReportInput:
    """What a report is made of: the period, the committees and who asks when."""

    db: Session
    lang: str
    period: Period
    now: dt.datetime
    defaults: Defaults
    # The committees reported on, by room ID, with their names.
    labels: Mapping[str, str]
    # The committees reported on, with their time zones.
    zones: Mapping[str, ZoneInfo]
    # The config's map of members to offices (`offices:`); `!amt` overrides it.
    offices: Mapping[str, str]


@dataclass(frozen=True)
class PulseTrend:
    """A committee's pulses of the period, all answers pooled, beside the period before."""

    mean: float
    counted: int
    previous: float | None


@dataclass(frozen=True)
class Participation:
    """The evaluation of the period's year: how many of those asked took part."""

    year: int
    participated: int
    invited: int


@dataclass(frozen=True)
class Committee:
    room_id: str
    name: str
    figures: AgreementFigures
    # Due in the period (not done in it) or overdue now, by due date.
    due: list[Row]
    # Done in the period, in the order they were done.
    done: list[Row]
    meetings: int
    # None: no pulse of the period had MIN_ANSWERS answers.
    pulse: PulseTrend | None
    # None: no evaluation that year, or fewer than MIN_ANSWERS took part.
    participation: Participation | None
    # The Beschlüsse decided on a day of the period (in the room's zone), by number.
    decisions: list[Decision] = field(default_factory=list)


@dataclass(frozen=True)
class Facts:
    # By name.
    committees: list[Committee]
    total: AgreementFigures
    meetings: int
    overlaps: list[Overlap]


def gather(inp: ReportInput) -> Facts:
    figures = agreement_figures(inp.db, inp.period, inp.zones, inp.now)
    listed = reports.tracked(inp.db, inp.period, inp.zones, inp.now)
    ids = [a.id for lists in listed.values() for a in (*lists.due, *lists.done) if a.id is not None]
    owners = store.owners_of(inp.db, ids)
    offices = offices_of(inp.db, {u for o in owners.values() for u in o}, inp.offices)
    held = reports.meetings_held(inp.db, inp.period, inp.zones)
    trends = _pulse_trends(inp)
    taking_part = _participation(inp)
    decided = _decisions(inp)
    order = sorted(inp.labels, key=lambda r: (inp.labels[r].casefold(), r))
    committees = [
        Committee(
            room_id=r,
            name=inp.labels[r],
            figures=figures[r],
            due=rows(listed[r].due, owners, offices, inp.zones[r], inp.now),
            done=rows(listed[r].done, owners, offices, inp.zones[r], inp.now),
            meetings=held[r],
            pulse=trends.get(r),
            participation=taking_part.get(r),
            decisions=decided.get(r, []),
        )
        for r in order
    ]
    return Facts(
        committees=committees,
        total=sum(figures.values(), AgreementFigures()),
        meetings=sum(held.values()),
        overlaps=_overlaps(inp),
    )


def _pulse_trends(inp: ReportInput) -> dict[str, PulseTrend]:
    now = pulse_figures(pulses(inp.db, inp.period, inp.zones), inp.zones)
    then = pulse_figures(pulses(inp.db, inp.period.before(), inp.zones), inp.zones)
    found: dict[str, PulseTrend] = {}
    for room_id, f in now.items():
        if f.mean is not None and room_id in inp.labels:
            found[room_id] = PulseTrend(f.mean, f.counted, then[room_id].mean)
    return found


def _participation(inp: ReportInput) -> dict[str, Participation]:
    """The evaluation of the year the period ends in, where enough took part to say so."""
    year = inp.period.last.year
    surveys = evaluation.surveys_by_room(inp.db, year, list(inp.labels))
    counted = evaluation.participants(inp.db, [s.id for s in surveys.values() if s.id is not None])
    found: dict[str, Participation] = {}
    for room_id, survey in surveys.items():
        assert survey.id is not None
        n = counted.get(survey.id, 0)
        if n >= MIN_ANSWERS and survey.invited:
            found[room_id] = Participation(year, n, survey.invited)
    return found


def _decisions(inp: ReportInput) -> dict[str, list[Decision]]:
    """Per committee: its Beschlüsse decided on a day of the period in its zone."""
    found: dict[str, list[Decision]] = {}
    if not inp.zones:
        return found
    since, until = window(inp.period, inp.zones.values())
    for d in decision_store.passed_between(inp.db, since, until, list(inp.zones)):
        zone = inp.zones[d.room_id]
        if d.decided_at is not None and inp.period.contains(d.decided_at.astimezone(zone).date()):
            found.setdefault(d.room_id, []).append(d)
    return found


def _overlaps(inp: ReportInput) -> list[Overlap]:
    open_items = [
        a for a in store.open_agreements(inp.db, with_due_date=False) if a.room_id in inp.labels
    ]
    return overlaps_of(open_items, inp.defaults)
