"""What the evaluation reads, on SQLite and PostgreSQL: a survey's answers counted per
statement ("cannot judge" apart), participation, free texts, the measures taken on an
evaluation; and the read model's pulses and agreements' figures as the evaluation asks
for them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage import evaluation, rooms
from storage.db import Database
from storage.figures.agreements import Cohort, agreement_figures
from storage.figures.period import year
from storage.figures.votes import pulses
from storage.models import DirectRoom
from tests import evaluation_helpers as build

BERLIN = ZoneInfo("Europe/Berlin")
ROOM = "!gremium:example.org"
OTHER = "!andere:example.org"


def _rooms(s: Session) -> None:
    build.room(s, ROOM, name="Gremium Übergang Schule–Beruf")
    build.room(s, OTHER, name="Arbeitskreis Kita")


def test_statements_are_counted_per_answer_in_questionnaire_order(db: Database) -> None:
    with db.session() as s:
        _rooms(s)
        sv = build.survey(s, ROOM, 2026, invited=12, participants=7)
        build.statement(s, sv, 2, "Die Sitzungen sind gut vorbereitet.", [1, 2])
        build.statement(s, sv, 1, "Wir kommen voran.", [5, 4, 4, 3, 5, 2, 4])
        build.statement(s, sv, 3, "Niemand hat geantwortet.", [])
        assert sv.id is not None
        found = evaluation.statements(s, [sv.id])[sv.id]
    assert [st.text for st in found] == [
        "Wir kommen voran.",
        "Die Sitzungen sind gut vorbereitet.",
        "Niemand hat geantwortet.",
    ]
    assert found[0].distribution.counts == (0, 1, 1, 3, 2)
    assert found[0].distribution.answers == 7
    assert found[0].distribution.mean == 27 / 7
    assert found[1].distribution.answers == 2
    assert found[2].distribution.answers == 0
    assert found[2].distribution.mean is None


def test_the_latest_survey_of_the_year_counts_and_participants_need_one_answer(
    db: Database,
) -> None:
    with db.session() as s:
        _rooms(s)
        build.survey(s, ROOM, 2026, invited=10, participants=2)
        later = build.survey(
            s,
            ROOM,
            2026,
            invited=12,
            participants=7,
            started_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        )
        other = build.survey(s, OTHER, 2026, invited=5, participants=4)
        build.survey(s, ROOM, 2025, invited=9, participants=3)
        found = evaluation.survey_of(s, ROOM, 2026)
        assert found is not None
        assert found.id == later.id
        assert evaluation.survey_of(s, ROOM, 2024) is None
        by_room = evaluation.surveys_by_room(s, 2026, [ROOM, OTHER])
        assert {r: sv.id for r, sv in by_room.items()} == {ROOM: later.id, OTHER: other.id}
        assert later.id is not None
        assert other.id is not None
        # Each survey also has one member who was asked and answered nothing.
        assert evaluation.participants(s, [later.id, other.id]) == {later.id: 7, other.id: 4}


def test_free_texts_of_a_survey(db: Database) -> None:
    with db.session() as s:
        _rooms(s)
        sv = build.survey(s, ROOM, 2026, invited=12, participants=7)
        build.comments(s, sv, ["Mehr Pausen", "Kürzere Protokolle", "<b>Danke</b>"])
        assert sv.id is not None
        found = evaluation.comments(s, sv.id)
    assert sorted(found) == ["<b>Danke</b>", "Kürzere Protokolle", "Mehr Pausen"]


def test_closed_pulses_of_the_year_by_month_in_the_rooms_zone(db: Database) -> None:
    with db.session() as s:
        _rooms(s)
        build.pulse(s, ROOM, dt.datetime(2026, 3, 10, 17, tzinfo=dt.UTC), [4, 5, 3])
        # 23:30 UTC on 31 March is 1 April in Berlin.
        build.pulse(s, ROOM, dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC), [2, 2])
        build.pulse(s, ROOM, dt.datetime(2026, 6, 1, 17, tzinfo=dt.UTC), [5, 5, 5], closed=False)
        # New Year's Eve 23:30 UTC is already 2027 in Berlin.
        build.pulse(s, ROOM, dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), [1, 1, 1])
        build.pulse(s, ROOM, dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC), [3, 3, 3])
        build.pulse(s, ROOM, dt.datetime(2026, 9, 1, 17, tzinfo=dt.UTC), [])
        build.pulse(s, OTHER, dt.datetime(2026, 5, 5, 17, tzinfo=dt.UTC), [1, 2, 3])
        found = pulses(s, year(2026), {ROOM: BERLIN})
        both = pulses(s, year(2026), {ROOM: BERLIN, OTHER: BERLIN})
    assert [(p.month, p.distribution.answers, p.distribution.total) for p in found] == [
        (1, 3, 9),  # asked 1 January 2026, 00:30 in Berlin
        (3, 3, 12),
        (4, 2, 4),
        (9, 0, 0),
    ]
    assert {p.room_id for p in both} == {ROOM, OTHER}
    assert len(both) == 5


def test_agreement_figures_recorded_done_on_time_overdue_and_median(db: Database) -> None:
    def at(month: int, day: int, hour: int = 10) -> dt.datetime:
        return dt.datetime(2026, month, day, hour, tzinfo=BERLIN)

    with db.session() as s:
        _rooms(s)
        # Done at 23:00 on the due date: on time (the room's date decides, not UTC's).
        build.agreement(s, ROOM, at(3, 1), due=dt.date(2026, 3, 10), done_at=at(3, 10, 23))
        build.agreement(s, ROOM, at(3, 1), due=dt.date(2026, 3, 10), done_at=at(3, 12))  # late
        build.agreement(s, ROOM, at(3, 1), done_at=at(3, 5))  # no due date: on time
        build.agreement(s, ROOM, at(4, 1), due=dt.date(2026, 4, 20))  # open, overdue now
        build.agreement(s, ROOM, at(4, 1), due=dt.date(2026, 12, 20))  # open, not yet due
        build.agreement(s, ROOM, at(4, 1), cancelled=True)
        build.agreement(s, ROOM, dt.datetime(2025, 12, 31, 12, tzinfo=BERLIN))  # last year
        build.agreement(s, OTHER, at(5, 1), due=dt.date(2026, 5, 2), done_at=at(5, 2))
        now = dt.datetime(2026, 6, 1, 12, tzinfo=BERLIN)
        figures = agreement_figures(s, year(2026), {ROOM: BERLIN, OTHER: BERLIN}, now)
        nothing = agreement_figures(s, year(2024), {ROOM: BERLIN}, now)
    room = figures[ROOM]
    assert room.recorded == Cohort(total=5, done=3, on_time=2, overdue=1)
    assert room.cancelled == 1
    assert room.median_days_to_done == 9.0  # 9, 11 and 4 days
    assert figures[OTHER].done == 1
    assert figures[OTHER].median_days_to_done == 1.0
    assert nothing[ROOM].recorded == Cohort()
    assert nothing[ROOM].done == 0


def test_committee_rooms_leave_out_direct_message_rooms_and_rooms_left(db: Database) -> None:
    with db.session() as s:
        _rooms(s)
        build.room(s, "!dm-anna:example.org")
        build.room(s, "!verlassen:example.org")
        s.add(
            DirectRoom(
                user_id="@anna:example.org",
                room_id="!dm-anna:example.org",
                created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
        )
        rooms.mark_left(s, "!verlassen:example.org", at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
        s.flush()
        found = [r.room_id for r in rooms.committee_rooms(s)]
    assert found == [OTHER, ROOM]  # by name: "Arbeitskreis Kita", "Gremium …"


def test_cannot_judge_is_counted_apart_from_the_ratings(db: Database) -> None:
    with db.session() as s:
        _rooms(s)
        sv = build.survey(s, ROOM, 2026, invited=9, participants=7)
        # 0 is "kann ich nicht beurteilen".
        build.statement(s, sv, 1, "Das Bildungsbüro koordiniert gut.", [5, 0, 4, 0, 0, 2, 0])
        build.statement(s, sv, 2, "Die richtigen Personen sitzen am Tisch.", [4, 0, 0, 0, 0, 5])
        assert sv.id is not None
        coordination, people = evaluation.statements(s, [sv.id])[sv.id]
    assert coordination.distribution.counts == (0, 1, 0, 1, 1)
    assert coordination.distribution.not_judged == 4
    assert coordination.distribution.answers == 3
    assert coordination.distribution.mean == 11 / 3
    assert coordination.distribution.agreement_rate == 2 / 3
    # Two real answers and four who could not judge: below the minimum of three.
    assert people.distribution.answers == 2
    assert people.distribution.not_judged == 4
    assert not people.distribution.shown


def test_measures_are_marked_with_the_year_of_the_evaluation_they_answer(db: Database) -> None:
    def at(month: int, day: int, y: int = 2026) -> dt.datetime:
        return dt.datetime(y, month, day, 10, tzinfo=BERLIN)

    with db.session() as s:
        _rooms(s)
        assert evaluation.latest_ended(s, ROOM) is None
        build.survey(s, ROOM, 2025, invited=9, participants=5)
        ended = build.survey(s, ROOM, 2026, invited=9, participants=6)
        running = build.survey(s, OTHER, 2026, invited=4, participants=1)
        running.closed_at = None
        s.add(running)
        s.flush()
        latest = evaluation.latest_ended(s, ROOM)
        assert latest is not None
        assert latest.id == ended.id
        assert evaluation.latest_ended(s, OTHER) is None

        shorter = build.agreement(s, ROOM, at(12, 1), due=dt.date(2027, 3, 31))
        pause = build.agreement(s, ROOM, at(12, 2))
        build.agreement(s, ROOM, at(12, 3))  # an ordinary agreement
        old = build.agreement(s, ROOM, at(12, 1, 2025))
        evaluation.mark_measure(s, pause, 2026)
        evaluation.mark_measure(s, shorter, 2026)
        evaluation.mark_measure(s, old, 2025)
        evaluation.mark_measure(s, old, 2026)  # marked once: it keeps its year
        this_year = [a.id for a in evaluation.measures(s, ROOM, [2026])]
        both = [(a.measure_year, a.id) for a in evaluation.measures(s, ROOM, [2025, 2026])]
        elsewhere = evaluation.measures(s, OTHER, [2026])
    assert this_year == [shorter.id, pause.id]  # by number
    assert both == [(2025, old.id), (2026, shorter.id), (2026, pause.id)]
    assert elsewhere == []
