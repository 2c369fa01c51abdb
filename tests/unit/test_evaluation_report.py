"""The committee's evaluation report: what the chair reads after `!auswertung`, what the
coordination reads after `!auswertung alle`, and what nobody may read."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from matplotlib.image import imread
from sqlalchemy import event
from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.defaults import Defaults
from commands.core.effects import AnyEffect, File, Image, Reply
from commands.core.errors import CommandError
from commands.evaluation.report import report
from storage.db import Database
from storage.models import DirectRoom
from tests import evaluation_helpers as build
from tests.dialog import ANNA, BERLIN, CHAIR, COORDINATOR, REGISTRY

ROOM = "!gremium:example.org"
KITA = "!kita:example.org"
SCHULE = "!schule:example.org"
# Mid-December 2026: the survey of November is closed, the year nearly over.
NOW = dt.datetime(2026, 12, 15, 10, 0, tzinfo=BERLIN)
PROGRESS = "Wir kommen in unseren Themen voran."
PREPARED = "Die Sitzungen sind gut vorbereitet."


def context(
    s: Session,
    *,
    role: Role = Role.CHAIR,
    lang: str = "de",
    room: str = ROOM,
    sender: str = CHAIR,
) -> Context:
    """The Context `!auswertung` gets in `room`, as bot.runtime.incoming builds it."""
    return Context(
        room_id=room,
        sender=sender,
        event_id="$auswertung",
        now=NOW,
        db=s,
        registry=REGISTRY,
        lang=lang,
        tz=BERLIN,
        defaults=Defaults(),
        role=role,
        coordinators=frozenset({COORDINATOR}),
    )


def replies(effects: list[AnyEffect]) -> str:
    return "\n".join(e.body for e in effects if isinstance(e, Reply))


def lines(effects: list[AnyEffect]) -> list[str]:
    return replies(effects).splitlines()


def refusal(ctx: Context, args: str) -> str:
    """What the member reads when the report is refused (as the registry renders it)."""
    with pytest.raises(CommandError) as caught:
        report(ctx, args)
    # The registry names the refused command in a refusal of rights.
    values = {"command": f"!auswertung {args}".strip(), **caught.value.values}
    return i18n.plain(ctx.lang, caught.value.key, **values)


def at(month: int, day: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, 18, 0, tzinfo=BERLIN)


def committee_year(s: Session, *, comments: int = 3) -> None:
    """The year of the committee on transition from school to work, and the year before."""
    build.room(s, ROOM, name="Gremium Übergang Schule–Beruf")
    survey = build.survey(s, ROOM, 2026, invited=12, participants=7)
    build.statement(s, survey, 1, PROGRESS, [5, 4, 4, 3, 5, 2, 4])
    build.statement(s, survey, 2, PREPARED, [1, 2])
    texts = ["Mehr Zeit für Austausch", "Protokolle früher verschicken", "<b>Danke!</b>"]
    build.comments(s, survey, texts[:comments])
    before = build.survey(s, ROOM, 2025, invited=10, participants=5)
    build.statement(s, before, 1, PROGRESS, [3, 3, 4])
    build.statement(s, before, 2, PREPARED, [5, 5])

    build.pulse(s, ROOM, at(3, 2), [4, 5, 3])
    build.pulse(s, ROOM, at(3, 23), [3, 3, 4])
    build.pulse(s, ROOM, at(5, 11), [5, 5, 4])
    build.pulse(s, ROOM, at(9, 14), [2, 3, 3, 2])
    build.pulse(s, ROOM, at(10, 12), [1, 5])  # too few answers to count

    build.agreement(s, ROOM, at(3, 1), due=dt.date(2026, 3, 10), done_at=at(3, 9))  # on time
    build.agreement(s, ROOM, at(3, 1), due=dt.date(2026, 3, 10), done_at=at(3, 14))  # late
    build.agreement(s, ROOM, at(3, 1), done_at=at(3, 4))  # no due date: on time
    build.agreement(s, ROOM, at(4, 1), due=dt.date(2026, 4, 20))  # open and overdue
    build.agreement(s, ROOM, at(11, 1), due=dt.date(2027, 1, 31))  # open, not yet due
    build.agreement(s, ROOM, at(5, 1, 2025), due=dt.date(2025, 5, 9), done_at=at(5, 8, 2025))
    build.agreement(s, ROOM, at(6, 1, 2025), done_at=at(6, 3, 2025))


# ---------------------------------------------------------------------------- room report


def test_the_chair_reads_participation_statements_pulses_and_agreements_with_last_year(
    sqlite_db: Database,
) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        shown = lines(report(context(s), ""))
    assert shown[0] == "Auswertung 2026 – Gremium Übergang Schule–Beruf"
    assert "7 von 12 Mitgliedern haben teilgenommen (58 %). (Vorjahr: 50 %)" in shown
    progress = shown.index("1. Wir kommen in unseren Themen voran.")
    # The agreement rate beside the mean, and both of the year before.
    assert shown[progress + 1] == (
        "Mittelwert 3,9 von 5 aus 7 Antworten · 71 % stimmen zu"
        " · Verteilung 1: 0 · 2: 1 · 3: 1 · 4: 3 · 5: 2 (Vorjahr: 3,3 / 33 %)"
    )
    assert "März: Mittelwert 3,7 (2 Pulse)" in shown
    assert "Mai: Mittelwert 4,7 (1 Puls)" in shown
    assert "September: Mittelwert 2,5 (1 Puls)" in shown
    assert "Im ganzen Jahr: Mittelwert 3,5 aus 4 Pulsen." in shown
    assert "Pulse mit weniger als 3 Stimmen (nicht gezählt): 1" in shown
    assert "Oktober" not in "\n".join(shown)
    # The read model's cohorts, in the words of every report (figure_lines).
    assert "• 5 festgehalten, davon 3 erledigt, 2 fristgerecht, 1 überfällig" in shown
    assert "• 1 von 3 im Zeitraum fälligen fristgerecht erledigt (33 %) (Vorjahr: 100 %)" in shown
    assert (
        "• 3 im Zeitraum erledigt, davon 2 fristgerecht; im Median 8,0 Tage vom Festhalten"
        " bis erledigt" in shown
    )


def test_a_statement_with_two_answers_shows_only_its_count(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        shown = lines(report(context(s), "2026"))
    prepared = shown.index("2. Die Sitzungen sind gut vorbereitet.")
    assert shown[prepared + 1] == (
        "2 Antworten – Mittelwert und Verteilung zeige ich erst ab 3 Antworten."
    )


def test_three_free_texts_are_all_shown_escaped(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s, comments=3)
        [message, _chart] = report(context(s), "")
    assert isinstance(message, Reply)
    assert "Freitext – Was sollten wir ändern?" in message.body
    shown = message.body.splitlines()
    start = shown.index("Freitext – Was sollten wir ändern?") + 1
    free = sorted(shown[start : shown.index("", start)])
    assert free == [
        "• <b>Danke!</b>",
        "• Mehr Zeit für Austausch",
        "• Protokolle früher verschicken",
    ]
    assert "&lt;b&gt;Danke!&lt;/b&gt;" in message.html
    assert "<b>Danke!</b>" not in message.html


def test_two_free_texts_are_not_shown_so_nobody_is_recognised(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s, comments=2)
        shown = replies(report(context(s), ""))
    assert (
        "2 Freitext-Antworten – ich zeige sie erst ab 3 Antworten, damit niemand erkennbar ist."
        in shown
    )
    assert "Mehr Zeit für Austausch" not in shown
    assert "Protokolle früher verschicken" not in shown


def test_the_report_names_no_member(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        effects = report(context(s), "")
    for effect in effects:
        body = effect.body if isinstance(effect, Reply) else ""
        caption = effect.caption.plain if isinstance(effect, File) and effect.caption else ""
        for shown in (body, caption):
            assert "@" not in shown
            assert "example.org" not in shown
            assert "mitglied0" not in shown  # the local part of the members' IDs


def test_a_year_without_survey_still_shows_pulses_and_agreements(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        build.room(s, KITA, name="Arbeitskreis Kita")
        build.pulse(s, KITA, at(2, 3), [4, 4, 5])
        build.agreement(s, KITA, at(2, 3), due=dt.date(2026, 2, 20), done_at=at(2, 18))
        shown = lines(report(context(s, room=KITA), ""))
    assert "Für 2026 gab es in diesem Gremium keine Jahresbefragung." in shown
    assert "Februar: Mittelwert 4,3 (1 Puls)" in shown
    assert "• 1 festgehalten, davon 1 erledigt, 1 fristgerecht, 0 überfällig" in shown
    assert "• 1 von 1 im Zeitraum fälligen fristgerecht erledigt (100 %)" in shown
    assert not any("Vorjahr" in line for line in shown)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de", "1 von 4 Mitgliedern hat teilgenommen (25 %)."),
        ("en", "1 of 4 members took part (25%)."),
    ],
)
def test_one_participant_is_counted_in_the_singular(
    sqlite_db: Database, lang: str, expected: str
) -> None:
    with sqlite_db.session() as s:
        build.room(s, KITA, name="Arbeitskreis Kita")
        survey = build.survey(s, KITA, 2026, invited=4, participants=1, started_at=at(12, 10))
        build.statement(s, survey, 0, PROGRESS, [4])
        s.flush()
        shown = replies(report(context(s, room=KITA, lang=lang), ""))
    assert expected in shown
    assert ("1 Antwort –" if lang == "de" else "1 answer –") in shown


def test_a_running_survey_shows_its_participation_only(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        build.room(s, KITA, name="Arbeitskreis Kita")
        survey = build.survey(s, KITA, 2026, invited=4, participants=3, started_at=at(12, 10))
        build.statement(s, survey, 0, PROGRESS, [4, 5, 2])
        survey.closed_at = None
        s.add(survey)
        s.flush()
        effects = report(context(s, room=KITA), "")
        overview = replies(report(context(s, role=Role.COORDINATION, room=KITA), "alle"))
    shown = replies(effects)
    assert "Die Jahresbefragung läuft noch bis Do., 24. Dezember 2026, 18:00 Uhr" in shown
    assert "3 von 4 Mitgliedern haben teilgenommen (75 %)." in shown
    assert PROGRESS not in shown
    assert "Mittelwert 3,7" not in shown
    assert "Verteilung 1:" not in shown
    assert not any(isinstance(e, File) for e in effects)  # no chart of its means either
    assert "Teilnahme 75 % (3/4) · Aussagen läuft noch" in overview


def test_an_english_room_reads_the_report_in_english(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        shown = lines(report(context(s, lang="en"), ""))
    assert shown[0] == "Evaluation 2026 – Gremium Übergang Schule–Beruf"
    assert "7 of 12 members took part (58%). (previous year: 50%)" in shown
    assert (
        "Mean 3.9 of 5 from 7 answers · 71% agree · distribution 1: 0 · 2: 1 · 3: 1 · 4: 3"
        " · 5: 2 (previous year: 3.3 / 33%)" in shown
    )
    assert "March: mean 3.7 (2 pulses)" in shown
    assert "• 5 recorded, 3 of them done, 2 on time, 1 overdue" in shown


def test_last_years_report_compares_with_the_year_before_it(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        shown = lines(report(context(s), "2025"))
    assert shown[0] == "Auswertung 2025 – Gremium Übergang Schule–Beruf"
    assert "5 von 10 Mitgliedern haben teilgenommen (50 %)." in shown
    assert (
        "Mittelwert 3,3 von 5 aus 3 Antworten · 33 % stimmen zu"
        " · Verteilung 1: 0 · 2: 0 · 3: 2 · 4: 1 · 5: 0" in shown
    )
    assert "• 2 festgehalten, davon 2 erledigt, 2 fristgerecht, 0 überfällig" in shown


# ---------------------------------------------------------------------------------- chart


def test_the_chart_comes_as_a_picture_to_the_room_drawn_for_high_density_screens(
    sqlite_db: Database,
) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        [_message, chart] = report(context(s), "")
    assert isinstance(chart, Image)  # shown in the timeline, not offered for download
    assert chart.filename == "auswertung-2026.png"
    assert chart.mimetype == "image/png"
    assert chart.room_id is None  # the command's room
    assert chart.to_user is None
    assert chart.caption is not None
    assert chart.caption.plain == "Auswertung 2026 – Gremium Übergang Schule–Beruf"
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = imread(io.BytesIO(chart.data), format="png")
    height, width = pixels.shape[:2]
    assert (chart.width, chart.height) == (width, height)
    # 11 inches at 144 pixels per inch: twice a plain screen's, sharp on a high-density one.
    assert width == 1584
    assert 300 <= height <= 1600


def test_no_chart_when_there_is_nothing_to_draw(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        build.room(s, KITA, name="Arbeitskreis Kita")
        effects = report(context(s, room=KITA), "")
    assert [type(e) for e in effects] == [Reply]
    assert "Im Zeitraum wurde keine Verabredung festgehalten, fällig oder erledigt." in replies(
        effects
    )


# ------------------------------------------------------------------------ all committees


def test_the_coordination_sees_all_committees_one_line_each(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        build.room(s, KITA, name="Arbeitskreis Kita")
        build.pulse(s, KITA, at(2, 3), [4, 4, 5])
        build.agreement(s, KITA, at(2, 3), due=dt.date(2026, 2, 20))
        build.room(s, SCHULE, name="Schulkonferenz <Nord>")
        survey = build.survey(s, SCHULE, 2026, invited=8, participants=2)
        build.statement(s, survey, 1, PROGRESS, [4, 5])
        build.room(s, "!dm-anna:example.org")
        s.add(DirectRoom(user_id=ANNA, room_id="!dm-anna:example.org", created_at=NOW))
        s.flush()
        [message] = report(context(s, role=Role.COORDINATION, sender=COORDINATOR), "alle")
    assert isinstance(message, Reply)
    shown = message.body.splitlines()
    assert shown[0] == "Auswertung 2026 – alle Gremien (3)"
    committees = shown[3:]
    assert committees == [
        "Arbeitskreis Kita: Teilnahme – · Aussagen – · Puls 4,3 · Verabredungen: 1 festgehalten,"
        " davon 0 erledigt, 0 fristgerecht, 1 überfällig; 0 von 1 im Zeitraum fälligen"
        " fristgerecht erledigt (0 %)",
        "Gremium Übergang Schule–Beruf: Teilnahme 58 % (7/12), Vorjahr 50 %"
        " · Aussagen 3,9, 71 % stimmen zu, Vorjahr 3,3 / 33 % · Puls 3,5"
        " · Verabredungen: 5 festgehalten, davon 3 erledigt, 2 fristgerecht, 1 überfällig;"
        " 1 von 3 im Zeitraum fälligen fristgerecht erledigt (33 %)",
        # Two answers to the only statement: no mean.
        "Schulkonferenz <Nord>: Teilnahme 25 % (2/8) · Aussagen – · Puls –"
        " · Verabredungen: 0 festgehalten, davon 0 erledigt, 0 fristgerecht, 0 überfällig;"
        " im Zeitraum noch keine Frist abgelaufen",
    ]
    assert "dm-anna" not in message.body
    assert "Schulkonferenz &lt;Nord&gt;" in message.html


def test_all_committees_for_an_earlier_year(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        shown = replies(report(context(s, role=Role.COORDINATION), "all 2025"))
    assert "Auswertung 2025 – alle Gremien (1)" in shown
    assert "Teilnahme 50 % (5/10) · Aussagen 3,3, 33 % stimmen zu · Puls – · Verabredungen: 2" in (
        shown
    )


# ------------------------------------------------------------------------------ refusals


def test_a_period_that_cannot_be_read_gets_the_list_of_forms(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        answer = refusal(context(s), "20x6")
    assert answer == i18n.plain("de", "period.unreadable", value="20x6")
    assert "`Q1 2026`, `1. Quartal`" in answer


def test_a_year_before_the_bot_is_refused(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        answer = refusal(context(s), "1999")
    assert (
        answer == "Der Zeitraum „1999“ geht nicht: Ein Zeitraum muss zwischen 2000 und 2036 liegen."
    )


def test_a_year_that_has_not_begun_is_refused(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        answer = refusal(context(s), "2027")
    assert answer.startswith("Der Zeitraum „2027“ hat noch nicht begonnen.")


def test_a_member_may_not_read_the_report(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        answer = refusal(context(s, role=Role.MEMBER, sender=ANNA), "")
    assert answer == i18n.plain("de", "permission.needs_chair", command="!auswertung")


def test_a_chair_may_not_read_all_committees(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        answer = refusal(context(s, role=Role.CHAIR), "alle")
    assert answer == i18n.plain("de", "permission.needs_coordination", command="!auswertung alle")


# --------------------------------------------------------------------------- performance


@contextmanager
def counted_queries(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        sql = str(args[2])
        if not sql.startswith("BEGIN"):  # the transaction, not a query
            statements.append(sql)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def busy_year(s: Session, room: str, agreements: int, pulses: int) -> None:
    build.room(s, room, name=room)
    survey = build.survey(s, room, 2026, invited=20, participants=15)
    for position in range(8):
        build.statement(s, survey, position, f"Aussage {position}", [3, 4, 5, 4])
    build.comments(s, survey, ["a", "b", "c", "d"])
    for i in range(pulses):
        build.pulse(s, room, at(1 + i % 12, 1 + i % 28), [3, 4, 5, 2, 4])
    for i in range(agreements):
        done = at(1 + i % 11, 20) if i % 3 else None
        build.agreement(s, room, at(1 + i % 11, 1), due=dt.date(2026, 1 + i % 11, 15), done_at=done)


def test_a_busy_year_is_reported_in_a_bounded_number_of_queries(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        busy_year(s, KITA, agreements=3, pulses=2)
        busy_year(s, ROOM, agreements=300, pulses=50)
        s.commit()
        with counted_queries(sqlite_db) as small:
            report(context(s, room=KITA), "")
        with counted_queries(sqlite_db) as busy:
            effects = report(context(s, room=ROOM), "")
        with counted_queries(sqlite_db) as overview:
            report(context(s, role=Role.COORDINATION), "alle")
    assert "• 300 festgehalten" in replies(effects)
    assert len(busy) == len(small)
    assert len(busy) <= 15
    assert len(overview) <= 15
