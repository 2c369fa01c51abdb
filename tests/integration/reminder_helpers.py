"""Helpers of the reminder integration tests: a bot with a test clock, rows in its database."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.config import load_config
from bot.devtools.member import Member, SeenMessage
from bot.runtime import voter_key
from bot.runtime.app import GremienBot
from storage.db import Database
from storage.models import Agreement
from storage.types import utcnow
from tests import seed

Clock = Callable[[], dt.datetime]


def shifted_clock(target: dt.datetime, seconds_from_now: float) -> Clock:
    """A clock that reads ``target`` in ``seconds_from_now`` seconds and runs in real time."""
    offset = target - (utcnow() + dt.timedelta(seconds=seconds_from_now))
    return lambda: utcnow() + offset


async def start_bot(
    config_path: Path, *, clock: Clock | None = None
) -> tuple[GremienBot, asyncio.Task[None]]:
    config = load_config(config_path)
    if clock is None:
        bot = GremienBot(config, sync_timeout_ms=1000, max_retry_wait=1.0)
    else:
        bot = GremienBot(config, clock=clock, sync_timeout_ms=1000, max_retry_wait=1.0)
    await bot.start()
    task = asyncio.create_task(bot.run())
    await asyncio.wait_for(bot.ready.wait(), timeout=30)
    return bot, task


async def stop_bot(bot: GremienBot, task: asyncio.Task[None]) -> None:
    bot.stop()
    await asyncio.wait_for(task, timeout=30)


async def room_with_bot(
    member: Member, bot_user: str, name: str = "Steuerungsgruppe", *, encrypted: bool = False
) -> str:
    room_id = await member.create_room(name, invite=(bot_user,), encrypted=encrypted)
    await member.wait_for_member(room_id, bot_user, timeout=30)
    return room_id


def database(config_path: Path) -> Database:
    """The bot's database with its voter key, as the bot opens it (see bot_process)."""
    config = load_config(config_path)
    key = voter_key.load_or_create(config.data_dir, config.voter_key_path)
    return Database(config.database_url, secret=key)


def insert_agreement(
    db: Database,
    room_id: str,
    *,
    number: int,
    text: str,
    due: dt.date,
    owners: Sequence[str],
    created_by: str,
    created_at: dt.datetime,
) -> int:
    """An agreement as `!verabredung` stores it (beside a running bot, whose writes this
    waits for)."""
    with db.session() as s:
        seed.room(s, room_id, joined_at=created_at)
        a = seed.agreement(s, room_id, text, by=created_by, at=created_at, owners=owners, due=due)
        assert a.number == number
        assert a.id is not None
        return a.id


def agreement_status(db: Database, agreement_id: int) -> str:
    with db.session() as s:
        a = s.get(Agreement, agreement_id)
        assert a is not None
        return a.status


def insert_reminder(
    db: Database,
    room_id: str,
    *,
    text: str,
    due_at: dt.datetime,
    created_by: str,
    created_at: dt.datetime,
    mentions: Sequence[str] = (),
) -> int:
    """A one-off reminder as `!erinnere` stores it (beside a running bot, as above)."""
    with db.session() as s:
        r = seed.reminder(
            s, room_id, text, by=created_by, at=created_at, due_at=due_at, mentions=mentions
        )
        assert r.id is not None
        return r.id


def bot_messages(member: Member, bot_user: str, room_id: str, needle: str) -> list[SeenMessage]:
    """The bot's messages containing ``needle``, one per event: a sync that the member's
    client repeats after an error delivers the same event again, which is no second post."""
    found: dict[str, SeenMessage] = {}
    for m in member.messages_from(bot_user, room_id):
        if needle in m.body:
            found.setdefault(m.event_id, m)
    return list(found.values())


async def wait_for_bot_message(
    member: Member, bot_user: str, room_id: str, needle: str, *, timeout: float = 30
) -> SeenMessage:
    await member.wait_until(
        lambda: bool(bot_messages(member, bot_user, room_id, needle)), timeout=timeout
    )
    return bot_messages(member, bot_user, room_id, needle)[0]


async def room_events(member: Member, room_id: str, sender: str, needle: str) -> list[Any]:
    """``sender``'s messages containing ``needle``, as the homeserver keeps them (read with
    /messages, not from the member's sync)."""
    from nio import RoomMessagesResponse

    resp = await member.client.room_messages(room_id, start=None, limit=1000)
    assert isinstance(resp, RoomMessagesResponse), resp
    return [
        event
        for event in resp.chunk
        if event.sender == sender and needle in str(getattr(event, "body", None) or "")
    ]


async def events_in_room(member: Member, room_id: str, sender: str, needle: str) -> list[str]:
    return [e.event_id for e in await room_events(member, room_id, sender, needle)]


async def wait_for_room_event(
    member: Member, room_id: str, sender: str, needle: str, *, timeout: float = 30
) -> Any:
    """Polls /messages: unlike the member's sync, it does not back off after an outage."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        with contextlib.suppress(Exception):
            found = await room_events(member, room_id, sender, needle)
            if found:
                return found[0]
        if loop.time() > deadline:
            raise TimeoutError(f"no message with {needle!r} from {sender} in {room_id}")
        await asyncio.sleep(0.3)
