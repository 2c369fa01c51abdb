"""Retention: the daily job deletes or anonymises what is older than the configured
periods, on SQLite and PostgreSQL; what a still-open item needs stays."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter

from sqlmodel import Session, col, func, select

from bot.runtime.scheduler import run_timers
from commands.core.defaults import Defaults
from commands.core.timers import TimerEnv
from commands.privacy.config import RetentionSettings
from commands.privacy.retention import LAST_RUN
from storage import events, retention
from storage.db import Database
from storage.models import (
    Agreement,
    AgreementHistory,
    AgreementOwner,
    Meeting,
    MeetingAttendee,
    OutboxMessage,
    Poll,
    PollVote,
    ProcessedEvent,
)
from storage.types import utcnow
from tests.dialog import ANNA, BEN, CARLA, CHAIR, Dialog

POLL_START = "org.matrix.msc3381.poll.start"


def count(s: Session, model: type) -> int:
    return int(s.exec(select(func.count()).select_from(model)).one())


def wake(dialog: Dialog, at: dt.datetime, defaults: Defaults | None = None) -> dt.datetime | None:
    """The scheduler's timers at `at` (the retention job among them); not the reminders',
    whose digests would add to the outbox, nor the approval of minutes, whose notice would
    (they have tests of their own)."""
    timers = [t for t in dialog.registry.timers if t.name not in ("reminders", "minutes-approval")]
    with dialog.database.session() as s:
        result = run_timers(s, at, TimerEnv(defaults=defaults or Defaults()), timers)
    return result.next_at


def dialog_now(db: Database) -> Dialog:
    """A dialog at the real time: the bot stamps processed events with it."""
    return Dialog(db, now=utcnow().astimezone(Defaults().zone))


def committee_year(dialog: Dialog) -> None:
    """Four agreements (#3 stays open), a pulse with three answers, a meeting."""
    for text in ("Protokoll", "Einladung", "Bericht", "Haushalt"):
        dialog.say(ANNA, f"!verabredung {text} @anna:example.org")
    dialog.say(ANNA, "!erledigt 1")
    dialog.say(ANNA, "!verwerfen 2 doch nicht")
    dialog.say(ANNA, "!erledigt 4")
    [poll] = [s for s in dialog.say(CHAIR, "!puls") if s.event_type == POLL_START]
    for who, value in ((ANNA, "5"), (BEN, "4"), (CARLA, "4")):
        dialog.answer_poll(who, poll.event_id, (value,))
    dialog.say(CHAIR, "!schließen 1")
    dialog.say(CHAIR, "!sitzung start Frühjahr")
    dialog.chat(BEN, "Guten Morgen")
    dialog.say(CHAIR, "!sitzung ende")


def days_on(start: dt.datetime, days: int) -> dt.datetime:
    """Noon `days` after `start`: past the daily job's hour, whenever the test runs (a
    test run between midnight and the job's hour would otherwise wake before it)."""
    return (start + dt.timedelta(days=days)).replace(hour=12, minute=0)


def test_each_kind_goes_when_its_period_is_over_and_open_items_stay(db: Database) -> None:
    dialog = dialog_now(db)
    start = dialog.now
    committee_year(dialog)
    with db.session() as s:
        assert count(s, ProcessedEvent) > 0
        votes_before = Counter(v.answers for v in s.exec(select(PollVote)))
        outbox_before = count(s, OutboxMessage)

    # 100 days on: processed events and sent messages are gone, except the messages about
    # the open agreement #3; votes, agreements and minutes are still there.
    wake(dialog, days_on(start, 100))
    with db.session() as s:
        assert count(s, ProcessedEvent) == 0
        left = list(s.exec(select(OutboxMessage)))
        assert 0 < len(left) < outbox_before
        third = s.exec(select(Agreement).where(Agreement.number == 3)).one()
        assert {(m.ref_kind, m.ref_id) for m in left} == {("agreement", third.id)}
        assert count(s, Agreement) == 4
        assert count(s, PollVote) == 3
        assert count(s, MeetingAttendee) > 0

    # 400 days on: the pulse's votes are anonymised, the result is the same.
    wake(dialog, days_on(start, 400))
    with db.session() as s:
        votes = list(s.exec(select(PollVote)))
        assert Counter(v.answers for v in votes) == votes_before
        assert {v.voter for v in votes} == {"anon:1", "anon:2", "anon:3"}
    dialog.now = start + dt.timedelta(days=400)
    assert "Mittelwert: 4,3 von 5" in dialog.text(CHAIR, "!ergebnis 1")

    # Over three years on: closed agreements are deleted (the highest number, #4, is kept
    # empty so that no number is given twice), the open #3 keeps its owners and history;
    # the meeting keeps its number and date, without attendees.
    later = days_on(start, 3 * 365 + 10)
    wake(dialog, later)
    with db.session() as s:
        kept = {a.number: a for a in s.exec(select(Agreement))}
        assert sorted(kept) == [3, 4]
        assert kept[3].text == "Bericht"
        assert kept[3].created_by == ANNA
        assert kept[4].text == retention.EXPIRED
        assert kept[4].created_by == retention.EXPIRED
        owners = list(s.exec(select(AgreementOwner)))
        assert [(o.agreement_id, o.user_id) for o in owners] == [(kept[3].id, ANNA)]
        history = s.exec(select(AgreementHistory.agreement_id)).all()
        assert set(history) == {kept[3].id}
        assert count(s, MeetingAttendee) == 0
        meeting = s.exec(select(Meeting)).one()
        assert meeting.started_by == retention.EXPIRED
        assert meeting.minutes is not None
        assert json.loads(meeting.minutes)["sections"] == []
        assert s.exec(select(Poll)).one().closed_at is not None
    dialog.now = later
    shown = dialog.text(CHAIR, "!sitzung protokoll 1")
    assert "Sitzung #1: Frühjahr" in shown
    assert "Ben" not in shown
    assert "#5" in dialog.text(ANNA, "!verabredung Neu")  # numbers are not given twice
    assert "Bericht" in dialog.text(ANNA, "!liste")


def test_it_runs_once_a_day_after_its_hour_and_keeps_what_is_configured_for_good(
    db: Database,
) -> None:
    dialog = dialog_now(db)
    dialog.say(ANNA, "!verabredung Alt @anna:example.org")
    dialog.say(ANNA, "!verabredung Neuer @anna:example.org")
    dialog.say(ANNA, "!erledigt 1")
    zone = Defaults().zone
    day = (dialog.now + dt.timedelta(days=4 * 365)).astimezone(zone).date()
    before_hour = dt.datetime.combine(day, dt.time(2, 30), zone)
    after_hour = dt.datetime.combine(day, dt.time(3, 5), zone)
    forever = dataclasses.replace(
        Defaults(),
        features={
            "retention": RetentionSettings(
                policy=retention.RetentionPolicy(
                    closed_agreements=None,
                    poll_votes=None,
                    minutes=None,
                    processed_events=None,
                    sent_outbox=None,
                )
            )
        },
    )
    # Before 03:00 nothing happens (the scheduler wakes at least hourly: no wake-up asked).
    assert wake(dialog, before_hour) is None
    with db.session() as s:
        assert count(s, Agreement) == 2
        assert events.get_state(s, LAST_RUN) is None
    # Kept for good: nothing is deleted.
    wake(dialog, after_hour, forever)
    with db.session() as s:
        assert count(s, Agreement) == 2
        assert count(s, ProcessedEvent) > 0
        assert events.get_state(s, LAST_RUN) == day.isoformat()
        # Today's run is done: the same day does not run again.
        events.set_state(s, LAST_RUN, day.isoformat())
    wake(dialog, after_hour + dt.timedelta(hours=1))
    with db.session() as s:
        assert count(s, Agreement) == 2
    # The next day with the defaults: #1 (closed, not the highest) goes.
    next_day = after_hour + dt.timedelta(days=1)
    wake(dialog, next_day)
    with db.session() as s:
        assert [a.number for a in s.exec(select(Agreement).order_by(col(Agreement.number)))] == [2]
        assert count(s, ProcessedEvent) == 0


def test_purge_twice_changes_nothing_the_second_time(db: Database) -> None:
    dialog = dialog_now(db)
    committee_year(dialog)
    later = dialog.now + dt.timedelta(days=4 * 365)
    with db.session() as s:
        first = retention.purge(s, later, retention.RetentionPolicy())
    with db.session() as s:
        second = retention.purge(s, later, retention.RetentionPolicy())
    assert first.total > 0
    assert second.total == 0, second.lines()


def test_the_config_sets_the_periods_and_events_outlive_the_catch_up_horizon() -> None:
    from bot.config import Config

    config = Config.model_validate(
        {
            "homeserver": "https://matrix.example.org",
            "user_id": "@bot:example.org",
            "password": "x",
            "catchup": {"horizon_days": 100},
            "retention": {"processed_events_days": 30, "poll_votes_days": None, "hour": 4},
        }
    )
    settings = config.build_defaults().features["retention"]
    assert isinstance(settings, RetentionSettings)
    assert settings.hour == 4
    assert settings.policy.processed_events == dt.timedelta(days=101)
    assert settings.policy.poll_votes is None
    assert settings.policy.closed_agreements == dt.timedelta(days=3 * 365)
