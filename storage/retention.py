"""Retention: what the bot deletes or anonymises once it is older than the configured
periods (config `retention:`, docs/datenschutz.md). The daily timer of `commands.privacy`
calls `purge`; it is idempotent and never touches what a still-open item refers to.

- Closed agreements (done or cancelled) and ended `!erinnere` reminders: deleted with
  their owners, history, snoozes and reminder log, some time after they were closed.
  Numbers count per room from the highest one, so the highest-numbered of a room is not
  deleted but emptied (text and person replaced by EXPIRED): no number is given twice.
- Votes of closed polls and the free texts of closed surveys: anonymised. Each vote's
  keyed voter hash is replaced by a running number and the rows are written again in
  random order under random IDs (`storage.shuffled`), so that not even the holder of
  `voter.key` can find anyone's answer; the answers themselves stay, so every result
  stays the same. (Who took part in a survey is deleted when it ends; only the count
  stays.)
- Meetings' minutes: after the period, the attendees and the minutes' sections are
  deleted and the persons who started and ended it replaced; the meeting itself (number,
  title, times) stays for the figures.
- Processed-event records and sent outbox messages: deleted; outbox rows that an open
  agreement, reminder, poll or survey refers to (a poll's start event, which its end
  names) stay, and so does a row another remaining row refers to.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from storage import polls, surveys
from storage.db import in_chunks
from storage.models import (
    Agreement,
    AgreementHistory,
    AgreementOwner,
    AgreementStatus,
    Decision,
    DecisionOutcome,
    Meeting,
    MeetingAttendee,
    OutboxFile,
    OutboxMessage,
    OutboxStatus,
    Poll,
    PollVote,
    ProcessedEvent,
    RefKind,
    Reminder,
    ReminderLog,
    ReminderSnooze,
    ReminderStatus,
    Survey,
    SurveyComment,
    SurveyParticipant,
)

# What stands for a deleted text or person in a row kept for its number.
EXPIRED = "—"
# Voters (and survey participants) replaced by a running number start with this; a
# keyed hash is hex and a user ID starts with "@", so neither ever does.
ANONYMOUS_PREFIX = "anon:"

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of record is kept; None keeps it for good."""

    closed_agreements: dt.timedelta | None = 3 * 365 * DAY
    poll_votes: dt.timedelta | None = 365 * DAY
    minutes: dt.timedelta | None = 3 * 365 * DAY
    processed_events: dt.timedelta | None = 90 * DAY
    sent_outbox: dt.timedelta | None = 90 * DAY


@dataclass
class Changes:
    """Rows changed, by "table: what was done" (a retention run, an erasure)."""

    counts: Counter[str] = field(default_factory=Counter, init=False)

    def add(self, what: str, rows: int) -> None:
        if rows:
            self.counts[what] += rows

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        return [f"{what}: {n}" for what, n in sorted(self.counts.items())]


class Purged(Changes):
    """What one retention run deleted or anonymised."""


def purge(db: Session, now: dt.datetime, policy: RetentionPolicy) -> Purged:
    """Delete or anonymise everything older than the policy allows, in the caller's
    transaction; what was done, counted."""
    done = Purged()
    if policy.closed_agreements is not None:
        _agreements(db, now - policy.closed_agreements, done)
        _reminders(db, now - policy.closed_agreements, done)
    if policy.poll_votes is not None:
        _votes(db, now - policy.poll_votes, done)
        _surveys(db, now - policy.poll_votes, done)
    if policy.minutes is not None:
        _minutes(db, now - policy.minutes, done)
    if policy.processed_events is not None:
        done.add(
            "processed_event: deleted",
            _delete(
                db,
                delete(ProcessedEvent).where(
                    col(ProcessedEvent.processed_at) < now - policy.processed_events
                ),
            ),
        )
    if policy.sent_outbox is not None:
        _outbox(db, now - policy.sent_outbox, done)
    db.flush()
    return done


