"""Flood control (issue 13): a member's thousand commands are slowed with one notice.

Every dialog's bot keeps its flood control for the whole dialog, as a running bot does;
these dialogs send their commands in bursts, all at the same moment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlmodel import func, select

from bot.runtime.flood import FloodControl
from commands.core.defaults import Defaults, Limits
from storage.models import Agreement
from tests.dialog import ANNA, BEN, CHAIR, NOW_FOR_TESTS, Dialog


def steady(dialog: Dialog, **limits: Any) -> Dialog:
    """A dialog with a burst of 20 unless given (None: the default)."""
    limits.setdefault("command_burst", 20)
    if limits["command_burst"] is None:
        del limits["command_burst"]
    defaults = Defaults(features={"limits": dataclasses.replace(Limits(), **limits)})
    return Dialog(dialog.database, defaults=defaults)


def agreements(dialog: Dialog) -> int:
    with dialog.database.session() as s:
        return int(s.exec(select(func.count()).select_from(Agreement)).one())


def test_a_flood_is_slowed_with_one_notice(dialog_both: Dialog) -> None:
    room = steady(dialog_both, command_burst=None)  # the defaults: 100, then one per 3 s
    answers = [room.say(ANNA, f"!verabredung Spam {i}") for i in range(1000)]
    assert all(len(a) == 1 for a in answers[:100])  # the burst: each confirmed
    assert agreements(room) == 100
    [notice] = answers[100]
    assert notice.body == (
        "⏳ Anna Schmidt: So viele Befehle auf einmal führe ich nicht aus – höchstens 100 "
        "hintereinander, dann einer alle 3 Sekunden. Was schneller kommt, bleibt unbeantwortet "
        "(das sage ich nur dieses eine Mal); den nächsten Befehl führe ich ab 10:15:03 Uhr aus."
    )
    assert notice.in_reply_to is not None
    assert ANNA in notice.mentions
    assert all(a == [] for a in answers[101:])  # not answered a thousand times
    # Others in the room are not held back by Anna's flood.
    assert "#101" in room.text(BEN, "!verabredung Protokoll schicken")


def test_after_the_interval_one_command_goes_through_and_no_second_notice(
    dialog: Dialog,
) -> None:
    room = steady(dialog)
    for i in range(25):
        room.say(ANNA, f"!liste {i}")
    room.now += dt.timedelta(seconds=3)
    assert room.say(ANNA, "!liste") != []
    assert room.say(ANNA, "!liste") == []  # still in the same flood: silently dropped
    # Quiet for a minute: the bucket is full again, and a new flood would be told again.
    room.now += dt.timedelta(minutes=1)
    answers = [room.say(ANNA, "!liste") for _ in range(21)]
    assert all(a for a in answers[:20])
    assert "So viele Befehle" in answers[20][0].body


def test_catch_up_after_an_outage_is_no_flood(dialog: Dialog) -> None:
    """Commands sent over an hour while the bot was down arrive at once: all carried out."""
    room = steady(dialog)
    sent_from = NOW_FOR_TESTS
    room.now = sent_from + dt.timedelta(hours=2)  # the bot handles them now
    for i in range(60):
        msg_time = sent_from + dt.timedelta(minutes=i)
        answer = room.say(ANNA, f"!verabredung Punkt {i}", sent_at=msg_time)
        assert answer, f"command {i} was not answered"
    assert agreements(room) == 60


def test_a_burst_sent_at_once_during_an_outage_is_still_a_flood(dialog: Dialog) -> None:
    room = steady(dialog)
    sent = NOW_FOR_TESTS
    room.now = sent + dt.timedelta(hours=2)
    answers = [room.say(ANNA, f"!verabredung P {i}", sent_at=sent) for i in range(25)]
    assert agreements(room) == 20
    assert "So viele Befehle" in answers[20][0].body


def test_a_retried_event_is_judged_the_same(dialog: Dialog) -> None:
    flood = FloodControl()
    limits = Limits(command_burst=1)
    first = flood.check("!r:x", ANNA, "$1", NOW_FOR_TESTS, limits)
    again = flood.check("!r:x", ANNA, "$1", NOW_FOR_TESTS, limits)
    assert first.allowed
    assert again.allowed
    refused = flood.check("!r:x", ANNA, "$2", NOW_FOR_TESTS, limits)
    assert not refused.allowed
    assert refused.notify
    assert flood.check("!r:x", ANNA, "$2", NOW_FOR_TESTS, limits) == refused


def test_rooms_have_their_own_buckets_and_zero_turns_it_off() -> None:
    flood = FloodControl()
    limits = Limits(command_burst=1)
    assert flood.check("!a:x", ANNA, "$1", NOW_FOR_TESTS, limits).allowed
    assert flood.check("!b:x", ANNA, "$2", NOW_FOR_TESTS, limits).allowed
    assert not flood.check("!a:x", ANNA, "$3", NOW_FOR_TESTS, limits).allowed
    off = Limits(command_burst=0)
    assert all(flood.check("!a:x", ANNA, f"$x{i}", NOW_FOR_TESTS, off).allowed for i in range(50))


def test_plain_messages_are_not_counted(dialog: Dialog) -> None:
    room = steady(dialog, command_burst=2)
    for _ in range(10):
        room.chat(ANNA, "Guten Morgen")
    assert room.say(ANNA, "!liste")
    assert room.say(ANNA, "!liste")


def test_the_notice_is_in_the_rooms_language(dialog: Dialog) -> None:
    room = steady(dialog, command_burst=2)
    room.say(CHAIR, "!settings language english")
    room.say(ANNA, "!list")
    room.say(ANNA, "!list")
    [notice] = room.say(ANNA, "!list")
    assert notice.body.startswith("⏳ Anna Schmidt: I don't carry out that many commands at once")
    assert "you can send the next command at 10:15:03." in notice.body


def test_a_flood_beyond_the_catch_up_horizon_is_not_answered_a_thousand_times(
    dialog: Dialog,
) -> None:
    room = steady(dialog)
    sent = NOW_FOR_TESTS
    room.now = sent + dt.timedelta(days=8)  # older than the horizon (7 days)
    answers = [room.say(ANNA, f"!verabredung P {i}", sent_at=sent) for i in range(100)]
    assert all(a[0].body.startswith("Nicht ausgeführt") for a in answers[:20])
    assert all(a == [] for a in answers[20:])
    assert agreements(room) == 0
