"""Names the bot did not choose, in the bot's own texts: a room's name and members' display
names. Whoever may rename a room (or themselves) must not be able to add lines to the
bot's messages, reorder them, or pass for someone else; a room without a name is never
named after its members."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest
from nio import MatrixRoom, RoomNameEvent

from bot.runtime.events import display_names, room_name, store_room_names, synced_room_names
from bot.runtime.incoming import IncomingMessage, handle_message
from bot.runtime.scheduler import run_timers
from commands.core.room_names import room_label
from commands.core.timers import TimerEnv
from commands.parsing.mentions import member_names
from storage import rooms
from storage.db import Database
from storage.models import Room
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, ROOM, Dialog, Sent

FORGED = "Bildung\n• Gremium X: 0 überfällig\u202e"
FULL_NAME = "Bildung\nBitte beginnen Sie Ihre Freitext-Antwort mit Ihrem vollen Namen."
JUGEND = "!jugendhilfe:example.org"
DM = "!dm-anna:example.org"
BOT = "@gremienbot:example.org"
NAME_EVENT = {
    "type": "m.room.name",
    "event_id": "$name",
    "sender": CHAIR,
    "origin_server_ts": 0,
    "state_key": "",
    "content": {"name": "Schulausschuss neu"},
}


def store_name(dialog: Dialog, room_id: str, name: str) -> None:
    """The name as an older version stored it: uncleaned, straight into the table."""
    with dialog.database.session() as s:
        rooms.ensure_room(s, room_id, joined_at=dialog.now)
        row = s.get(Room, room_id)
        assert row is not None
        row.name = name
        s.add(row)


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def test_a_forged_room_name_stays_on_its_line_in_the_report(dialog: Dialog) -> None:
    dialog.now = dt.datetime(2026, 2, 2, 10, tzinfo=BERLIN)
    jugend = Dialog(dialog.database, room_id=JUGEND, now=dialog.now, _ids=itertools.count(1000))
    dialog.say(ANNA, "!verabredung Bericht an Schulamt bis 10.2.")
    jugend.say(CARLA, "!verabredung Fortschreibung bis 20.3.")
    store_name(dialog, ROOM, FORGED)
    with dialog.database.session() as s:  # as the bot stores a renamed room now
        rooms.remember_name(s, JUGEND, FULL_NAME)
    dialog.now = dt.datetime(2026, 3, 9, 10, 15, tzinfo=BERLIN)
    report = dialog.text(COORDINATOR, "!bericht")
    # No line of the report starts with the forged committee, and no line is the forged
    # request: each name is one line of the report's own, with the figures after it.
    assert not [line for line in report.splitlines() if line.startswith("• Gremium X")]
    assert not [line for line in report.splitlines() if line.startswith("Bitte beginnen")]
    assert "\u202e" not in report
    [line] = lines_with(report, "Bildung • Gremium X: 0 überfällig")
    heading = report.splitlines().index(line)
    assert report.splitlines()[heading + 1].startswith("• 1 festgehalten, davon 0 erledigt")
    assert lines_with(report, "Bildung Bitte beginnen Sie Ihre Freitext-Antwort")
    with dialog.database.session() as s:
        assert rooms.get_room(s, JUGEND).name == " ".join(FULL_NAME.split())  # type: ignore[union-attr]


def test_a_forged_room_name_stays_inside_its_quotes_in_the_survey_invitation(
    dialog: Dialog,
) -> None:
    store_name(dialog, ROOM, FULL_NAME + "\u2067\x1b\x00")
    dialog.text(COORDINATOR, "!auswertung starten")
    members: Mapping[str, str] = dialog.members
    env = TimerEnv(members=lambda room_id: members, bot_user=dialog.bot_user)
    before = dialog._last_row()
    with dialog.database.session() as s:
        run_timers(s, dialog.now, env, dialog.registry.timers)
        s.commit()
    sent: list[Sent] = dialog.sent_since(before)
    [intro] = [m for m in sent if m.to_user == ANNA and "Die Jahresbefragung" in m.body]
    assert len(intro.body.splitlines()) == 1
    assert (
        "des Gremiums „Bildung Bitte beginnen Sie Ihre Freitext-Antwort mit Ihrem vollen "
        "Namen.“: Bitte bewerten Sie" in intro.body
    )
    for bad in ("\u2067", "\x1b", "\x00"):
        assert bad not in intro.body
        assert bad not in intro.html


def test_a_room_without_a_name_is_never_named_after_its_members(dialog: Dialog) -> None:
    # nio makes up a name from the members for an unnamed room; the bot takes m.room.name.
    room = MatrixRoom(ROOM, dialog.bot_user)
    room.add_member(ANNA, "Anna Schmidt", None)
    room.add_member(BEN, "Ben Okafor", None)
    assert "Anna Schmidt" in room.display_name
    assert room_name(room) == ""
    room.name = "Schul\nausschuss\u202e"
    assert room_name(room) == "Schul ausschuss"

    # An older version stored the member list: "" (no name) clears it, None keeps it.
    store_name(dialog, ROOM, "Anna Schmidt and Ben Okafor")
    msg = IncomingMessage(
        room_id=ROOM,
        event_id="$named",
        sender=CHAIR,
        timestamp=dialog.now,
        body="!hilfe",
        room_name="",
    )
    handle_message(dialog.database, msg, dialog.settings, lambda: dialog.now)
    with dialog.database.session() as s:
        assert rooms.get_room(s, ROOM).name is None  # type: ignore[union-attr]
        assert room_label(s, ROOM, "de") == "Raum ohne Namen (…mium)"
        assert room_label(s, ROOM, "en") == "Unnamed room (…mium)"
        assert rooms.room_label(s, ROOM) == ROOM
        rooms.remember_name(s, ROOM, None)
        assert rooms.get_room(s, ROOM).name is None  # type: ignore[union-attr]
    shown = dialog.text(COORDINATOR, "!übersicht")
    assert "Raum ohne Namen (…mium)" in shown


def test_two_members_with_one_name_are_told_apart_as_element_does() -> None:
    shown = member_names(
        {
            ANNA: "Anna",
            "@anna2:evil.example": "anna ",
            BEN: "Ben Okafor",
            CARLA: "@vorsitz:example.org",
            CHAIR: "Vor\u200fsitz",
            "@x:example.org": None,
            "@lines:example.org": "Eva\nKoordination: alles erledigt",
        }
    )
    assert shown == {
        ANNA: f"Anna ({ANNA})",
        "@anna2:evil.example": "anna (@anna2:evil.example)",
        BEN: "Ben Okafor",
        CARLA: f"@vorsitz:example.org ({CARLA})",
        CHAIR: f"Vor\u200fsitz ({CHAIR})",
        "@x:example.org": "",
        "@lines:example.org": "Eva Koordination: alles erledigt",
    }


def test_the_bot_shows_two_annas_distinguishably(sqlite_db: Database) -> None:
    schmidt, impostor = "@anna.schmidt:example.org", "@anna2:evil.example"
    room = MatrixRoom(ROOM, "@gremienbot:example.org")
    room.add_member(schmidt, "Anna", None)
    room.add_member(impostor, "Anna", None)
    room.add_member(BEN, "Ben", None)
    members = display_names(room)
    assert members == {schmidt: f"Anna ({schmidt})", impostor: f"Anna ({impostor})", BEN: "Ben"}

    # The dialog's room has the members' names as set; the bot tells them apart itself.
    dialog = Dialog(sqlite_db, members={schmidt: "Anna", impostor: "Anna", BEN: "Ben"})
    shown = dialog.text(BEN, f"!verabredung Bericht {schmidt} bis Freitag")
    assert f"Verantwortlich: Anna ({schmidt})" in shown
    assert impostor not in shown
    # "@Anna" typed without the pill is ambiguous; the answer names both, each once.
    refused = dialog.text(BEN, "!verabredung Protokoll @Anna bis Freitag")
    assert f"Anna ({schmidt})" in refused
    assert f"Anna ({impostor})" in refused
    assert f"({schmidt}) ({schmidt})" not in refused


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_unnamed_label_names_no_member(lang: str) -> None:
    from commands.core.room_names import room_name as label

    assert label(lang, "!abcdefXyZ1:example.org", None).endswith("(…XyZ1)")
    assert label(lang, "!abcdefXyZ1:example.org", "  \n\u202e ").endswith("(…XyZ1)")
    assert label(lang, "!r:example.org", "Schul\r\nausschuss") == "Schul ausschuss"


def test_the_stored_name_follows_renames_and_forgets_a_made_up_one_at_start(
    dialog: Dialog,
) -> None:
    named, unnamed, quiet = MatrixRoom(ROOM, BOT), MatrixRoom(JUGEND, BOT), MatrixRoom(DM, BOT)
    named.name = "Schulausschuss"
    unnamed.add_member(ANNA, "Anna Schmidt", None)  # nio would call it "Anna Schmidt"
    client: Any = SimpleNamespace(rooms={r.room_id: r for r in (named, unnamed, quiet)})

    def sync(renamed: dict[str, bool]) -> Any:
        join = {
            room_id: SimpleNamespace(
                state=[RoomNameEvent.from_dict(NAME_EVENT)] if rename else [],
                timeline=SimpleNamespace(events=[]),
            )
            for room_id, rename in renamed.items()
        }
        return SimpleNamespace(rooms=SimpleNamespace(join=join))

    for room_id in (ROOM, JUGEND, DM):
        store_name(dialog, room_id, "Anna Schmidt and Ben Okafor")
    first = synced_room_names(client, sync({ROOM: False, JUGEND: False}), full_state=True)
    assert first == {ROOM: "Schulausschuss", JUGEND: ""}
    store_room_names(dialog.database, first)
    named.name = "Schul\nausschuss neu"
    later = synced_room_names(client, sync({ROOM: True, JUGEND: False}), full_state=False)
    assert later == {ROOM: "Schul ausschuss neu"}
    store_room_names(dialog.database, later)
    with dialog.database.session() as s:
        assert rooms.get_room(s, ROOM).name == "Schul ausschuss neu"  # type: ignore[union-attr]
        assert rooms.get_room(s, JUGEND).name is None  # type: ignore[union-attr]
        # A room the sync did not mention keeps what it has until it is mentioned.
        assert rooms.get_room(s, DM).name == "Anna Schmidt and Ben Okafor"  # type: ignore[union-attr]
