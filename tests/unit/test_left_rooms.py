"""A room the bot was removed from: nothing more is queued for it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.runtime.incoming import IncomingMessage, handle_message
from storage import events, rooms
from storage.models import OutboxMessage
from tests.dialog import ANNA, Dialog


def test_a_command_read_after_the_bot_was_removed_from_the_room_is_not_answered(
    dialog: Dialog,
) -> None:
    """The kick can be seen (and the room's queued answers dropped) while the room's
    earlier commands are still being handled: those get no answer that could never be
    sent, and they are not handled again either."""
    dialog.say(ANNA, "!hilfe")
    with dialog.database.session() as s:
        rooms.mark_left(s, dialog.room_id, at=dialog.now)
        before = len(s.exec(select(OutboxMessage)).all())
    msg = IncomingMessage(
        room_id=dialog.room_id,
        event_id="$written-before-the-kick",
        sender=ANNA,
        timestamp=dialog.now - dt.timedelta(seconds=1),
        body="!verabredung Raum buchen",
    )
    assert handle_message(dialog.database, msg, dialog.settings, lambda: dialog.now) == 0
    with dialog.database.session() as s:
        assert len(s.exec(select(OutboxMessage)).all()) == before
        assert events.is_processed(s, msg.event_id)
