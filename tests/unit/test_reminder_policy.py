"""The reminder policy: working days, public holidays of a state, night, late, snooze."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from commands.parsing.recurrence import Recurrence
from commands.reminders.policy import (
    AgreementFacts,
    Policy,
    Snooze,
    WorkCalendar,
    agreement_occurrences,
    decide,
    digest_occurrences,
    is_quiet,
    next_allowed,
    next_moment,
    once_occurrences,
    recurring_occurrences,
)
from storage.models import AgreementStatus

BERLIN = ZoneInfo("Europe/Berlin")


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=BERLIN)


def agreement(
    due: dt.date | None,
    *,
    status: str = AgreementStatus.OPEN,
    since: dt.datetime | None = None,
    owners: tuple[str, ...] = ("@anna:example.org",),
) -> AgreementFacts:
    return AgreementFacts(
        id=7,
        room_id="!r:example.org",
        number=3,
        text="Bericht",
        status=status,
        due_date=due,
        owners=owners,
        created_by="@ben:example.org",
        active_since=since or at(2026, 1, 2),
    )


def kinds(occurrences: list) -> list[tuple[str, dt.datetime]]:
    return [(o.kind, o.at.astimezone(BERLIN).replace(tzinfo=None)) for o in occurrences]


# ---------------------------------------------------------------------------- working days


def test_easter_in_nrw_two_working_days_before_easter_monday_is_the_wednesday() -> None:
    nw = WorkCalendar("NW")
    # Good Friday (3 April) and Easter Monday (6 April) 2026 are holidays, the weekend too.
    assert nw.working_days_before(dt.date(2026, 4, 6), 2) == dt.date(2026, 4, 1)
    assert nw.working_days_before(dt.date(2026, 4, 6), 1) == dt.date(2026, 4, 2)
    assert nw.next_working_day(dt.date(2026, 4, 3)) == dt.date(2026, 4, 7)


def test_corpus_christi_is_a_holiday_in_bavaria_but_not_in_berlin() -> None:
    corpus_christi = dt.date(2026, 6, 4)
    assert not WorkCalendar("BY").is_working_day(corpus_christi)
    assert WorkCalendar("BE").is_working_day(corpus_christi)
    assert WorkCalendar("BY").holiday(corpus_christi)
    # "1 working day before" Friday 5 June: Wednesday in Bavaria, Thursday in Berlin.
    assert WorkCalendar("BY").working_days_before(dt.date(2026, 6, 5), 1) == dt.date(2026, 6, 3)
    assert WorkCalendar("BE").working_days_before(dt.date(2026, 6, 5), 1) == dt.date(2026, 6, 4)


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown German state 'XX'"):
        WorkCalendar("XX")


def test_reminders_of_an_agreement_due_on_easter_monday_in_nrw() -> None:
    occ = agreement_occurrences(agreement(dt.date(2026, 4, 6)), Policy(state="NW"))
    assert kinds(occ) == [
        ("before", dt.datetime(2026, 4, 1, 9, 0)),  # 2 working days before: Wednesday
        ("due", dt.datetime(2026, 4, 7, 9, 0)),  # Easter Monday → Tuesday morning
        ("overdue", dt.datetime(2026, 4, 13, 9, 0)),
        ("overdue", dt.datetime(2026, 4, 20, 9, 0)),
        ("overdue", dt.datetime(2026, 4, 27, 9, 0)),
    ]
    assert [o.escalate for o in occ] == [False, False, False, False, True]
    assert [o.index for o in occ if o.kind == "overdue"] == [1, 2, 3]


def test_due_on_corpus_christi_is_reminded_that_day_in_berlin_and_next_day_in_bavaria() -> None:
    due = dt.date(2026, 6, 4)
    by = kinds(agreement_occurrences(agreement(due), Policy(state="BY")))
    be = kinds(agreement_occurrences(agreement(due), Policy(state="BE")))
    assert ("due", dt.datetime(2026, 6, 5, 9, 0)) in by
    assert ("due", dt.datetime(2026, 6, 4, 9, 0)) in be
    # Due Friday 5 June, 2 working days before: Bavaria skips Corpus Christi, Berlin not.
    due_friday = dt.date(2026, 6, 5)
    by_friday = kinds(agreement_occurrences(agreement(due_friday), Policy(state="BY")))
    be_friday = kinds(agreement_occurrences(agreement(due_friday), Policy(state="BE")))
    assert by_friday[0] == ("before", dt.datetime(2026, 6, 2, 9, 0))
    assert be_friday[0] == ("before", dt.datetime(2026, 6, 3, 9, 0))


def test_due_on_a_saturday_before_on_thursday_due_reminder_on_monday() -> None:
    occ = kinds(agreement_occurrences(agreement(dt.date(2026, 3, 14)), Policy()))
    assert occ[:2] == [
        ("before", dt.datetime(2026, 3, 12, 9, 0)),
        ("due", dt.datetime(2026, 3, 16, 9, 0)),
    ]


def test_overdue_reminders_skip_holidays_and_follow_the_room_policy() -> None:
    policy = Policy(hour=dt.time(8, 30), before_days=3, overdue_every_days=14, overdue_times=2)
    occ = kinds(agreement_occurrences(agreement(dt.date(2026, 12, 11)), policy))
    assert occ == [
        ("before", dt.datetime(2026, 12, 8, 8, 30)),
        ("due", dt.datetime(2026, 12, 11, 8, 30)),
        ("overdue", dt.datetime(2026, 12, 28, 8, 30)),  # 25 Dec (Fri) → Mon 28 Dec
        ("overdue", dt.datetime(2027, 1, 8, 8, 30)),
    ]


def test_switched_off_parts_of_the_policy() -> None:
    policy = Policy(before_days=0, overdue_every_days=0)
    assert kinds(agreement_occurrences(agreement(dt.date(2026, 3, 13)), policy)) == [
        ("due", dt.datetime(2026, 3, 13, 9, 0))
    ]


def test_reminders_stay_at_nine_across_the_change_to_summer_time() -> None:
    # Summer time starts on Sunday 29 March 2026.
    occ = agreement_occurrences(agreement(dt.date(2026, 3, 30)), Policy())
    assert [o.at.astimezone(BERLIN).hour for o in occ] == [9, 9, 9, 9, 9]
    assert occ[0].at.astimezone(dt.UTC).hour == 8  # Thursday 26 March, winter time
    assert occ[1].at.astimezone(dt.UTC).hour == 7  # Monday 30 March, summer time


# ------------------------------------------------------------------- state of the agreement


def test_done_cancelled_or_undated_agreements_owe_nothing() -> None:
    assert (
        agreement_occurrences(agreement(dt.date(2026, 4, 6), status=AgreementStatus.DONE), Policy())
        == []
    )
    assert (
        agreement_occurrences(
            agreement(dt.date(2026, 4, 6), status=AgreementStatus.CANCELLED), Policy()
        )
        == []
    )
    assert agreement_occurrences(agreement(None), Policy()) == []


def test_occurrences_before_creation_or_re_dating_never_fire() -> None:
    # Recorded on Thursday 2 April 11:00 for Easter Monday: the Wednesday reminder is gone.
    occ = agreement_occurrences(agreement(dt.date(2026, 4, 6), since=at(2026, 4, 2, 11)), Policy())
    assert [o.kind for o in occ][:1] == ["due"]


def test_keys_change_when_the_due_date_changes() -> None:
    a = agreement_occurrences(agreement(dt.date(2026, 4, 6)), Policy())
    b = agreement_occurrences(agreement(dt.date(2026, 4, 8)), Policy())
    assert {o.key for o in a}.isdisjoint({o.key for o in b})
    assert a[0].key == "agreement:7:before:2026-04-06"


# ----------------------------------------------------------------------------- decisions


def test_due_reminder_is_sent_at_its_moment_not_a_second_earlier() -> None:
    occ = agreement_occurrences(agreement(dt.date(2026, 3, 13)), Policy())
    early = decide(occ, set(), at(2026, 3, 11, 8, 59) + dt.timedelta(seconds=59), Policy())
    assert early.send is None
    on_time = decide(occ, set(), at(2026, 3, 11, 9, 0), Policy())
    assert on_time.send is not None
    assert on_time.send.kind == "before"
    assert not on_time.late
    assert decide(occ, {on_time.send.key}, at(2026, 3, 11, 9, 1), Policy()).send is None


def test_a_reminder_missed_while_the_bot_was_down_is_sent_once_marked_late() -> None:
    occ = agreement_occurrences(agreement(dt.date(2026, 3, 13)), Policy())
    decision = decide(occ, set(), at(2026, 3, 11, 9, 6), Policy())
    assert decision.send is not None
    assert decision.send.kind == "before"
    assert decision.late
    assert not decide(occ, set(), at(2026, 3, 11, 9, 4), Policy()).late


def test_after_a_long_downtime_only_the_latest_missed_reminder_is_sent() -> None:
    occ = agreement_occurrences(agreement(dt.date(2026, 3, 13)), Policy())
    decision = decide(occ, set(), at(2026, 3, 23, 10, 0), Policy())
    assert decision.send is not None
    assert decision.send.kind == "overdue"
    assert decision.send.index == 1
    assert [o.kind for o in decision.skip] == ["before", "due"]


def test_a_late_automatic_reminder_waits_for_the_next_working_morning() -> None:
    occ = agreement_occurrences(agreement(dt.date(2026, 4, 2)), Policy())
    # The bot comes back on Thursday 2 April at 22:00: not at night, not on Good Friday,
    # not at the weekend, not on Easter Monday: Tuesday 7 April, 09:00.
    night = at(2026, 4, 2, 22, 0)
    assert decide(occ, set(), night, Policy()).send is None
    assert next_moment(occ, set(), night, Policy()) == at(2026, 4, 7, 9, 0)
    morning = decide(occ, set(), at(2026, 4, 7, 9, 0), Policy())
    assert morning.send is not None
    assert morning.send.kind == "due"
    assert morning.late


def test_quiet_times() -> None:
    p = Policy()
    assert is_quiet(at(2026, 3, 10, 8, 59), p)
    assert not is_quiet(at(2026, 3, 10, 9, 0), p)
    assert not is_quiet(at(2026, 3, 10, 19, 59), p)
    assert is_quiet(at(2026, 3, 10, 20, 0), p)
    assert is_quiet(at(2026, 3, 14, 12, 0), p)  # Saturday
    assert next_allowed(at(2026, 3, 10, 7, 0), p) == at(2026, 3, 10, 9, 0)
    assert next_allowed(at(2026, 3, 13, 21, 0), p) == at(2026, 3, 16, 9, 0)


def test_explicit_reminders_go_out_at_their_exact_time_even_on_holidays_and_evenings() -> None:
    moment = at(2026, 4, 3, 21, 30)  # Good Friday, evening: no automatic reminder then
    occ = once_occurrences(5, moment, policy=Policy())
    assert decide(occ, set(), moment, Policy()).send is not None
    assert next_moment(occ, set(), moment - dt.timedelta(hours=1), Policy()) == moment


def test_explicit_reminders_in_the_quiet_hours_wait_until_they_end() -> None:
    moment = at(2026, 4, 3, 22, 30)  # in the quiet hours (22:00–06:00)
    occ = once_occurrences(5, moment, policy=Policy())
    assert decide(occ, set(), moment, Policy()).send is None
    assert next_moment(occ, set(), moment - dt.timedelta(hours=1), Policy()) == at(2026, 4, 4, 6, 0)
    assert decide(occ, set(), at(2026, 4, 4, 6, 0), Policy()).send is not None
    # Without quiet hours (`quiet_hours: {start: end}`) exactly then.
    off = Policy(quiet=None)
    assert decide(once_occurrences(5, moment, policy=off), set(), moment, off).send is not None


def test_snooze_puts_the_reminders_in_between_off_to_its_end() -> None:
    a = agreement(dt.date(2026, 3, 13))
    # Replied "!später 3 tage" to the Wednesday reminder at 09:05: until Saturday 09:05.
    snooze = Snooze(until=at(2026, 3, 14, 9, 5), set_at=at(2026, 3, 11, 9, 5))
    occ = kinds(agreement_occurrences(a, Policy(), snooze))
    assert ("due", dt.datetime(2026, 3, 13, 9, 0)) not in occ
    assert ("snooze", dt.datetime(2026, 3, 16, 9, 0)) in occ  # Saturday → Monday morning
    assert ("before", dt.datetime(2026, 3, 11, 9, 0)) in occ  # already sent: stays handled


def test_snooze_within_a_working_day_is_exact() -> None:
    a = agreement(dt.date(2026, 3, 20))
    snooze = Snooze(until=at(2026, 3, 12, 14, 37), set_at=at(2026, 3, 12, 11, 37))
    occ = agreement_occurrences(a, Policy(), snooze)
    assert next(o for o in occ if o.kind == "snooze").at == at(2026, 3, 12, 14, 37)


# -------------------------------------------------------------------------------- digest


def test_digest_on_monday_morning_and_on_tuesday_after_easter_monday() -> None:
    joined = at(2026, 1, 1)
    occ = digest_occurrences("!r", Policy(), at(2026, 4, 8, 12), joined_at=joined)
    assert [o.at for o in occ] == [at(2026, 3, 30, 9), at(2026, 4, 7, 9), at(2026, 4, 13, 9)]
    assert occ[1].key == "digest:!r:2026-W15"


def test_digest_switched_off_or_set_later_is_not_owed_for_the_past() -> None:
    assert (
        digest_occurrences(
            "!r", Policy(digest_weekday=None), at(2026, 3, 10), joined_at=at(2026, 1, 1)
        )
        == []
    )
    policy = Policy(digest_weekday=0, digest_since=at(2026, 3, 10, 12))
    occ = digest_occurrences("!r", policy, at(2026, 3, 10, 12), joined_at=at(2026, 1, 1))
    assert [o.at for o in occ] == [at(2026, 3, 16, 9)]


# ------------------------------------------------------------------------------ recurring


def test_recurring_reminder_after_a_downtime_posts_only_the_latest_occurrence() -> None:
    rule = Recurrence("daily", dt.time(8, 0))
    occ = recurring_occurrences(
        4, rule, BERLIN, since=at(2026, 3, 9, 8, 0), now=at(2026, 3, 12, 10, 0)
    )
    assert [o.at for o in occ] == [
        at(2026, 3, 10, 8),
        at(2026, 3, 11, 8),
        at(2026, 3, 12, 8),
        at(2026, 3, 13, 8),
    ]
    decision = decide(occ, set(), at(2026, 3, 12, 10, 0), Policy())
    assert decision.send is not None
    assert decision.send.at == at(2026, 3, 12, 8)
    assert decision.late
    assert len(decision.skip) == 2
