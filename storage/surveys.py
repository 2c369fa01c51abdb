"""The annual survey: starting it, who was asked and how far they got, free-text answers,
and what is due (invitations, one reminder, the end).

Nothing here keeps the order or time of answering: free texts and participants are
written again in random order at every change (`storage.shuffled`), participants carry
no time, and when a survey ends only how many took part stays (`Survey.participated`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from storage import shuffled
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


@dataclass(frozen=True)
class Progress:
    """How far a participant got: statements answered, and whether this answer completed
    them (then, once, the thank-you is due)."""

    answered: int
    thank_now: bool


def count_answer(db: Session, survey_id: int, user_id: str, *, statements: int) -> Progress | None:
    """One more statement answered by this participant (not what they answered); with
    all `statements` answered they are marked thanked (`thank_now` once). The survey's
    participants are written again in random order: an updated row would otherwise move
    to the end of PostgreSQL's table and tell who answered last."""
    people = _participant_rows(db, survey_id)
    found = next((p for p in people if p["user_id"] == user_id), None)
    if found is None:
        return None
    found["answered"] += 1
    thank_now = found["answered"] >= statements and not found["thanked"]
    found["thanked"] = found["thanked"] or thank_now
    _rewrite_participants(db, survey_id, people)
    return Progress(found["answered"], thank_now)


def mark_reminded(db: Session, survey_id: int, user_ids: Collection[str]) -> None:
    """These participants got their reminder (all of one run at once: no order)."""
    people = _participant_rows(db, survey_id)
    for p in people:
        if p["user_id"] in user_ids:
            p["reminded"] = True
    _rewrite_participants(db, survey_id, people)


def _lock(db: Session, survey_id: int) -> None:
    """One rewrite of a survey's rows at a time (PostgreSQL; SQLite has a single writer)."""
    db.exec(select(Survey.id).where(Survey.id == survey_id).with_for_update()).first()


def _participant_rows(db: Session, survey_id: int) -> list[dict[str, Any]]:
    _lock(db, survey_id)
    table = _participants_table()
    rows = db.execute(sql_select(table).where(table.c.survey_id == survey_id)).mappings()
    return [dict(r) for r in rows]


def _rewrite_participants(db: Session, survey_id: int, rows: Sequence[dict[str, Any]]) -> None:
    table = _participants_table()
    shuffled.rewrite(db, table, table.c.survey_id == survey_id, rows)


def _participants_table() -> Table:
    return SurveyParticipant.__table__  # type: ignore[attr-defined]


def participants(db: Session, survey_id: int) -> list[SurveyParticipant]:
    """The participants of a running survey (an ended one has none)."""
    stmt = select(SurveyParticipant).where(SurveyParticipant.survey_id == survey_id)
    return list(db.exec(stmt.order_by(col(SurveyParticipant.user_id))))


def save_comment(db: Session, survey_id: int, voter: str, text: str) -> bool:
    """Store a free-text answer; True when it is this voter's first. The survey's free
    texts are all written again, in random order under new random IDs."""
    _lock(db, survey_id)
    table = SurveyComment.__table__  # type: ignore[attr-defined]
    return shuffled.put(db, table, ("survey_id", survey_id), voter, "text", text)


def rewrite_comments(db: Session, survey_id: int, texts: Iterable[tuple[str, str]]) -> None:
    """The survey's free texts, (voter, text) each, in random order under random IDs."""
    rows = [{"survey_id": survey_id, "voter": v, "text": t} for v, t in texts]
    table = SurveyComment.__table__  # type: ignore[attr-defined]
    shuffled.rewrite(db, table, table.c.survey_id == survey_id, rows)


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
    """End the survey: only how many took part stays (`Survey.participated`); who was
    asked and how far each got is deleted."""
    assert survey.id is not None
    survey.participated = _answered_by_participants(db, survey.id)
    survey.closed_at = survey.closes_at
    db.add(survey)
    for poll in statements(db, survey.id):
        poll.closed_at = survey.closes_at
        db.add(poll)
    db.flush()
    db.execute(delete(SurveyParticipant).where(col(SurveyParticipant.survey_id) == survey.id))
    db.flush()


def answered_by(db: Session, survey_id: int) -> int:
    """How many took part: answered at least one statement (of an ended survey, what
    was stored when it ended)."""
    survey = get(db, survey_id)
    if survey is not None and survey.participated is not None:
        return survey.participated
    return _answered_by_participants(db, survey_id)


def _answered_by_participants(db: Session, survey_id: int) -> int:
    stmt = select(func.count()).where(
        SurveyParticipant.survey_id == survey_id, SurveyParticipant.answered > 0
    )
    return int(db.exec(stmt).one())
