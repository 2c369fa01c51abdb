"""Permissions as a table (issue 13): every command that needs a role or an ownership is
tried by a member without it — by number, by reply, from another room, by reaction — and
must be refused with who may, changing nothing. docs/permissions.md is the table, written
by `python -m commands.permissions`; it must be what the generator writes now.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from commands import permissions
from commands.core import i18n
from commands.features import build_registry
from storage.models import Agreement, AgreementOwner, Poll, Reminder
from tests.dialog import (
    ANNA,
    BEN,
    BERLIN,
    CARLA,
    CHAIR,
    COORDINATOR,
    Dialog,
)
from tests.unit.reminder_helpers import env_for, fire

OTHER_ROOM = "!anderes:example.org"

# Each refusal names the refused command first (`!sitzung start` …), then who may.
NEEDS_CHAIR = "dürfen nur der Vorsitz und die Koordination (Bildungsbüro)."
NEEDS_COORDINATION = "ist der Koordination (Bildungsbüro) vorbehalten."
AGREEMENT_REFUSAL = (
    "Bei #{n} dürfen das nur die Verantwortlichen (Ben Okafor), Ben Okafor (hat sie "
    "festgehalten), der Vorsitz und die Koordination."
)
REMINDER_REFUSAL = (
    "Erinnerung #{n} hat Anna Schmidt gestellt; ändern dürfen sie nur Anna Schmidt, "
    "der Vorsitz und die Koordination."
)
OTHER_ROOM_REFUSAL = (
    "Diese Verabredung gehört zu einem anderen Gremium; von hier aus kann ich sie weder "
    "zeigen noch ändern."
)
POLL_REFUSAL = (
    "Diese Umfrage beenden dürfen nur die Person, die sie gestartet hat (Anna Schmidt), "
    "der Vorsitz und die Koordination."
)


# ----------------------------------------------------------------------------- the room


@dataclass
class Room:
    """A committee room with one of each object, and a second room on the same database."""

    here: Dialog
    other: Dialog
    done_agreement: int  # #2, done
    open_agreement: int  # #1, open, owned and recorded by Ben
    poll: int  # #1, started by Anna
    daily: int  # reminder no. 1 of Anna, recurring, has fired (its message can be answered)
    paused: int  # reminder no. 2 of Anna, paused

    def snapshot(self) -> list[Any]:
        """Everything a refused command must leave as it was."""
        with self.here.database.session() as s:
            models: tuple[Any, ...] = (Agreement, AgreementOwner, Reminder, Poll)
            return [sorted(repr(r.model_dump()) for r in s.exec(select(m))) for m in models]


@pytest.fixture
def room(dialog_both: Dialog) -> Room:
    here = dialog_both
    here.say(BEN, "!verabredung Bericht schreiben @ben bis Freitag", mentions=(BEN,))
    here.say(BEN, "!verabredung Raum buchen @ben", mentions=(BEN,))
    here.say(BEN, "!erledigt 2")
    here.say(ANNA, "!umfrage Termin? | Mo | Di")
    here.say(ANNA, "!erinnere jeden tag 11:00 Kaffee")
    here.say(ANNA, "!erinnere jeden montag 9:00 Tagesordnung")
    here.say(ANNA, "!pause 2")
    fire(here.database, dt.datetime(2026, 3, 9, 11, 0, tzinfo=BERLIN), env_for(here))
    here.now = dt.datetime(2026, 3, 9, 11, 5, tzinfo=BERLIN)
    other = Dialog(here.database, room_id=OTHER_ROOM, now=here.now, _ids=itertools.count(100_000))
    with here.database.session() as s:
        agreements = {a.number: a.id for a in s.exec(select(Agreement))}
        reminders = {r.number: r.id for r in s.exec(select(Reminder))}
        [poll] = list(s.exec(select(Poll)))
    assert poll.id is not None
    return Room(
        here,
        other,
        done_agreement=_id(agreements[2]),
        open_agreement=_id(agreements[1]),
        poll=poll.id,
        daily=_id(reminders[1]),
        paused=_id(reminders[2]),
    )


def _id(value: int | None) -> int:
    assert value is not None
    return value


# ---------------------------------------------------------------- roles by declaration


# (command as typed, the member who tries it, the refusal). Each command whose rule is
# more than "every member" appears here or in the ownership cases below.
ROLE_CASES = [
    ("!einstellungen sprache english", ANNA, NEEDS_CHAIR),
    ("!sitzung start Sitzung", ANNA, NEEDS_CHAIR),
    ("!sitzung ende", ANNA, NEEDS_CHAIR),
    ("!sitzung plan morgen 10 Uhr", ANNA, NEEDS_CHAIR),
    ("!auswertung", ANNA, NEEDS_CHAIR),
    ("!auswertung alle", CHAIR, NEEDS_COORDINATION),
    ("!auswertung starten", CHAIR, NEEDS_COORDINATION),
    ("!rolle @carla:example.org vorsitz", ANNA, "Rollen vergeben dürfen nur der Vorsitz"),
    ("!geschäftsordnung Wir tagen monatlich.", ANNA, "Die Geschäftsordnung setzen dürfen nur"),
    ("!übersicht", ANNA, NEEDS_COORDINATION),
    ("!übersicht", CHAIR, NEEDS_COORDINATION),
    ("!bericht", ANNA, NEEDS_CHAIR),
    ("!export", CHAIR, NEEDS_COORDINATION),
    ("!dashboard einrichten", CHAIR, NEEDS_COORDINATION),
    ("!amt @carla:example.org Jugendamt", ANNA, "Das Amt einer anderen Person setzen"),
    ("!grund 1 Zahlen fehlen", CARLA, "Den Grund einer Verzögerung bei #1 nennen nur"),
    ("!umlauf Zuschuss für das Sommerfest", ANNA, NEEDS_CHAIR),
    ("!beschluss Zuschuss für das Sommerfest ja 3", ANNA, NEEDS_CHAIR),
    ("!anwesend @ben:example.org", ANNA, "Andere als anwesend oder entschuldigt eintragen"),
    ("!entschuldigt @ben:example.org", ANNA, "Andere als anwesend oder entschuldigt eintragen"),
]


@pytest.mark.parametrize(("command", "who", "refusal"), ROLE_CASES)
def test_a_command_of_a_higher_role_is_refused_saying_who_may(
    room: Room, command: str, who: str, refusal: str
) -> None:
    before = room.snapshot()
    answer = room.here.text(who, command, mentions=(CARLA,) if "@carla" in command else ())
    if refusal in (NEEDS_CHAIR, NEEDS_COORDINATION):
        named = " ".join(command.split()[:2]) if command.split()[1:2] != [] else command
        refused = named if named.split()[-1].isalpha() else command.split()[0]
        assert answer.startswith(f"`{refused}` {refusal}"), answer
    else:
        assert answer.startswith(refusal)
    assert room.snapshot() == before


def test_the_roles_themselves_may(room: Room) -> None:
    assert "Sitzung #1 läuft" in room.here.text(CHAIR, "!sitzung start Sitzung")
    assert "Geschäftsordnung" in room.here.text(CHAIR, "!geschäftsordnung Wir tagen.")
    assert NEEDS_COORDINATION not in room.here.text(COORDINATOR, "!übersicht")


# -------------------------------------------------------------------------- ownership

# (command by number, the same as a reply to the bot's message about the object)
AGREEMENT_CASES = [
    ("!erledigt 1", "!erledigt", 1),
    ("!wieder 2", "!wieder", 2),
    ("!zuweisen 1 @carla:example.org", "!zuweisen @carla:example.org", 1),
    ("!frist 1 morgen", "!frist morgen", 1),
    ("!ändern 1 Bericht verbrennen", "!ändern Bericht verbrennen", 1),
    ("!verwerfen 1 kein Bedarf", "!verwerfen kein Bedarf", 1),
]


def _agreement_id(room: Room, number: int) -> int:
    return room.open_agreement if number == 1 else room.done_agreement


@pytest.mark.parametrize(("by_number", "by_reply", "number"), AGREEMENT_CASES)
def test_agreement_changes_only_by_owners_creator_chair_coordination(
    room: Room, by_number: str, by_reply: str, number: int
) -> None:
    before = room.snapshot()
    refusal = AGREEMENT_REFUSAL.format(n=number)
    mentions = (CARLA,) if "@carla" in by_number else ()
    assert room.here.text(CARLA, by_number, mentions=mentions) == refusal
    ref = ("agreement", _agreement_id(room, number))
    assert room.here.text(CARLA, by_reply, mentions=mentions, ref=ref) == refusal
    # From another room: the number is that room's (none there), a reply is refused —
    # even for the agreement's owner.
    assert "keine Verabredung #" in room.other.text(BEN, by_number, mentions=mentions)
    answer = room.other.text(BEN, by_reply, mentions=mentions, reply_to=room.here.event_about(*ref))
    assert answer == OTHER_ROOM_REFUSAL
    assert room.snapshot() == before


def test_a_reaction_marks_done_only_for_an_owner_in_the_room(room: Room) -> None:
    before = room.snapshot()
    target = ("agreement", room.open_agreement)
    assert room.here.react(CARLA, "✅", target) == []
    assert room.here.react(CHAIR, "👍", target) == []  # the chair uses !erledigt
    assert room.other.react(BEN, "✅", room.here.event_about(*target)) == []
    assert room.snapshot() == before
    [done] = room.here.react(BEN, "✅", target)
    assert "erledigt" in done.body


REMINDER_CASES = [
    ("!pause 1", "!pause", "daily"),
    ("!weiter 2", "!weiter", "paused"),
    ("!erinnere löschen 1", "!erinnere löschen", "daily"),
    ("!erinnerungen löschen 1", "!erinnerungen löschen", "daily"),
]


@pytest.mark.parametrize(("by_number", "by_reply", "which"), REMINDER_CASES)
def test_reminders_change_only_by_creator_chair_coordination(
    room: Room, by_number: str, by_reply: str, which: str
) -> None:
    before = room.snapshot()
    n = 1 if which == "daily" else 2
    assert room.here.text(CARLA, by_number) == REMINDER_REFUSAL.format(n=n)
    if which == "daily":  # only a reminder that was posted has a message to answer
        ref = ("reminder", room.daily)
        assert room.here.text(CARLA, by_reply, ref=ref) == REMINDER_REFUSAL.format(n=n)
        answer = room.other.text(ANNA, by_reply, reply_to=room.here.event_about(*ref))
        assert answer.startswith("Welche Erinnerung?")
    assert "keine Erinnerung #" in room.other.text(ANNA, by_number)
    assert room.snapshot() == before


def test_snoozing_a_reminder_others_set_is_refused_unless_mentioned(room: Room) -> None:
    before = room.snapshot()
    ref = ("reminder", room.daily)
    assert room.here.text(CARLA, "!später 2 stunden", ref=ref) == REMINDER_REFUSAL.format(n=1)
    assert room.snapshot() == before


def test_snoozing_an_agreement_only_by_owners_creator_chair_coordination(room: Room) -> None:
    before = room.snapshot()
    answer = room.here.text(CARLA, "!später 1 2 tage")
    assert answer == (
        "Die Erinnerung an #1 dürfen nur die Verantwortlichen, die Person, die sie festgehalten "
        "hat, der Vorsitz und die Koordination verschieben."
    )
    assert room.snapshot() == before


def test_polls_close_only_by_their_creator_chair_coordination(room: Room) -> None:
    before = room.snapshot()
    assert room.here.text(CARLA, "!schließen 1") == POLL_REFUSAL
    ref = ("poll", room.poll)
    assert room.here.text(CARLA, "!schließen", ref=ref) == POLL_REFUSAL
    assert "keine Umfrage #1" in room.other.text(ANNA, "!schließen 1")
    answer = room.other.text(ANNA, "!schließen", reply_to=room.here.event_about(*ref))
    assert answer.startswith("Diese Umfrage gehört zu einem anderen Gremium")
    assert room.snapshot() == before
    assert "Termin?" in room.here.text(CHAIR, "!schließen", ref=ref)


def test_a_reply_about_an_older_poll_acts_on_that_poll(room: Room) -> None:
    room.here.say(BEN, "!umfrage Noch eine? | ja | nein")
    answer = room.here.text(ANNA, "!schließen", ref=("poll", room.poll))
    assert "Termin?" in answer
    with room.here.database.session() as s:
        open_polls = [p.number for p in s.exec(select(Poll)) if p.closed_at is None]
    assert open_polls == [2]


# ------------------------------------------------------------------- the table itself

# Open to every member although they have a rule text (what the text adds is no right).
OPEN_WITH_A_NOTE = {"notiz", "puls", "umfrage"}


def test_every_restricted_command_is_tried_here() -> None:
    registry = build_registry()
    restricted = {
        c.name
        for c in registry.commands
        if c.role.name != "MEMBER" or i18n.has("de", f"cmd.{c.name}.who")
    } - OPEN_WITH_A_NOTE
    tried = {case[0].split()[0].lstrip("!") for case in ROLE_CASES}
    tried |= {case[0].split()[0].lstrip("!") for case in AGREEMENT_CASES + REMINDER_CASES}
    tried |= {"später", "schließen"}
    assert restricted - tried == set()


def test_docs_permissions_md_is_what_the_generator_writes() -> None:
    assert permissions.DOC.read_text("utf-8") == permissions.render(), (
        "docs/permissions.md is out of date: run `python -m commands.permissions`"
    )


def test_help_says_who_may_as_the_table_does(dialog: Dialog) -> None:
    registry = build_registry()
    for name in ("erledigt", "übersicht", "notiz", "hilfe"):
        cmd = registry.find(name)
        assert cmd is not None
        assert f"Wer darf: {cmd.who('de')}" in dialog.text(ANNA, f"!hilfe {name}")
        assert cmd.who("de") in permissions.render()
    dialog.say(CHAIR, "!einstellungen sprache english")
    assert "Who may: the coordinating office (Bildungsbüro) only" in dialog.text(
        ANNA, "!help export"
    )


def test_notes_are_for_every_member(room: Room) -> None:
    assert "Notiz zu #1" in room.here.text(CARLA, "!notiz 1 Entwurf liegt vor")
    answer = room.other.text(
        CARLA, "!notiz", reply_to=room.here.event_about("agreement", room.open_agreement)
    )
    assert answer.startswith("Diese Verabredung gehört zu einem anderen Gremium")


def test_an_answer_to_a_poll_from_another_room_is_not_counted(room: Room) -> None:
    poll_event = room.here.event_about("poll", room.poll)
    room.other.answer_poll(CARLA, poll_event, ("a1",))
    room.here.answer_poll(CARLA, poll_event, ("a2",))
    answer = room.here.text(ANNA, "!ergebnis 1")
    assert "1 Stimme" in answer
