"""The bot is killed (SIGKILL) and restarted: a reminder due meanwhile arrives exactly once.

The bot runs as operators run it (`python -m bot run`). Reminders are written to its
database while it is down, as `!erinnere` stores them, due a second later; a restart some
seconds after that finds them due.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import load_config
from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse, _http
from bot.runtime import credentials
from bot.runtime.matrix_render import render_reply
from commands.core.timers import TimerEnv
from commands.reminders.plan import mark_handled, plan
from storage import outbox
from storage.models import LogStatus, OutboxMessage, OutboxStatus
from storage.models.reminders import ReminderLog
from tests.integration.conftest import PASSWORD, BotProcess, MemberFactory, unique, write_config
from tests.integration.reminder_helpers import (
    bot_messages,
    database,
    events_in_room,
    insert_reminder,
    room_with_bot,
    utcnow,
    wait_for_bot_message,
)

pytestmark = pytest.mark.synapse


async def _running_bot(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path, *, encrypted: bool = False
) -> tuple[Path, BotProcess, Member, str, str]:
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    # A reminder 2 s late counts as late here (300 s in production).
    config = write_config(tmp_path, synapse, localpart, reminders={"late_after_seconds": 2})
    bot_user = f"@{localpart}:{synapse.server_name}"
    process = BotProcess(config)
    process.start()
    anna = await make_member("anna")
    room = await room_with_bot(anna, bot_user, encrypted=encrypted)
    await anna.send(room, "!hilfe")
    await anna.wait_for_reply(room, bot_user, 0, timeout=30)
    return config, process, anna, room, bot_user


async def test_reminder_due_while_the_bot_was_killed_arrives_once_marked_late(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    # In an end-to-end encrypted room, as committee rooms usually are.
    config, process, anna, room, bot_user = await _running_bot(
        synapse, make_member, tmp_path, encrypted=True
    )
    try:
        process.kill()
        db = database(config)
        insert_reminder(
            db,
            room,
            text="Protokoll verschicken",
            due_at=utcnow() + dt.timedelta(seconds=1),
            created_by=anna.user_id,
            created_at=utcnow(),
            mentions=[anna.user_id],
        )
        await asyncio.sleep(4)  # due during the downtime, and more than 2 s ago at restart

        process.start()
        late = await wait_for_bot_message(anna, bot_user, room, "Protokoll verschicken", timeout=30)
        assert late.decrypted
        assert "Verspätet" in late.body
        assert late.content["m.mentions"] == {"user_ids": [anna.user_id]}
        await asyncio.sleep(3)
        assert len(bot_messages(anna, bot_user, room, "Protokoll verschicken")) == 1
        undecryptable = [m for m in anna.messages_from(bot_user, room) if not m.decrypted]
        assert undecryptable == []
        with db.session() as s:
            [entry] = s.exec(select(ReminderLog)).all()
            assert entry.status == LogStatus.SENT
            assert entry.late
        db.dispose()
        assert process.stop() == 0
    finally:
        if process.proc and process.proc.poll() is None:
            process.kill()
    assert "Traceback" not in process.log()


async def test_killed_after_the_homeserver_took_the_reminder_it_is_not_posted_twice(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    config, process, anna, room, bot_user = await _running_bot(synapse, make_member, tmp_path)
    try:
        process.kill()
        db = database(config)
        now = utcnow()
        insert_reminder(
            db,
            room,
            text="Haushaltsplan lesen",
            due_at=now,
            created_by=anna.user_id,
            created_at=now - dt.timedelta(seconds=1),
        )
        # What the killed bot had done: queued the reminder and recorded it (one transaction),
        # and its send reached the homeserver, but the kill came before it noted that.
        with db.session() as s:
            [due] = plan(s, now, TimerEnv()).due
            assert due.reply is not None
            msg = outbox.enqueue(
                s,
                key=f"reminder:{due.key}",
                room_id=room,
                content=render_reply(due.reply),
                ref_kind=due.reply.ref_kind,
                ref_id=due.reply.ref_id,
            )
            mark_handled(s, due, outbox_id=msg.id, now=now)
        # Only this row: the reply to !hilfe may still be pending too, as the kill can come
        # between the homeserver taking it and the bot noting that.
        with db.session() as s:
            row = s.get(OutboxMessage, msg.id)
            assert row is not None
            assert row.status == OutboxStatus.PENDING
        creds = credentials.load(load_config(config).data_dir)
        assert creds is not None
        status, body = await asyncio.to_thread(
            _http,
            "PUT",
            f"{synapse.url}/_matrix/client/v3/rooms/{room}/send/m.room.message/{row.txn_id}"
            f"?access_token={creds.access_token}",
            json.loads(row.content),
        )
        assert status == 200, body
        first_event = body["event_id"]

        process.start()
        for _ in range(300):
            with db.session() as s:
                sent = s.get(OutboxMessage, row.id)
                if sent is not None and sent.status == OutboxStatus.SENT:
                    break
            await asyncio.sleep(0.1)
        assert sent is not None
        assert sent.event_id == first_event
        await asyncio.sleep(2)
        assert await events_in_room(anna, room, bot_user, "Haushaltsplan lesen") == [first_event]
        db.dispose()
    finally:
        if process.proc and process.proc.poll() is None:
            process.kill()


async def test_a_second_bot_process_on_the_same_database_refuses_to_start(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    config, process, anna, room, bot_user = await _running_bot(synapse, make_member, tmp_path)
    second = BotProcess(config)
    try:
        second.start()
        assert second.proc is not None
        code = await asyncio.to_thread(second.proc.wait, 30)
        assert code == 1
        assert "refusing to start a second one" in second.log()
        # The first one goes on as before.
        await anna.send(room, "!erinnerungen")
        answer = await anna.wait_for_reply(room, bot_user, 1, timeout=30)
        assert "Wochenüberblick" in answer.body or "keine Erinnerung" in answer.body
        assert process.stop() == 0
    finally:
        for p in (process, second):
            if p.proc and p.proc.poll() is None:
                p.kill()
