"""The annual survey: starting it, who was asked and how far they got, free-text answers,
and what is due (invitations, one reminder, the end)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import Poll, PollKind, Survey, SurveyComment, SurveyParticipant


def create(
    db: Session,
    *,
    room_id: str,
    year: int,
    started_by: str,
    started_at: dt.datetime,
    closes_at: dt.datetime,
    free_question: str | None,
    source_event_id: str,
) -> tuple[Survey, bool]:
    """A new survey of a room; (survey, created) — a replayed command creates none."""
    stmt = select(Survey).where(
        Survey.source_event_id == source_event_id, Survey.room_id == room_id
    )
    existing = db.exec(stmt).first()
    if existing is not None:
        return existing, False
    survey = Survey(
        room_id=room_id,
        year=year,
        started_by=started_by,
        started_at=started_at,
        closes_at=closes_at,
        free_question=free_question,
        source_event_id=source_event_id,
    )
    db.add(survey)
    db.flush()
    return survey, True


def get(db: Session, survey_id: int) -> Survey | None:
    return db.get(Survey, survey_id)


def running(db: Session, room_id: str) -> Survey | None:
    stmt = select(Survey).where(Survey.room_id == room_id, col(Survey.closed_at).is_(None))
    return db.exec(stmt).first()


def statements(db: Session, survey_id: int) -> list[Poll]:
    stmt = select(Poll).where(Poll.survey_id == survey_id, Poll.kind == PollKind.SURVEY)
    return list(db.exec(stmt.order_by(col(Poll.position))))


# ------------------------------------------------------------------------------ participants


def invite(db: Session, survey: Survey, user_ids: Sequence[str]) -> None:
    assert survey.id is not None
    for user_id in user_ids:
        db.add(SurveyParticipant(survey_id=survey.id, user_id=user_id))
    survey.invited = len(user_ids)
    db.add(survey)
    db.flush()


def participant(db: Session, survey_id: int, user_id: str) -> SurveyParticipant | None:
    return db.get(SurveyParticipant, (survey_id, user_id))


def count_answer(db: Session, survey_id: int, user_id: str) -> SurveyParticipant | None:
    """One more statement answered by this participant (not what they answered)."""
    found = participant(db, survey_id, user_id)
    if found is None:
        return None
    found.answered += 1
    db.add(found)
    db.flush()
    return found


def participants(db: Session, survey_id: int) -> list[SurveyParticipant]:
    stmt = select(SurveyParticipant).where(SurveyParticipant.survey_id == survey_id)
    return list(db.exec(stmt.order_by(col(SurveyParticipant.user_id))))


def save_comment(db: Session, survey_id: int, voter: str, text: str) -> bool:
    """Store a free-text answer; True when it is this voter's first."""
    stmt = select(SurveyComment).where(
        SurveyComment.survey_id == survey_id, SurveyComment.voter == voter
    )
    existing = db.exec(stmt).first()
    if existing is not None:
        existing.text = text
        db.add(existing)
        db.flush()
        return False
    db.add(SurveyComment(survey_id=survey_id, voter=voter, text=text))
    db.flush()
    return True


# ------------------------------------------------------------------------------ what is due


def not_invited(db: Session) -> list[Survey]:
    stmt = select(Survey).where(col(Survey.closed_at).is_(None), Survey.invited == 0)
    return list(db.exec(stmt.order_by(col(Survey.id))))


def open_surveys(db: Session, room_id: str | None = None) -> list[Survey]:
    stmt = select(Survey).where(col(Survey.closed_at).is_(None))
    if room_id is not None:
        stmt = stmt.where(Survey.room_id == room_id)
    return list(db.exec(stmt.order_by(col(Survey.closes_at), col(Survey.id))))


def close(db: Session, survey: Survey) -> None:
    survey.closed_at = survey.closes_at
    db.add(survey)
    for poll in statements(db, survey.id or 0):
        poll.closed_at = survey.closes_at
        db.add(poll)
    db.flush()


def answered_by(db: Session, survey_id: int) -> int:
    """How many took part: answered at least one statement."""
    stmt = select(func.count()).where(
        SurveyParticipant.survey_id == survey_id, SurveyParticipant.answered > 0
    )
    return int(db.exec(stmt).one())