def _delete(db: Session, stmt: Any) -> int:
    return int(db.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def _highest_numbers(db: Session, model: Any) -> set[tuple[str, int]]:
    stmt = select(model.room_id, func.max(model.number)).group_by(model.room_id)
    return {(room_id, number) for room_id, number in db.exec(stmt)}


def _split(rows: Sequence[Any], highest: set[tuple[str, int]]) -> tuple[list[int], list[Any]]:
    """IDs to delete, and the rows to keep emptied (their room's highest number)."""
    gone = [r.id for r in rows if (r.room_id, r.number) not in highest]
    kept = [r for r in rows if (r.room_id, r.number) in highest]
    return gone, kept


# ------------------------------------------------------------------------------ agreements


def _agreements(db: Session, cutoff: dt.datetime, done: Purged) -> None:
    stmt = select(Agreement).where(
        col(Agreement.status).in_([AgreementStatus.DONE, AgreementStatus.CANCELLED]),
        col(Agreement.closed_at).is_not(None),
        col(Agreement.closed_at) < cutoff,
        Agreement.created_by != EXPIRED,
    )
    rows = list(db.exec(stmt))
    if not rows:
        return
    gone, kept = _split(rows, _highest_numbers(db, Agreement))
    every = [r.id for r in rows]
    for chunk in in_chunks(every):
        done.add(
            "agreement_owner: deleted",
            _delete(db, delete(AgreementOwner).where(col(AgreementOwner.agreement_id).in_(chunk))),
        )
        done.add(
            "agreement_history: deleted",
            _delete(
                db, delete(AgreementHistory).where(col(AgreementHistory.agreement_id).in_(chunk))
            ),
        )
        done.add(
            "reminder_snooze: deleted",
            _delete(
                db,
                delete(ReminderSnooze).where(
                    col(ReminderSnooze.ref_kind) == RefKind.AGREEMENT,
                    col(ReminderSnooze.ref_id).in_(chunk),
                ),
            ),
        )
        done.add(
            "reminder_log: deleted",
            _delete(db, delete(ReminderLog).where(col(ReminderLog.agreement_id).in_(chunk))),
        )
    for chunk in in_chunks(gone):
        _forget_refs(db, RefKind.AGREEMENT, chunk)
        done.add(
            "agreement: deleted", _delete(db, delete(Agreement).where(col(Agreement.id).in_(chunk)))
        )
    for a in kept:
        a.text = EXPIRED
        a.created_by = EXPIRED
        db.add(a)
    done.add("agreement: emptied (kept for its number)", len(kept))


def _reminders(db: Session, cutoff: dt.datetime, done: Purged) -> None:
    stmt = select(Reminder).where(
        col(Reminder.status).in_([ReminderStatus.DONE, ReminderStatus.CANCELLED]),
        col(Reminder.updated_at) < cutoff,
        Reminder.created_by != EXPIRED,
    )
    rows = list(db.exec(stmt))
    if not rows:
        return
    gone, kept = _split(rows, _highest_numbers(db, Reminder))
    for chunk in in_chunks([r.id for r in rows]):
        done.add(
            "reminder_log: deleted",
            _delete(db, delete(ReminderLog).where(col(ReminderLog.reminder_id).in_(chunk))),
        )
        done.add(
            "reminder_snooze: deleted",
            _delete(
                db,
                delete(ReminderSnooze).where(
                    col(ReminderSnooze.ref_kind) == RefKind.REMINDER,
                    col(ReminderSnooze.ref_id).in_(chunk),
                ),
            ),
        )
    for chunk in in_chunks(gone):
        _forget_refs(db, RefKind.REMINDER, chunk)
        done.add(
            "reminder: deleted", _delete(db, delete(Reminder).where(col(Reminder.id).in_(chunk)))
        )
    for r in kept:
        r.text = EXPIRED
        r.created_by = EXPIRED
        r.mentions = None
        db.add(r)
    done.add("reminder: emptied (kept for its number)", len(kept))


def _forget_refs(db: Session, ref_kind: RefKind, ids: Sequence[int]) -> None:
    """Bot messages about deleted objects no longer point at them (an ID may be given
    again, and a reply to an old message must not act on a new object)."""
    db.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.ref_kind) == ref_kind, col(OutboxMessage.ref_id).in_(ids))
        .values(ref_kind=None, ref_id=None)
    )


# ------------------------------------------------------------------------------ polls


def _not_anonymised(voter_column: Any) -> Any:
    return ~col(voter_column).startswith(ANONYMOUS_PREFIX)


def _votes(db: Session, cutoff: dt.datetime, done: Purged) -> None:
    voted = select(PollVote.poll_id).join(Poll, col(Poll.id) == col(PollVote.poll_id))
    stmt = voted.where(
        col(Poll.closed_at).is_not(None),
        col(Poll.closed_at) < cutoff,
        _not_anonymised(PollVote.voter),
    ).distinct()
    for poll_id in list(db.exec(stmt)):
        answers = list(db.exec(select(PollVote.answers).where(PollVote.poll_id == poll_id)))
        # The running numbers are given before the rewrite shuffles the rows.
        polls.rewrite_votes(
            db, poll_id, [(f"{ANONYMOUS_PREFIX}{i}", a) for i, a in enumerate(answers, 1)]
        )
        done.add("poll_vote: anonymised", len(answers))
    db.flush()


def _surveys(db: Session, cutoff: dt.datetime, done: Purged) -> None:
    closed = select(Survey.id).where(
        col(Survey.closed_at).is_not(None), col(Survey.closed_at) < cutoff
    )
    survey_ids = [i for i in db.exec(closed) if i is not None]
    for survey_id in survey_ids:
        identified = select(SurveyComment.voter).where(
            SurveyComment.survey_id == survey_id, _not_anonymised(SurveyComment.voter)
        )
        if db.exec(identified).first() is not None:
            texts = list(
                db.exec(select(SurveyComment.text).where(SurveyComment.survey_id == survey_id))
            )
            surveys.rewrite_comments(
                db, survey_id, [(f"{ANONYMOUS_PREFIX}{i}", t) for i, t in enumerate(texts, 1)]
            )
            done.add("survey_comment: anonymised", len(texts))
        # An ended survey keeps no participants (`storage.surveys.close`); those of one
        # ended before migration 0009 went with it.
        done.add(
            "survey_participant: deleted",
            _delete(
                db, delete(SurveyParticipant).where(col(SurveyParticipant.survey_id) == survey_id)
            ),
        )
    db.flush()


