"""What the committee's evaluation reads beyond the read model (storage/figures): its
surveys, their statements with the answers counted, participation, free texts, and the
measures a committee took on an evaluation.

Read-only but for `mark_measure`. Each function is one query per kind of row (per chunk of
IDs), never one per row: the report of a busy room and the table of all rooms stay a
handful of queries. Pulses and agreements' figures are the read model's
(storage.figures.votes, storage.figures.agreements), answers are decoded there too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.db import in_chunks
from storage.figures.votes import Distribution, distributions
from storage.models import (
    Agreement,
    Poll,
    PollKind,
    Survey,
    SurveyComment,
    SurveyParticipant,
)


@dataclass(frozen=True)
class Statement:
    """One statement of a survey and what its answers add up to."""

    poll_id: int
    position: int
    text: str
    distribution: Distribution


# -------------------------------------------------------------------------------- surveys


def survey_of(db: Session, room_id: str, year: int) -> Survey | None:
    """The room's survey of that year (the latest, if it was started more than once)."""
    stmt = (
        select(Survey)
        .where(Survey.room_id == room_id, Survey.year == year)
        .order_by(col(Survey.started_at).desc(), col(Survey.id).desc())
    )
    return db.exec(stmt).first()


def latest_ended(db: Session, room_id: str) -> Survey | None:
    """The room's survey that ended last: the one measures are taken on."""
    stmt = (
        select(Survey)
        .where(Survey.room_id == room_id, col(Survey.closed_at).is_not(None))
        .order_by(col(Survey.closed_at).desc(), col(Survey.id).desc())
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
    """The statements of each survey in questionnaire order, with their answers counted
    ("cannot judge" apart, as the read model counts them)."""
    found: dict[int, list[Statement]] = {s: [] for s in survey_ids}
    for chunk in in_chunks(list(survey_ids)):
        in_surveys = [col(Poll.kind) == PollKind.SURVEY, col(Poll.survey_id).in_(chunk)]
        polls = list(db.exec(select(Poll).where(*in_surveys)))
        counted = distributions(db, in_surveys)
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


# ------------------------------------------------------------------------------- measures


def mark_measure(db: Session, agreement: Agreement, year: int) -> None:
    """The agreement is a measure taken on the room's evaluation of `year`; one already
    marked keeps its year (a replayed command marks nothing anew)."""
    if agreement.measure_year is None:
        agreement.measure_year = year
        db.add(agreement)
        db.flush()


def measures(db: Session, room_id: str, years: Sequence[int]) -> list[Agreement]:
    """The room's measures taken on the evaluations of these years, by year and number."""
    if not years:
        return []
    stmt = (
        select(Agreement)
        .where(Agreement.room_id == room_id, col(Agreement.measure_year).in_(list(years)))
        .order_by(col(Agreement.measure_year), col(Agreement.number))
    )
    return list(db.exec(stmt))
