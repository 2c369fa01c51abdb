"""The homeserver is stopped while a reminder falls due, started again: it arrives once.

This test runs its own homeserver (not the session's), so stopping it disturbs no other test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select

from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from storage.models import OutboxMessage, OutboxStatus
from storage.models.reminders import ReminderLog
from tests.integration.conftest import PASSWORD, write_config
from tests.integration.reminder_helpers import (
    database,
    events_in_room,
    insert_reminder,
    room_with_bot,
    start_bot,
    stop_bot,
    utcnow,
    wait_for_room_event,
)

pytestmark = pytest.mark.synapse


async def test_reminder_due_while_the_homeserver_is_down_arrives_once_after_it_is_back(
    tmp_path: Path,
) -> None:
    server = LocalSynapse(tmp_path / "hs")
    await asyncio.to_thread(server.start)
    anna: Member | None = None
    try:
        server.register("bot", PASSWORD)
        config = write_config(tmp_path, server, "bot", reminders={"late_after_seconds": 2})
        bot, task = await start_bot(config)
        anna_id = server.register("anna", PASSWORD)
        anna = Member(server.url, anna_id, PASSWORD, tmp_path / "anna")
        await anna.login()
        bot_user = bot.config.user_id
        room = await room_with_bot(anna, bot_user)
        await anna.send(room, "!hilfe")
        await anna.wait_for_reply(room, bot_user, 0)

        db = database(config)
        # Later than the bot needs to notice (its 1 s sync has not come back for 6 s).
        due_at = utcnow() + dt.timedelta(seconds=9)
        insert_reminder(
            db,
            room,
            text="Zahlen an die Statistik melden",
            due_at=due_at,
            created_by=anna_id,
            created_at=utcnow(),
            mentions=[anna_id],
        )
        bot.scheduler.poke()
        await asyncio.to_thread(server.stop)
        await asyncio.sleep((due_at - utcnow()).total_seconds() + 3)
        assert not task.done(), "the bot must survive the outage"
        with db.session() as s:
            # Not queued while the bot cannot see the room: the outage might hide a
            # command (`!erinnere löschen`) it has to handle first.
            assert s.exec(select(ReminderLog)).all() == []

        await asyncio.to_thread(server.start)
        late = await wait_for_room_event(anna, room, bot_user, "Zahlen an die Statistik")
        assert "Verspätet" in late.body
        assert late.source["content"]["m.mentions"] == {"user_ids": [anna_id]}
        await asyncio.sleep(3)
        assert len(await events_in_room(anna, room, bot_user, "Zahlen an die Statistik")) == 1
        with db.session() as s:
            assert len(s.exec(select(ReminderLog)).all()) == 1
            pending = s.exec(
                select(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT)
            ).all()
            assert pending == []
        db.dispose()
        await stop_bot(bot, task)
    finally:
        if anna is not None:
            await anna.close()
        await asyncio.to_thread(server.stop)
