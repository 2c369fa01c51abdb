"""Recurring reminders: reading "jeden Montag 9:00 …" and finding the next occurrence."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from commands.parsing.recurrence import Frequency, Recurrence, parse_recurrence

BERLIN = ZoneInfo("Europe/Berlin")
NINE = dt.time(9, 0)


def _berlin(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# ---------------------------------------------------------------------------------------------
# Reading


@pytest.mark.parametrize(
    ("text", "expected", "rest"),
    [
        (
            "jeden montag 9:00 Tagesordnung einreichen",
            Recurrence("weekly", NINE, (0,)),
            "Tagesordnung einreichen",
        ),
        (
            "jeden ersten Dienstag im Monat 10 Uhr Bericht",
            Recurrence("monthly", dt.time(10, 0), (1,), 1),
            "Bericht",
        ),
        (
            "every friday 3pm submit minutes",
            Recurrence("weekly", dt.time(15, 0), (4,)),
            "submit minutes",
        ),
        ("täglich 8:00 Post durchsehen", Recurrence("daily", dt.time(8, 0)), "Post durchsehen"),
        ("taeglich 8:00 x", Recurrence("daily", dt.time(8, 0)), "x"),
        ("jede Woche Mittwoch Protokoll", Recurrence("weekly", NINE, (2,)), "Protokoll"),
        (
            "Jeden Montag und Donnerstag um 9 Uhr: Postfach",
            Recurrence("weekly", NINE, (0, 3)),
            "Postfach",
        ),
        ("montags Bericht", Recurrence("weekly", NINE, (0,)), "Bericht"),
        ("werktags 7:30 Kaffee", Recurrence("weekly", dt.time(7, 30), (0, 1, 2, 3, 4)), "Kaffee"),
        (
            "jeden letzten Freitag im Monat, 14:00 Uhr - Abrechnung",
            Recurrence("monthly", dt.time(14, 0), (4,), -1),
            "Abrechnung",
        ),
        (
            "every last friday of the month at 4 pm wrap up",
            Recurrence("monthly", dt.time(16, 0), (4,), -1),
            "wrap up",
        ),
        ("monatlich am ersten Montag Sitzung", Recurrence("monthly", NINE, (0,), 1), "Sitzung"),
        ("wöchentlich am Freitag Wochenbericht", Recurrence("weekly", NINE, (4,)), "Wochenbericht"),
        (
            "every monday, wednesday and friday 10:30 standup",
            Recurrence("weekly", dt.time(10, 30), (0, 2, 4)),
            "standup",
        ),
        ("jeden Mo. 9 Uhr Raum lüften", Recurrence("weekly", NINE, (0,)), "Raum lüften"),
        (
            "on the first tuesday of every month 9am board meeting",
            Recurrence("monthly", NINE, (1,), 1),
            "board meeting",
        ),
        ("JEDEN 3. MITTWOCH IM MONAT Ausschuss", Recurrence("monthly", NINE, (2,), 3), "Ausschuss"),
        ("jeden Montag 9 Leute anrufen", Recurrence("weekly", NINE, (0,)), "9 Leute anrufen"),
        ("jeden Tag", Recurrence("daily", NINE), ""),
    ],
)
def test_recurrence_is_read_from_the_start_and_the_rest_is_the_message(
    text: str, expected: Recurrence, rest: str
) -> None:
    assert parse_recurrence(text) == (expected, rest)


def test_without_a_time_the_default_time_is_used() -> None:
    found = parse_recurrence("jeden Freitag Protokoll", default_time=dt.time(16, 0))
    assert found == (Recurrence("weekly", dt.time(16, 0), (4,)), "Protokoll")


@pytest.mark.parametrize(
    "text",
    [
        "Bericht jeden Montag",  # must start with the recurrence
        "jeden zweiten Dienstag Kaffee",  # every other Tuesday? not supported, not guessed
        "jeden Montag 25:00 Bericht",  # broken time
        "morgen 10 Uhr Raum buchen",
        "jede Sitzung vorbereiten",
        "",
    ],
)
def test_text_that_does_not_open_with_a_recurrence_is_refused(text: str) -> None:
    assert parse_recurrence(text) is None


def test_languages_restrict_the_recurrence_words() -> None:
    assert parse_recurrence("every monday x", languages=("de",)) is None
    assert parse_recurrence("jeden Montag x", languages=("en",)) is None


# ---------------------------------------------------------------------------------------------
# Next occurrence


def test_weekly_next_is_strictly_after_the_given_moment() -> None:
    monday_nine = Recurrence("weekly", NINE, (0,))
    assert monday_nine.next_after(_berlin(2026, 3, 9, 8, 59)) == _berlin(2026, 3, 9, 9, 0)
    assert monday_nine.next_after(_berlin(2026, 3, 9, 9, 0)) == _berlin(2026, 3, 16, 9, 0)


def test_weekly_on_several_days_takes_the_nearest_across_the_month_end() -> None:
    rule = Recurrence("weekly", NINE, (0, 3))
    assert rule.next_after(_berlin(2026, 4, 30, 9, 0)) == _berlin(2026, 5, 4, 9, 0)
    assert rule.next_after(_berlin(2026, 4, 27, 12, 0)) == _berlin(2026, 4, 30, 9, 0)


def test_first_tuesday_of_the_month_moves_to_the_next_month_once_passed() -> None:
    rule = Recurrence("monthly", dt.time(10, 0), (1,), 1)
    assert rule.next_after(_berlin(2026, 3, 1, 0, 0)) == _berlin(2026, 3, 3, 10, 0)
    assert rule.next_after(_berlin(2026, 3, 3, 10, 0)) == _berlin(2026, 4, 7, 10, 0)
    assert rule.next_after(_berlin(2026, 12, 2, 10, 0)) == _berlin(2027, 1, 5, 10, 0)


def test_last_friday_of_the_month_crosses_into_a_short_february() -> None:
    rule = Recurrence("monthly", NINE, (4,), -1)
    assert rule.next_after(_berlin(2026, 1, 23, 12, 0)) == _berlin(2026, 1, 30, 9, 0)
    assert rule.next_after(_berlin(2026, 1, 30, 12, 0)) == _berlin(2026, 2, 27, 9, 0)


def test_fourth_and_last_weekday_differ_in_a_month_with_five() -> None:
    # March 2026 has five Tuesdays: 3, 10, 17, 24, 31.
    start = _berlin(2026, 3, 1, 0, 0)
    assert Recurrence("monthly", NINE, (1,), 4).next_after(start).day == 24
    assert Recurrence("monthly", NINE, (1,), -1).next_after(start).day == 31


def test_daily_keeps_wall_clock_time_over_the_spring_dst_switch() -> None:
    rule = Recurrence("daily", NINE)
    nxt = rule.next_after(_berlin(2026, 3, 28, 10, 0))
    assert nxt == _berlin(2026, 3, 29, 9, 0)
    assert nxt.utcoffset() == dt.timedelta(hours=2)
    # Same-zone subtraction in Python is wall-clock; the real gap shows in UTC.
    assert nxt.astimezone(dt.UTC) - _berlin(2026, 3, 28, 9, 0).astimezone(dt.UTC) == dt.timedelta(
        hours=23
    )


def test_daily_keeps_wall_clock_time_over_the_autumn_dst_switch() -> None:
    rule = Recurrence("daily", NINE)
    nxt = rule.next_after(_berlin(2026, 10, 24, 10, 0))
    assert (nxt.date(), nxt.time(), nxt.utcoffset()) == (
        dt.date(2026, 10, 25),
        NINE,
        dt.timedelta(hours=1),
    )


def test_a_time_skipped_by_the_dst_switch_fires_an_hour_later() -> None:
    rule = Recurrence("weekly", dt.time(2, 30), (6,))
    nxt = rule.next_after(_berlin(2026, 3, 28, 12, 0))
    assert (nxt.date(), nxt.hour, nxt.minute) == (dt.date(2026, 3, 29), 3, 30)


def test_a_time_repeated_by_the_dst_switch_fires_once_at_its_first_occurrence() -> None:
    rule = Recurrence("weekly", dt.time(2, 30), (6,))
    nxt = rule.next_after(_berlin(2026, 10, 24, 12, 0))
    assert nxt.utcoffset() == dt.timedelta(hours=2)
    assert rule.next_after(nxt).date() == dt.date(2026, 11, 1)


def test_next_occurrence_keeps_the_time_zone_it_was_asked_in() -> None:
    plus_five = dt.timezone(dt.timedelta(hours=5))
    nxt = Recurrence("daily", NINE).next_after(dt.datetime(2026, 3, 9, 10, 0, tzinfo=plus_five))
    assert nxt == dt.datetime(2026, 3, 10, 9, 0, tzinfo=plus_five)
    assert nxt.tzinfo is plus_five


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        Recurrence("daily", NINE).next_after(dt.datetime(2026, 3, 9, 10, 0))


@pytest.mark.parametrize(
    ("freq", "weekdays", "nth"),
    [
        ("weekly", (), None),
        ("weekly", (7,), None),
        ("daily", (1,), None),
        ("monthly", (1,), 5),
        ("monthly", (1, 2), 1),
        ("monthly", (1,), None),
    ],
)
def test_inconsistent_rules_cannot_be_built(
    freq: Frequency, weekdays: tuple[int, ...], nth: int | None
) -> None:
    with pytest.raises(ValueError, match=r"recurrence|weekdays"):
        Recurrence(freq, NINE, weekdays, nth)


# ---------------------------------------------------------------------------------------------
# Describing


@pytest.mark.parametrize(
    ("rule", "de", "en"),
    [
        (Recurrence("weekly", NINE, (0,)), "jeden Montag um 09:00 Uhr", "every Monday at 09:00"),
        (
            Recurrence("weekly", NINE, (0, 3)),
            "jeden Montag und Donnerstag um 09:00 Uhr",
            "every Monday and Thursday at 09:00",
        ),
        (
            Recurrence("weekly", NINE, (0, 2, 4)),
            "jeden Montag, Mittwoch und Freitag um 09:00 Uhr",
            "every Monday, Wednesday and Friday at 09:00",
        ),
        (
            Recurrence("weekly", dt.time(7, 30), (0, 1, 2, 3, 4)),
            "werktags um 07:30 Uhr",
            "every weekday at 07:30",
        ),
        (Recurrence("daily", dt.time(8, 0)), "täglich um 08:00 Uhr", "every day at 08:00"),
        (
            Recurrence("monthly", dt.time(10, 0), (1,), 1),
            "jeden ersten Dienstag im Monat um 10:00 Uhr",
            "every first Tuesday of the month at 10:00",
        ),
        (
            Recurrence("monthly", NINE, (4,), -1),
            "jeden letzten Freitag im Monat um 09:00 Uhr",
            "every last Friday of the month at 09:00",
        ),
    ],
)
def test_recurrences_describe_themselves_in_both_languages(
    rule: Recurrence, de: str, en: str
) -> None:
    assert rule.describe("de") == de
    assert rule.describe("en") == en


def test_a_description_reads_back_as_the_same_rule() -> None:
    for rule in (
        Recurrence("weekly", NINE, (0, 3)),
        Recurrence("monthly", dt.time(10, 0), (1,), 1),
        Recurrence("monthly", NINE, (4,), -1),
        Recurrence("daily", dt.time(8, 0)),
        Recurrence("weekly", dt.time(7, 30), (0, 1, 2, 3, 4)),
    ):
        for lang in ("de", "en"):
            assert parse_recurrence(rule.describe(lang) + " x") == (rule, "x")
