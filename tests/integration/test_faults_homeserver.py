"""The homeserver is stopped for a minute while a reminder falls due, then started again.

Members write commands right before the homeserver goes down and right after it is back;
a reminder set with `!erinnere in 1 minute …` falls due while it is down. The bot is not
restarted. This test runs its own homeserver (not the session's), so stopping it
disturbs no other test.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from sqlmodel import select

from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from storage.models.reminders import Reminder, ReminderLog
from tests.integration.conftest import PASSWORD, write_config
from tests.integration.fault_helpers import (
    Said,
    assert_answered_once_in_order,
    assert_posted_what_the_outbox_holds,
    committee,
    from_bot,
    send,
    settled,
    wait_for_answers,
)
from tests.integration.reminder_helpers import database, start_bot, stop_bot, utcnow

pytestmark = pytest.mark.synapse

OUTAGE = 60.0  # seconds the homeserver is down
REMINDER = "Unterlagen für den Jugendhilfeausschuss drucken"


async def _member(server: LocalSynapse, name: str, tmp_path: Path) -> Member:
    user_id = server.register(name, PASSWORD)
    member = Member(server.url, user_id, PASSWORD, tmp_path / name)
    # A client that was cut off tries again within seconds (nio's default waits up to a
    # minute between attempts, which would only make the test slower).
    member.client.config = dataclasses.replace(member.client.config, max_timeout_retry_wait_time=2)
    await member.login()
    return member


async def test_a_reminder_due_while_the_homeserver_was_down_arrives_once_and_no_command_is_lost(
    tmp_path: Path,
) -> None:
    """Afterwards: the reminder arrived exactly once; every command sent right before the
    stop and right after the restart is answered exactly once, in the order sent; the
    room holds exactly what the outbox says was sent; nothing is left pending."""
    server = LocalSynapse(tmp_path / "hs")
    await asyncio.to_thread(server.start)
    members: list[Member] = []
    try:
        server.register("bot", PASSWORD)
        config = write_config(tmp_path, server, "bot")
        bot, task = await start_bot(config)
        bot_user = bot.config.user_id
        members = [await _member(server, name, tmp_path) for name in ("anna", "ben")]
        anna = members[0]
        room = await committee(members, bot_user, "Jugendhilfeausschuss", encrypted=True)

        await send(anna, room, f"!erinnere in 1 minute {REMINDER}")
        set_once = await anna.wait_for_reply(room, bot_user, 0, timeout=30)
        assert "Gut, ich erinnere hier" in set_once.body, set_once.body
        sent = [await send(m, room, f"!verabredung Vorher {i}") for i, m in enumerate(members)]
        sent += [
            await send(m, room, f"!verabredung Kurz vorher {i}") for i, m in enumerate(members)
        ]
        await asyncio.to_thread(server.stop)  # at once: the answers may not be out yet
        down_at = utcnow()

        db = database(config)
        try:
            with db.session() as s:
                [reminder] = s.exec(select(Reminder).where(Reminder.room_id == room)).all()
            assert reminder.due_at is not None
            assert down_at < reminder.due_at
        finally:
            db.dispose()
        await asyncio.sleep(OUTAGE)
        assert not task.done(), "the bot must survive the outage"
        assert utcnow() > reminder.due_at, "the reminder must fall due during the outage"
        await asyncio.to_thread(server.start)

        # Right after the restart (the members' clients retry until their sends go through).
        sent += [
            await send(m, room, f"!verabredung Danach {i}", retry=True)
            for i, m in enumerate(members)
        ]
        sent.append(await send(anna, room, "!erinnerungen", retry=True))
        texts = ["Vorher 0", "Vorher 1", "Kurz vorher 0", "Kurz vorher 1", "Danach 0", "Danach 1"]
        await wait_for_answers(
            anna,
            bot_user,
            {room: sent},
            timeout=120,
            also=lambda rooms: bool(from_bot(rooms[room], bot_user, REMINDER)),
        )
        said = (await settled(anna, [room]))[room]

        def right_answer(i: int, answer: Said) -> bool:
            if i < len(texts):
                return f"Verabredung #{i + 1} festgehalten: {texts[i]}" in answer.body
            return REMINDER not in answer.body  # the reminder is no longer planned

        assert_answered_once_in_order(said, bot_user, sent, expect=right_answer)
        reminded = [m for m in from_bot(said, bot_user, REMINDER) if "Erinnerung" in m.body]
        assert len(reminded) == 1, [m.body for m in reminded]
        assert reminded[0].sent_at > reminder.due_at
        db = database(config)
        try:
            assert_posted_what_the_outbox_holds(db, room, said, bot_user)
            with db.session() as s:
                assert len(s.exec(select(ReminderLog)).all()) == 1
        finally:
            db.dispose()
        await stop_bot(bot, task)
    finally:
        for m in members:
            await m.close()
        await asyncio.to_thread(server.stop)