# ------------------------------------------------------------------------------ meetings


def _minutes(db: Session, cutoff: dt.datetime, done: Purged) -> None:
    stmt = select(Meeting).where(
        col(Meeting.ended_at).is_not(None),
        col(Meeting.ended_at) < cutoff,
        Meeting.started_by != EXPIRED,
    )
    for meeting in list(db.exec(stmt)):
        done.add(
            "meeting_attendee: deleted",
            _delete(
                db, delete(MeetingAttendee).where(col(MeetingAttendee.meeting_id) == meeting.id)
            ),
        )
        meeting.minutes = _bare_minutes(meeting.minutes)
        meeting.started_by = EXPIRED
        meeting.ended_by = EXPIRED
        db.add(meeting)
        done.add("meeting: minutes deleted", 1)


def _bare_minutes(stored: str | None) -> str | None:
    """The minutes without their sections (who attended, what was agreed): the number,
    title and times still show."""
    if stored is None:
        return None
    try:
        facts = json.loads(stored)
    except ValueError:
        return None
    if isinstance(facts, dict):
        facts["sections"] = []
    return json.dumps(facts, ensure_ascii=False)


# ------------------------------------------------------------------------------ outbox


def _outbox(db: Session, cutoff: dt.datetime, done: Purged) -> None:
    moment = func.coalesce(col(OutboxMessage.sent_at), col(OutboxMessage.created_at))
    stmt = select(OutboxMessage.id, OutboxMessage.ref_kind, OutboxMessage.ref_id).where(
        OutboxMessage.status != OutboxStatus.PENDING, moment < cutoff
    )
    candidates = {row_id: (kind, ref) for row_id, kind, ref in db.exec(stmt) if row_id}
    if not candidates:
        return
    still_open = _open_refs(db, {(k, r) for k, r in candidates.values() if k and r is not None})
    old = {row_id for row_id, (kind, ref) in candidates.items() if (kind, ref) not in still_open}
    # A row that stays (pending, newer, or about an open object) may name one as its target.
    targets = select(OutboxMessage.id, OutboxMessage.target_id).where(
        col(OutboxMessage.target_id).is_not(None)
    )
    needed = {target for row_id, target in db.exec(targets) if row_id not in old}
    gone = sorted(old - needed)
    for chunk in in_chunks(gone):
        db.execute(
            update(OutboxMessage).where(col(OutboxMessage.id).in_(chunk)).values(target_id=None)
        )
    db.flush()
    for chunk in in_chunks(gone):
        _delete(db, delete(OutboxFile).where(col(OutboxFile.outbox_id).in_(chunk)))
        done.add(
            "outbox: deleted",
            _delete(db, delete(OutboxMessage).where(col(OutboxMessage.id).in_(chunk))),
        )


def _open_refs(db: Session, refs: Iterable[tuple[str | None, int | None]]) -> set[Any]:
    """Of these (kind, id) references, those to an object still open (or of a kind this
    module does not know: kept, to be safe; a new kind belongs in this list)."""
    by_kind: dict[str, list[int]] = {}
    for kind, ref in refs:
        if kind is not None and ref is not None:
            by_kind.setdefault(kind, []).append(ref)
    found: set[Any] = set()
    for kind, ids in by_kind.items():
        for chunk in in_chunks(ids):
            if kind == RefKind.AGREEMENT:
                q: Any = select(Agreement.id).where(
                    col(Agreement.id).in_(chunk), Agreement.status == AgreementStatus.OPEN
                )
            elif kind == RefKind.REMINDER:
                q = select(Reminder.id).where(
                    col(Reminder.id).in_(chunk),
                    col(Reminder.status).in_([ReminderStatus.ACTIVE, ReminderStatus.PAUSED]),
                )
            elif kind in (RefKind.POLL, RefKind.SURVEY_STATEMENT):
                q = select(Poll.id).where(col(Poll.id).in_(chunk), col(Poll.closed_at).is_(None))
            elif kind == RefKind.SURVEY_TEXT:
                q = select(Survey.id).where(
                    col(Survey.id).in_(chunk), col(Survey.closed_at).is_(None)
                )
            elif kind == RefKind.MEETING:
                q = select(Meeting.id).where(
                    col(Meeting.id).in_(chunk), col(Meeting.ended_at).is_(None)
                )
            elif kind == RefKind.DECISION:  # a circulation still running
                q = select(Decision.id).where(
                    col(Decision.id).in_(chunk), Decision.outcome == DecisionOutcome.RUNNING
                )
            else:
                found.update((kind, ref) for ref in chunk)
                continue
            found.update((kind, ref) for ref in db.exec(q))
    return found
