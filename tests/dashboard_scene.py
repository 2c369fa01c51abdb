"""A year of fifteen committees, as the coordination's dashboard shows them: a few hundred
agreements (done on time, done late, cancelled, open, overdue with and without a reason,
owners with and without an office), a pulse a month with from two to nine answers, the
year's evaluation (some statements and committees below the minimum of answers), planned
meetings, running circulations, possible duplicate work across committees, one known
overdue agreement (its office, due date and reason looked for) and one overdue agreement
whose text and reason are hostile HTML. Written the way the bot writes it (tests/seed.py).

Everything is placed relative to `now`: the unit tests use a fixed day, the Synapse and
browser tests (which run the bot on the real clock) the moment they start. The rooms are
made-up IDs, or the test homeserver's real rooms the bot already sits in.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from storage import decisions, meetings, offices
from storage.db import Database
from storage.models import AgreementStatus, Decision, DecisionKind, DecisionOutcome, PollKind
from tests import seed
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR

NAMES = (
    "Steuerungsgruppe Bildung",
    "Arbeitskreis Übergang Schule–Beruf",
    "Beirat Frühe Bildung",
    "AG Ganztag",
    "Netzwerk Sprachförderung",
    "Fachforum Inklusion",
    "Runder Tisch Jugendhilfe",
    "AG Bildungsmonitoring",
    "Lenkungskreis Digitalisierung",
    "Forum Elternarbeit",
    "AG Berufsorientierung",
    "Netzwerk Kulturelle Bildung",
    "Arbeitskreis Schulsozialarbeit",
    "Beirat Erwachsenenbildung",
    "AG Bildungsberatung",
)
# The offices of the owners (`!amt`): Carla has none ("Amt nicht angegeben").
OFFICES = {ANNA: "Amt 40 – Schulverwaltung", BEN: "Amt 51 – Jugendamt"}
OWNERS = (ANNA, BEN, CARLA)
PER_COMMITTEE = 24
REASON = "Zahlen des Landesamts kommen erst im Januar"
# Open in two committees, nearly word for word: possible duplicate work.
TWIN = "Daten zu Schulabgängern ohne Abschluss aufbereiten und vorstellen"
TWIN_ALIKE = "Datenbasis Schulabgänger ohne Abschluss aufbereiten und vorstellen"
# An overdue agreement whose text and reason a member wrote as HTML: shown as text, never
# as markup. Were the widget ever to insert it as HTML, the page would gain an <img>, a <b>
# or a <script> and set window.__pwned.
HOSTILE_TEXT = (
    '<img src=x onerror="window.__pwned=1"> Schulentwicklungsplan & '
    "<script>window.__pwned=2</script> abstimmen"
)
HOSTILE_REASON = '<b onmouseover="window.__pwned=3">Kreis</b> antwortet nicht'
HOSTILE_COMMITTEE = NAMES[4]
# A known overdue agreement, looked for by its text: Anna's, so her office is shown.
KNOWN_TEXT = "Mensavertrag für den Ganztag neu ausschreiben"
KNOWN_COMMITTEE = NAMES[3]  # AG Ganztag
KNOWN_OFFICE = OFFICES[ANNA]
KNOWN_REASON = "Die Vergabestelle prüft noch die Unterlagen."
STATEMENTS = (
    "Die Sitzungen sind gut vorbereitet.",
    "Verabredungen werden eingehalten.",
    "Ich weiß, was aus unseren Verabredungen geworden ist.",
)


@dataclass
class Scene:
    now: dt.datetime
    # Room ID -> the committee's name, in the order built.
    rooms: dict[str, str] = field(default_factory=dict)
    # The room whose agreement text is HTML, and that agreement's number.
    hostile: tuple[str, int] = ("", 0)
    # The known overdue agreement's room, number and due date.
    known: tuple[str, int] = ("", 0)
    known_due: dt.date = dt.date.min


def room_ids(prefix: str = "!gremium") -> list[str]:
    return [f"{prefix}{i:02d}:example.org" for i in range(len(NAMES))]


def build(db: Database, rooms: Sequence[str] | None = None, *, now: dt.datetime) -> Scene:
    """Write the scene into `db` for `now`: into the rooms given (named in NAMES' order; a
    room the bot already has keeps its row), else into made-up ones."""
    ids = list(rooms) if rooms is not None else room_ids()
    assert len(ids) == len(NAMES)
    rng = random.Random(24)
    scene = Scene(now=now)
    local = now
    with db.session() as s:
        for user, office in OFFICES.items():
            offices.set_office(s, user, office, by=COORDINATOR, at=now - dt.timedelta(days=300))
        for index, (room_id, name) in enumerate(zip(ids, NAMES, strict=True)):
            row = seed.room(s, room_id, name=name)
            # In the room long before the year began (a room the bot has just joined too):
            # nothing written here counts as history from before its join.
            row.joined_at = seed.LONG_AGO
            s.add(row)
            scene.rooms[room_id] = name
            numbers = _agreements(s, room_id, index, rng, local)
            if name == HOSTILE_COMMITTEE:
                a = seed.agreement(
                    s, room_id, HOSTILE_TEXT, by=CHAIR, at=local - dt.timedelta(days=20),
                    owners=[CARLA], due=(local - dt.timedelta(days=3)).date(),
                    number=numbers + 1,
                )  # fmt: skip
                assert a.id is not None
                seed.change(s, a.id, at=now - dt.timedelta(days=1), delay_reason=HOSTILE_REASON)
                scene.hostile = (room_id, a.number)
            if name == KNOWN_COMMITTEE:
                due = (local - dt.timedelta(days=40)).date()
                a = seed.agreement(
                    s, room_id, KNOWN_TEXT, by=CHAIR, at=local - dt.timedelta(days=90),
                    owners=[ANNA], due=due, number=numbers + 1,
                )  # fmt: skip
                assert a.id is not None
                seed.change(s, a.id, at=now - dt.timedelta(days=5), delay_reason=KNOWN_REASON)
                scene.known, scene.known_due = (room_id, a.number), due
            if index in (1, 7):
                seed.agreement(
                    s, room_id, TWIN if index == 1 else TWIN_ALIKE, by=CHAIR,
                    at=local - dt.timedelta(days=40), owners=[ANNA],
                    due=(local + dt.timedelta(days=30)).date(), number=numbers + 2,
                )  # fmt: skip
            _pulses(s, room_id, index, local)
            _meetings(s, room_id, index, local)
        _evaluation(s, ids, local)
    return scene


def _agreements(s: Session, room_id: str, index: int, rng: random.Random, now: dt.datetime) -> int:
    """The committee's year of agreements; how many were recorded."""
    count = PER_COMMITTEE + index % 5
    for n in range(count):
        created = now - dt.timedelta(days=rng.randrange(3, 360), hours=rng.randrange(0, 8))
        due = None if n % 11 == 0 else created.date() + dt.timedelta(days=rng.randrange(5, 80))
        kind = (n + index) % 7
        status = AgreementStatus.OPEN
        closed: dt.datetime | None = None
        if kind in (0, 1, 2) and due is not None:  # done on time
            day = min(due, created.date() + dt.timedelta(days=rng.randrange(1, 15)))
            closed = dt.datetime.combine(day, dt.time(16, 0), tzinfo=now.tzinfo)
            status = AgreementStatus.DONE
        elif kind == 3 and due is not None:  # done late
            closed = dt.datetime.combine(due, dt.time(9, 0), tzinfo=now.tzinfo) + dt.timedelta(
                days=rng.randrange(1, 20)
            )
            status = AgreementStatus.DONE
        elif kind == 4:
            closed = created + dt.timedelta(days=4)
            status = AgreementStatus.CANCELLED
        if closed is not None and closed >= now:
            closed, status = None, AgreementStatus.OPEN
        a = seed.agreement(
            s,
            room_id,
            f"Vorhaben {n + 1} der {NAMES[index]}",
            by=CHAIR,
            at=created,
            owners=[OWNERS[(n + index) % 3]] if n % 5 else [],
            due=due,
            status=status,
            closed_at=closed,
            number=n + 1,
        )
        if status == AgreementStatus.OPEN and n % 3 == 0:
            assert a.id is not None
            seed.change(s, a.id, at=created, delay_reason=REASON)
    return count


