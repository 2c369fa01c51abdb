"""Listeners hear every message and reaction of a room once it is the bot's business."""

from __future__ import annotations

import datetime as dt

from commands import meetings
from commands.core.listeners import Activity
from commands.core.registry import Registry, Router
from tests.dialog import ANNA, BEN, CARLA, CHAIR, Dialog


def listening_room(dialog: Dialog, heard: list[tuple[str, str]], *, fail: bool = False) -> Dialog:
    router = Router("meetings")

    @router.listener()
    def note(activity: Activity) -> None:
        heard.append((activity.sender, activity.display_name))
        if fail:
            raise RuntimeError("a listener's bug")

    return Dialog(dialog.database, registry=Registry([router.include(meetings.router)]))


def test_messages_reactions_and_commands_are_heard_with_the_senders_name(dialog: Dialog) -> None:
    heard: list[tuple[str, str]] = []
    room = listening_room(dialog, heard)
    room.chat(ANNA, "Guten Morgen")
    [reply] = room.say(CHAIR, "!sitzung")
    room.react(BEN, "👍", reply.event_id)
    assert heard == [(ANNA, "Anna Schmidt"), (CHAIR, "Vorsitz Meyer"), (BEN, "Ben Okafor")]


def test_history_from_before_the_join_is_not_heard(dialog: Dialog) -> None:
    heard: list[tuple[str, str]] = []
    room = listening_room(dialog, heard)
    room.chat(ANNA, "Hallo")  # the bot joined a month before this
    room.now -= dt.timedelta(days=40)
    room.chat(CARLA, "Vor dem Beitritt geschrieben")
    assert heard == [(ANNA, "Anna Schmidt")]


def test_a_failing_listener_does_not_stop_the_command(dialog: Dialog) -> None:
    heard: list[tuple[str, str]] = []
    room = listening_room(dialog, heard, fail=True)
    assert "Sitzung #1 läuft" in room.text(CHAIR, "!sitzung start")
    assert heard == [(CHAIR, "Vorsitz Meyer")]
