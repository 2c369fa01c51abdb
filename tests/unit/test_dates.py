"""Dates as committee members write them: deadlines, reminder times, durations, formatting."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from commands.core.when import When
from commands.parsing.dates import (
    format_date,
    format_datetime,
    format_when,
    parse_clock,
    parse_duration,
    parse_when,
    split_deadline,
    split_when_prefix,
)

BERLIN = ZoneInfo("Europe/Berlin")
EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "due-dates.yaml"

MONDAY_MORNING = dt.datetime(2026, 3, 9, 10, 15, tzinfo=BERLIN)
FRIDAY_BEFORE_CHRISTMAS = dt.datetime(2026, 12, 18, 16, 40, tzinfo=BERLIN)  # KW 51, 53-week year
SUNDAY_END_OF_FEBRUARY = dt.datetime(2027, 2, 28, 9, 0, tzinfo=BERLIN)  # 2027 is no leap year
LEAP_JANUARY = dt.datetime(2028, 1, 31, 12, 0, tzinfo=BERLIN)  # Monday, 2028 is a leap year


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _clock(text: str | None) -> dt.time | None:
    return None if text is None else dt.time.fromisoformat(text)


# ---------------------------------------------------------------------------------------------
# The shared examples


def _example_cases() -> list[Any]:
    data = yaml.safe_load(EXAMPLES.read_text("utf-8"))
    now = dt.datetime.fromisoformat(data["now"]).astimezone(ZoneInfo(data["tz"]))
    return [pytest.param(now, case, id=case["text"]) for case in data["cases"]]


@pytest.mark.parametrize(("now", "case"), _example_cases())
def test_every_shared_example_resolves_as_the_committee_expects(
    now: dt.datetime, case: dict[str, Any]
) -> None:
    when = parse_when(case["text"], now=now)
    if case["date"] is None:
        assert when is None
        return
    accepted = case["date"] if isinstance(case["date"], list) else [case["date"]]
    assert when is not None, case["text"]
    assert when.date in [_date(d) for d in accepted]
    assert when.time == _clock(case["time"])


def test_the_shared_examples_are_read_from_the_copy_inside_the_repository() -> None:
    assert EXAMPLES.is_file()
    assert len(yaml.safe_load(EXAMPLES.read_text("utf-8"))["cases"]) >= 50


# ---------------------------------------------------------------------------------------------
# Further cases: other strings, other "now"s

F, S, L, M = FRIDAY_BEFORE_CHRISTMAS, SUNDAY_END_OF_FEBRUARY, LEAP_JANUARY, MONDAY_MORNING
FURTHER_CASES: list[tuple[dt.datetime, str, str | None, str | None]] = [
    # weekdays: today's weekday means next week's, "diesen" includes today
    (F, "Freitag", "2026-12-25", None),
    (F, "diesen Freitag", "2026-12-18", None),
    (F, "Mo", "2026-12-21", None),
    (F, "Mo.", "2026-12-21", None),
    (F, "MONTAG", "2026-12-21", None),
    (F, "naechsten Dienstag", "2026-12-22", None),
    (F, "Dienstag der nächsten Woche", "2026-12-22", None),
    (F, "übernächsten Montag", "2026-12-28", None),
    (F, "next monday", "2026-12-21", None),
    (F, "monday next week", "2026-12-21", None),
    (S, "Sonntag", "2027-03-07", None),
    (S, "So", "2027-03-07", None),
    (S, "sunday", "2027-03-07", None),
    (S, "diesen Sonntag", "2027-02-28", None),
    (S, "kommenden Sonntag", "2027-03-07", None),
    (S, "Montag 10 Uhr", "2027-03-01", "10:00"),
    # days relative to today
    (F, "Uebermorgen", "2026-12-20", None),
    (F, "morgen um 9", "2026-12-19", "09:00"),
    (F, "tomorrow 9:30am", "2026-12-19", "09:30"),
    (S, "heute", "2027-02-28", None),
    (S, "tomorrow noon", "2027-03-01", "12:00"),
    (F, "heute 8 Uhr", "2026-12-18", "08:00"),
    (M, "morgen abend 8 Uhr", "2026-03-10", "20:00"),
    # amounts of time
    (F, "in 2 Wochen", "2027-01-01", None),
    (F, "in einem Monat", "2027-01-18", None),
    (F, "in three weeks", "2027-01-08", None),
    (F, "in 8 Stunden", "2026-12-19", "00:40"),
    (F, "in 90 Minuten", "2026-12-18", "18:10"),
    (F, "in einer halben Stunde", "2026-12-18", "17:10"),
    (L, "in einem Monat", "2028-02-29", None),
    # a bare time of day: today while it is ahead, else tomorrow
    (F, "17 Uhr", "2026-12-18", "17:00"),
    (F, "16 Uhr", "2026-12-19", "16:00"),
    (F, "um 16:40", "2026-12-18", "16:40"),
    # numeric dates and month names across the turn of the year
    (F, "6.1.", "2027-01-06", None),
    (F, "18.12.", "2026-12-18", None),
    (F, "17.12.", "2027-12-17", None),
    (F, "31.12.26", "2026-12-31", None),
    (F, "15.1", "2027-01-15", None),
    (F, "jan 6", "2027-01-06", None),
    (F, "6 Jan 2027", "2027-01-06", None),
    (F, "Fr., 8. Januar 2027", "2027-01-08", None),
    (F, "Freitag, den 8. Januar", "2027-01-08", None),
    (F, "2027-01-08T14:30", "2027-01-08", "14:30"),
    (S, "1.3.", "2027-03-01", None),
    (S, "march 1st", "2027-03-01", None),
    (S, "1st of March", "2027-03-01", None),
    (S, "am 3.", "2027-03-03", None),
    (L, "29.02.", "2028-02-29", None),
    (M, "29.02.2028", "2028-02-29", None),
    (M, "20.03. 14.30 Uhr", "2026-03-20", "14:30"),
    # ends and middles of periods
    (F, "Ende Dezember", "2026-12-31", None),
    (F, "Ende Januar", "2027-01-31", None),
    (F, "Mitte Januar", "2027-01-15", None),
    (F, "Jahresende", "2026-12-31", None),
    (F, "Ende des Jahres", "2026-12-31", None),
    (F, "Ende nächsten Monats", "2027-01-31", None),
    (F, "Ende des Quartals", "2026-12-31", None),
    (F, "end of the quarter", "2026-12-31", None),
    (F, "Ende Q1", "2027-03-31", None),
    (F, "end of january", "2027-01-31", None),
    (S, "Ende des Monats", "2027-02-28", None),
    (S, "Ende Februar", "2027-02-28", None),
    (S, "Mitte Februar", "2028-02-15", None),
    (S, "Ende der Woche", "2027-03-05", None),
    (S, "ENDE MAERZ", "2027-03-31", None),
    (S, "end of march", "2027-03-31", None),
    (S, "Ende Q4 2027", "2027-12-31", None),
    (L, "Ende Februar", "2028-02-29", None),
    (M, "Ende des 2. Quartals", "2026-06-30", None),
    (M, "Anfang nächsten Monats", "2026-04-01", None),
    (M, "mid-april", "2026-04-15", None),
    # calendar weeks: the Friday of the ISO week
    (F, "KW 1", "2027-01-08", None),
    (F, "KW 52", "2026-12-25", None),
    (F, "KW 53", "2027-01-01", None),
    (F, "kw1", "2027-01-08", None),
    (F, "in der Kalenderwoche 2", "2027-01-15", None),
    (S, "KW 9", "2027-03-05", None),
    (S, "KW 8", "2028-02-25", None),
    (M, "week 50", "2026-12-11", None),
    # never guess
    (F, "Do., 8. Januar 2027", None, None),
    (F, "29.02.2027", None, None),
    (S, "29.02.", None, None),
    (F, "31.04.", None, None),
    (F, "32.12.", None, None),
    (F, "25:00", None, None),
    (F, "12:60", None, None),
    (F, "13 pm", None, None),
    (F, "bald", None, None),
    (F, "demnaechst", None, None),
    (F, "nächste Woche", "2026-12-25", None),
    (F, "übernächste Woche", "2027-01-01", None),
    (MONDAY_MORNING, "next week", "2026-03-20", None),
    (F, "nächsten Monat", None, None),
    (F, "next month", None, None),
    (F, "April", None, None),
    (F, "morgen Abend", None, None),
    (F, "Weihnachten", None, None),
    (F, "8.30", None, None),
    (F, "morgen 10", None, None),
    (F, "", None, None),
]


@pytest.mark.parametrize(
    ("now", "text", "date", "clock"),
    [pytest.param(*case, id=f"{case[0]:%a %Y-%m-%d}: {case[1]}") for case in FURTHER_CASES],
)
def test_further_deadlines_resolve_around_year_ends_leap_years_and_sundays(
    now: dt.datetime, text: str, date: str | None, clock: str | None
) -> None:
    when = parse_when(text, now=now)
    if date is None:
        assert when is None
    else:
        assert when == When(_date(date), _clock(clock))


def test_day_and_month_without_year_is_a_date_not_a_time_of_day() -> None:
    assert parse_when("15.12.", now=MONDAY_MORNING) == When(_date("2026-12-15"))
    assert parse_when("15.12", now=MONDAY_MORNING) == When(_date("2026-12-15"))


def test_a_time_of_day_with_a_day_is_kept_even_when_already_past() -> None:
    assert parse_when("heute 8 Uhr", now=MONDAY_MORNING) == When(_date("2026-03-09"), dt.time(8, 0))


def test_hours_from_now_count_elapsed_time_across_the_spring_dst_switch() -> None:
    before_switch = dt.datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)
    assert parse_when("in 3 Stunden", now=before_switch) == When(
        _date("2026-03-29"), dt.time(5, 30)
    )


def test_lead_words_of_a_deadline_are_ignored() -> None:
    for text in (
        "bis Freitag",
        "am Freitag",
        "zum Freitag",
        "by friday",
        "until Friday",
        "bis spätestens Freitag",
        "spaetestens Freitag",
    ):
        assert parse_when(text, now=MONDAY_MORNING) == When(_date("2026-03-13")), text


def test_trailing_filler_word_is_left_to_the_following_text() -> None:
    assert parse_when("morgen den", now=MONDAY_MORNING) is None


def test_languages_restrict_the_vocabulary() -> None:
    assert parse_when("tomorrow", now=MONDAY_MORNING, languages=("de",)) is None
    assert parse_when("morgen", now=MONDAY_MORNING, languages=("en",)) is None
    assert parse_when("morgen", now=MONDAY_MORNING, languages=("de",)) is not None


def test_numeric_layouts_without_an_own_rule_go_to_dateparser() -> None:
    assert parse_when("2026/12/04", now=MONDAY_MORNING) == When(_date("2026-12-04"))
    assert parse_when("04-12-2026", now=MONDAY_MORNING) == When(_date("2026-12-04"))


def test_a_number_range_is_not_mistaken_for_a_date() -> None:
    assert parse_when("1-2", now=MONDAY_MORNING) is None
    assert split_when_prefix("1-2 Leute anrufen", now=MONDAY_MORNING) is None


def test_garbage_never_reaches_dateparser_and_returns_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dateparser

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("dateparser must not see this")

    monkeypatch.setattr(dateparser, "parse", refuse)
    garbage = [
        "Protokoll",
        "demnächst",
        "bald",
        "xyzzy foo bar baz",
        "Raum buchen 5",
        "Die Tagesordnung für die nächste Sitzung verschicken " * 5,
        "15.12. Haushalt",
        "morgen 10 Leute",
    ]
    started = time.perf_counter()
    for _ in range(20):
        for text in garbage:
            assert parse_when(text, now=MONDAY_MORNING) is None
    per_call = (time.perf_counter() - started) / (20 * len(garbage))
    assert per_call < 0.01  # generous: a call takes tens of microseconds


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("morgen", now=dt.datetime(2026, 3, 9, 10, 15))


def test_when_at_uses_the_default_time_and_moves_out_of_a_dst_gap() -> None:
    assert When(_date("2026-03-10")).at(dt.time(9, 0), BERLIN) == dt.datetime(
        2026, 3, 10, 9, 0, tzinfo=BERLIN
    )
    assert When(_date("2026-03-10"), dt.time(14, 0)).at(dt.time(9, 0), BERLIN).hour == 14
    gap = When(_date("2026-03-29"), dt.time(2, 30)).at(dt.time(9, 0), BERLIN)
    assert (gap.hour, gap.minute, gap.utcoffset()) == (3, 30, dt.timedelta(hours=2))


def test_parse_clock_reads_only_a_time_of_day() -> None:
    assert parse_clock("9:00") == dt.time(9, 0)
    assert parse_clock("um 14.30 Uhr") == dt.time(14, 30)
    assert parse_clock("3pm") == dt.time(15, 0)
    assert parse_clock("9") is None
    assert parse_clock("morgen 9 Uhr") is None
    assert parse_clock("24:61") is None


# ---------------------------------------------------------------------------------------------
# Durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 tage", dt.timedelta(days=3)),
        ("2 Wochen", dt.timedelta(weeks=2)),
        ("1 Stunde", dt.timedelta(hours=1)),
        ("drei Tage", dt.timedelta(days=3)),
        ("3 days", dt.timedelta(days=3)),
        ("2h", dt.timedelta(hours=2)),
        ("30 min", dt.timedelta(minutes=30)),
        ("1,5 Stunden", dt.timedelta(minutes=90)),
        ("2h 30min", dt.timedelta(minutes=150)),
        ("1 Tag und 2 Stunden", dt.timedelta(days=1, hours=2)),
        ("eine halbe Stunde", dt.timedelta(minutes=30)),
        ("half an hour", dt.timedelta(minutes=30)),
        ("a week", dt.timedelta(weeks=1)),
        ("eine Woche", dt.timedelta(weeks=1)),
        ("in 2 Tagen", dt.timedelta(days=2)),
        ("zehn Minuten", dt.timedelta(minutes=10)),
        ("2 Std.", dt.timedelta(hours=2)),
    ],
)
def test_durations_in_both_languages_become_timedeltas(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["3", "Tage", "1 Monat", "bald", "", "0 Tage", "drei"])
def test_durations_without_a_fixed_length_or_a_unit_are_refused(text: str) -> None:
    assert parse_duration(text) is None


# ---------------------------------------------------------------------------------------------
# "!erinnere <wann> <text>"


@pytest.mark.parametrize(
    ("text", "date", "clock", "rest"),
    [
        ("morgen 10 Uhr Raum buchen", "2026-03-10", "10:00", "Raum buchen"),
        ("in 2 Wochen Bericht", "2026-03-23", None, "Bericht"),
        ("15.12. Haushalt", "2026-12-15", None, "Haushalt"),
        ("morgen: Raum buchen", "2026-03-10", None, "Raum buchen"),
        ("am Freitag um 14 Uhr - Sitzung planen", "2026-03-13", "14:00", "Sitzung planen"),
        ("Do Raum buchen", "2026-03-12", None, "Raum buchen"),
        ("am Freitag den Raum buchen", "2026-03-13", None, "den Raum buchen"),
        ("morgen 10 Leute einladen", "2026-03-10", None, "10 Leute einladen"),
        ("tomorrow at 3pm call the mayor", "2026-03-10", "15:00", "call the mayor"),
        ("Ende März Haushalt prüfen", "2026-03-31", None, "Haushalt prüfen"),
        ("morgen", "2026-03-10", None, ""),
    ],
)
def test_reminder_takes_the_longest_leading_date_and_keeps_the_rest_verbatim(
    text: str, date: str, clock: str | None, rest: str
) -> None:
    assert split_when_prefix(text, now=MONDAY_MORNING) == (When(_date(date), _clock(clock)), rest)


@pytest.mark.parametrize("text", ["Raum buchen", "do the thing", "so bald wie möglich", ""])
def test_reminder_text_without_a_leading_date_is_not_split(text: str) -> None:
    assert split_when_prefix(text, now=MONDAY_MORNING) is None


# ---------------------------------------------------------------------------------------------
# "!verabredung <text> [bis <wann>]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Liste bis auf Weiteres prüfen bis Freitag", ("Liste bis auf Weiteres prüfen", "Freitag")),
        ("Bericht schreiben bis zum 5.1.", ("Bericht schreiben", "5.1.")),
        ("Bericht bis spätestens am Freitag", ("Bericht", "Freitag")),
        ("Einladung zum Sommerfest bis Ende März", ("Einladung zum Sommerfest", "Ende März")),
        ("Gespräch mit der Schulleitung am Freitag", ("Gespräch mit der Schulleitung", "Freitag")),
        (
            "Haushaltsentwurf kommentieren, spätestens KW 14",
            ("Haushaltsentwurf kommentieren", "KW 14"),
        ),
        ("Send the minutes by next friday", ("Send the minutes", "next friday")),
        (
            "Zahlen von 2020 bis 2024 vergleichen bis 20.3.",
            ("Zahlen von 2020 bis 2024 vergleichen", "20.3."),
        ),
    ],
)
def test_deadline_is_taken_from_the_last_marker_followed_by_a_date(
    text: str, expected: tuple[str, str]
) -> None:
    assert split_deadline(text, now=MONDAY_MORNING) == expected


def test_an_unreadable_short_date_after_bis_is_still_handed_back_for_asking() -> None:
    assert split_deadline("Bericht bis irgendwann mal", now=MONDAY_MORNING) == (
        "Bericht",
        "irgendwann mal",
    )
    assert split_deadline("Report by the end of days", now=MONDAY_MORNING) == (
        "Report",
        "the end of days",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Einladung zum Sommerfest verschicken",
        "Treffen am Rathaus vorbereiten",
        "Liste bis auf Weiteres prüfen",
        "Bericht bis zur nächsten Sitzung des Ausschusses für Schule und Sport",
        "Protokoll verschicken",
    ],
)
def test_text_without_a_deadline_comes_back_whole(text: str) -> None:
    assert split_deadline(text, now=MONDAY_MORNING) == (text, None)


# ---------------------------------------------------------------------------------------------
# Formatting


def test_dates_are_written_out_in_german_and_english_without_the_system_locale() -> None:
    assert format_date(_date("2026-12-04"), "de") == "Fr., 4. Dezember 2026"
    assert format_date(_date("2026-12-04"), "en") == "Fri, 4 December 2026"
    assert format_date(_date("2026-03-09"), "de") == "Mo., 9. März 2026"
    assert format_date(_date("2026-03-09"), "en") == "Mon, 9 March 2026"


def test_a_named_time_is_added_to_the_written_date() -> None:
    assert format_when(When(_date("2026-12-04")), "de") == "Fr., 4. Dezember 2026"
    assert format_when(When(_date("2026-12-04"), dt.time(10, 0)), "de") == (
        "Fr., 4. Dezember 2026, 10:00 Uhr"
    )
    assert format_when(When(_date("2026-12-04"), dt.time(10, 0)), "en") == (
        "Fri, 4 December 2026, 10:00"
    )


def test_datetimes_are_written_in_their_own_time_zone() -> None:
    moment = dt.datetime(2026, 12, 4, 9, 5, 59, tzinfo=BERLIN)
    assert format_datetime(moment, "de") == "Fr., 4. Dezember 2026, 09:05 Uhr"
    assert format_datetime(moment, "en") == "Fri, 4 December 2026, 09:05"


def test_what_the_bot_writes_reads_back_as_the_same_date() -> None:
    day = _date("2026-03-09")
    for offset in range(400):
        current = day + dt.timedelta(days=offset)
        for lang in ("de", "en"):
            when = parse_when(format_date(current, lang), now=MONDAY_MORNING)
            assert when == When(current), format_date(current, lang)