def _pulses(s: Session, room_id: str, index: int, now: dt.datetime) -> None:
    """A pulse on the 3rd of each of the last twelve months, this one included once asked:
    two to nine answers (two: not shown)."""
    for back in range(12):
        year, month = divmod(now.year * 12 + now.month - 1 - back, 12)
        asked = dt.datetime(year, month + 1, 3, 9, 0, tzinfo=now.tzinfo)
        if asked + dt.timedelta(hours=2) > now:
            continue  # this month's pulse is still to come
        answers = 2 + (back + index) % 8
        scores = [1 + (back + index + i) % 5 for i in range(answers)]
        seed.poll(
            s,
            room_id,
            "Wie zufrieden sind Sie mit der heutigen Sitzung?",
            by=CHAIR,
            at=asked,
            kind=PollKind.PULSE,
            votes=[[str(v)] for v in scores],
            closed_at=asked + dt.timedelta(hours=2),
        )


def _meetings(s: Session, room_id: str, index: int, now: dt.datetime) -> None:
    """Meetings held, a planned next one in most committees, a running circulation in some."""
    for back in (60, 30):
        held = seed.meeting(s, room_id, by=CHAIR, at=now - dt.timedelta(days=back), hours=2)
        # Their minutes are gone (as the retention leaves a meeting): only the date stays.
        held.minutes = None
        s.add(held)
    if index % 4 != 3:
        meetings.set_plan(
            s,
            room_id,
            next_date=(now + dt.timedelta(days=3 + index)).date(),
            next_time=dt.time(14, 0),
            by=CHAIR,
            at=now - dt.timedelta(days=10),
            source_event_id=seed.new_event(),
        )
    if index % 5 == 0:
        decisions.create(
            s,
            Decision(
                room_id=room_id,
                kind=DecisionKind.CIRCULATION,
                outcome=DecisionOutcome.RUNNING,
                text=f"Haushaltsansatz {2026 + index} für die {NAMES[index]} beschließen",
                deadline=now + dt.timedelta(days=5 + index),
                created_by=CHAIR,
                created_at=now - dt.timedelta(days=2),
                source_event_id=seed.new_event(),
            ),
        )


def _evaluation(s: Session, ids: Sequence[str], now: dt.datetime) -> None:
    """This year's evaluation in ten committees: in two of them only two took part."""
    started = now - dt.timedelta(days=40)
    for index, room_id in enumerate(ids[:10]):
        few = index in (3, 8)
        participants = 2 if few else 4 + index % 4
        sv = seed.survey(
            s, room_id, started.year, invited=9, participants=participants, started_at=started
        )
        for position, text in enumerate(STATEMENTS, start=1):
            answered = 2 if few else participants
            scores = [1 + (index + position + i) % 5 for i in range(answered)]
            seed.statement(s, sv, position, text, scores)
