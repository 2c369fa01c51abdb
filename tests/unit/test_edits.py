"""Editing a command (Element's "Edit", an m.replace event) never runs it a second time.

The rule (docs/editing.md): an edit is not carried out, whatever its text; when the
edited message was a command, or the edit turns a message into one, the bot answers once
per edited message, in the room's language, that the corrected command must be sent as
a new message. Edits of other messages are ignored. The original command ran once, as
first sent.

Runs the bot's real event handler (bot.runtime.events.EventHandlers.on_text) on nio
events, with the database thread, sender and metrics replaced by stand-ins, on the
dialog's database: the original command is sent with the dialog.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from nio import MatrixRoom, RoomMessageText
from sqlmodel import col, select

from bot.runtime.events import EventHandlers, Runtime
from commands.core.defaults import Defaults, Limits
from storage.models import Agreement
from tests.dialog import ANNA, BEN, BOT, CHAIR, ROOM, Dialog


class _DbThread:
    async def run_until_answered(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)


def _handlers(dialog: Dialog) -> tuple[EventHandlers, list[str]]:
    woken: list[str] = []
    rt = Runtime(
        config=SimpleNamespace(  # type: ignore[arg-type]
            command_prefix="!", encryption=SimpleNamespace(undecryptable_wait_seconds=1)
        ),
        settings=dialog.settings,
        db=dialog.database,
        dbt=_DbThread(),  # type: ignore[arg-type]
        clock=lambda: dialog.now,
        sender=SimpleNamespace(wake=lambda room=None: woken.append(room)),  # type: ignore[arg-type]
        poke=lambda room: None,
        stopping=lambda: False,
        metrics=SimpleNamespace(answer_owed=lambda *a: None),  # type: ignore[arg-type]
    )
    client = SimpleNamespace(user_id=BOT, rooms={})
    return EventHandlers(rt, client), woken


def _room(dialog: Dialog) -> MatrixRoom:
    room = MatrixRoom(ROOM, BOT)
    for user, name in dialog.members.items():
        room.add_member(user, name, None)
    return room


def _edit(event_id: str, original: str, new_body: str, *, star: bool = True) -> RoomMessageText:
    ts = int(dt.datetime(2026, 3, 9, 9, 20, tzinfo=dt.UTC).timestamp() * 1000)
    return RoomMessageText.from_dict(
        {
            "type": "m.room.message",
            "event_id": event_id,
            "sender": ANNA,
            "origin_server_ts": ts,
            "content": {
                "msgtype": "m.text",
                "body": ("* " if star else "") + new_body,
                "m.new_content": {"msgtype": "m.text", "body": new_body},
                "m.relates_to": {"rel_type": "m.replace", "event_id": original},
            },
        }
    )


def _send(dialog: Dialog, event: RoomMessageText) -> list[str]:
    handlers, _ = _handlers(dialog)
    before = dialog._last_row()
    asyncio.run(handlers.on_text(_room(dialog), event))
    return [sent.body for sent in dialog.sent_since(before)]


def _agreements(dialog: Dialog) -> list[tuple[int, str]]:
    with dialog.database.session() as s:
        rows = s.exec(select(Agreement).order_by(col(Agreement.number)))
        return [(a.number, a.text) for a in rows]


def test_an_edit_of_a_handled_command_is_answered_once_and_not_run(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Bericht schrieben bis Freitag")
    original = dialog.last_event_id
    before = _agreements(dialog)

    # Element's form ("* " fallback) and a client without it: neither runs the command.
    first = _send(dialog, _edit("$edit1", original, "!verabredung Bericht schreiben bis Freitag"))
    second = _send(dialog, _edit("$edit2", original, "!verabredung Bericht schreiben", star=False))

    assert len(first) == 1
    assert "Änderungen an einem Befehl führe ich nicht aus" in first[0]
    assert "es gilt, was Sie zuerst geschickt haben" in first[0]  # the first version stands
    assert "`!frist 3 Montag`" in first[0]  # and how to correct it
    assert second == []  # one answer per edited message, however often it is edited
    assert _agreements(dialog) == before  # nothing recorded twice, nothing changed


def test_an_edit_that_turns_chat_into_a_command_is_not_run(dialog: Dialog) -> None:
    dialog.chat(BEN, "Bericht bis Freitag?")
    chat = "$ev1"
    replies = _send(dialog, _edit("$edit1", chat, "!verabredung Bericht bis Freitag"))
    assert len(replies) == 1
    assert "mit einem neuen Befehl" in replies[0]
    assert _agreements(dialog) == []


def test_an_edit_of_chat_is_none_of_the_bots_business(dialog: Dialog) -> None:
    dialog.chat(BEN, "Bericht bis Freitag?")
    assert _send(dialog, _edit("$edit1", "$ev1", "Bericht bis Donnerstag?")) == []


def test_the_answer_is_in_the_rooms_language(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    dialog.say(ANNA, "!agree Write the report by Friday")
    original = dialog.last_event_id
    replies = _send(dialog, _edit("$edit1", original, "!agree Write the final report by Friday"))
    assert len(replies) == 1
    assert "I don't carry out changes to a command" in replies[0]
    assert _agreements(dialog) == [(1, "Write the report")]


def test_a_new_message_after_the_answer_runs_as_usual(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Bericht schrieben")
    _send(dialog, _edit("$edit1", dialog.last_event_id, "!verabredung Bericht schreiben"))
    assert "#2" in dialog.text(ANNA, "!verabredung Bericht schreiben")
    assert _agreements(dialog) == [(1, "Bericht schrieben"), (2, "Bericht schreiben")]


def test_a_replayed_edit_is_answered_once(dialog: Dialog) -> None:
    dialog.say(ANNA, "!liste")
    edit = _edit("$edit1", dialog.last_event_id, "!liste alle")
    assert len(_send(dialog, edit)) == 1
    assert _send(dialog, edit) == []


def test_editing_many_messages_into_commands_is_flood_controlled(dialog: Dialog) -> None:
    dialog.defaults = Defaults(features={"limits": Limits(command_burst=5)})
    for _ in range(8):
        dialog.chat(BEN, "Bericht bis Freitag?")
    handlers, _ = _handlers(dialog)  # one bot: one flood control for all the edits
    before = dialog._last_row()
    for n in range(1, 9):
        event = _edit(f"$edit{n}", f"$ev{n}", "!liste")
        asyncio.run(handlers.on_text(_room(dialog), event))
    # As many answers as commands in a row (limits.command_burst), then none.
    assert len(dialog.sent_since(before)) == 5
    assert _agreements(dialog) == []
