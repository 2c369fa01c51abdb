"""The bot is removed (kicked) from one committee room while reminders are pending there.

Answers the bot owed that room are still waiting to be sent when the kick comes (the
test holds the sender back until the bot has seen the kick), and a reminder in that room
falls due afterwards. Another room, with a reminder of its own, goes on as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.devtools.synapse import LocalSynapse
from bot.runtime.matrix_render import GREETING_MARK
from bot.runtime.sender import SEND_CONCURRENCY, OutboxSender
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, ProcessedEvent
from storage.models.reminders import ReminderLog
from tests.integration.conftest import PASSWORD, MemberFactory, unique, write_config
from tests.integration.fault_helpers import (
    assert_answered_once_in_order,
    assert_posted_what_the_outbox_holds,
    committee,
    from_bot,
    history,
    send,
    settled,
    wait_for_answers,
)
from tests.integration.reminder_helpers import (
    database,
    insert_reminder,
    start_bot,
    stop_bot,
    utcnow,
)

pytestmark = pytest.mark.synapse

DUE_IN = dt.timedelta(seconds=8)


@contextlib.asynccontextmanager
async def _sender_held(sender: OutboxSender) -> AsyncIterator[None]:
    """No queue is sent while held: every one of the sender's slots is taken."""
    slots = sender._slots
    for _ in range(SEND_CONCURRENCY):
        await slots.acquire()
    try:
        yield
    finally:
        for _ in range(SEND_CONCURRENCY):
            slots.release()


async def test_kicked_from_one_room_the_bot_drops_what_it_owed_there_and_the_others_go_on(
    synapse: LocalSynapse,
    make_member: MemberFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Afterwards: what was queued for the removed room is dropped, with a log line
    saying so; nothing is queued there after the kick (its reminder neither posted nor
    recorded); the other room's commands are all answered once, in order, and its
    reminder arrives once."""
    caplog.set_level(logging.WARNING, logger="bot.runtime.app")
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    bot, task = await start_bot(config)
    bot_user = bot.config.user_id
    try:
        anna = await make_member("anna")
        kicked = await committee([anna], bot_user, "Arbeitskreis Übergang Kita–Schule")
        other = await committee([anna], bot_user, "Bildungskonferenz")
        hello = {r: [await send(anna, r, "!hilfe")] for r in (kicked, other)}
        await wait_for_answers(anna, bot_user, hello, timeout=30)

        db = database(config)
        due = utcnow() + DUE_IN
        for room, text in ((kicked, "Reminder im alten Raum"), (other, "Reminder im Nachbarraum")):
            insert_reminder(
                db, room, text=text, due_at=due, created_by=anna.user_id, created_at=utcnow()
            )
        bot.scheduler.poke()

        # The homeserver has not taken the answers for the room yet when the kick comes.
        async with _sender_held(bot.sender):
            owed = [await send(anna, kicked, f"!verabredung Letzter Punkt {i}") for i in range(3)]
            await _until(lambda: _handled(db, owed), "the commands were not handled")
            kick = await anna.client.room_kick(kicked, bot_user, reason="Gremium aufgelöst")
            assert type(kick).__name__ == "RoomKickResponse", kick
            kicked_at = utcnow()
            await _until(
                lambda: any(
                    f"no longer in {kicked}; dropped 3 message(s)" in r.getMessage()
                    for r in caplog.records
                ),
                "the bot did not log what it dropped",
            )

        sent = hello[other] + [
            await send(anna, other, f"!verabredung Punkt {i} klären") for i in range(5)
        ]
        await wait_for_answers(
            anna,
            bot_user,
            {other: sent},
            timeout=60,
            also=lambda said: bool(from_bot(said[other], bot_user, "Reminder im Nachbarraum")),
        )
        await asyncio.sleep(max(0.0, (due - utcnow()).total_seconds()) + 2)
        said = (await settled(anna, [other]))[other]
        assert_answered_once_in_order(said, bot_user, sent)
        assert len(from_bot(said, bot_user, "Reminder im Nachbarraum")) == 1
        assert_posted_what_the_outbox_holds(db, other, said, bot_user)

        in_kicked = await history(anna, kicked)
        # Its greeting on joining and the answer to `!hilfe`, nothing after the kick.
        posted = [m for m in in_kicked if m.sender == bot_user]
        assert [m.content.get(GREETING_MARK) for m in posted] == [True, None], "posted after"
        with db.session() as s:
            rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.room_id == kicked)))
            logged = list(s.exec(select(ReminderLog)))
        statuses = sorted(r.status for r in rows)
        assert statuses == sorted([OutboxStatus.SENT] * 2 + [OutboxStatus.DROPPED] * 3), statuses
        assert all(r.created_at < kicked_at for r in rows), "queued after the kick"
        assert len(logged) == 1, "only the other room's reminder is recorded"
        db.dispose()
    finally:
        await stop_bot(bot, task)


def _handled(db: Database, event_ids: list[str]) -> bool:
    with db.session() as s:
        found = s.exec(
            select(ProcessedEvent).where(col(ProcessedEvent.event_id).in_(event_ids))
        ).all()
    return len(found) == len(event_ids)


async def _until(predicate: Callable[[], bool], message: str, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.1)
