"""Helpers of the effect tests: effects queued straight into a bot's database (no command
returns them yet), and what a member's client finds in a room afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nio import InviteMemberEvent, MatrixRoom, RoomMessagesResponse

from bot.devtools.member import Member
from bot.runtime.app import GremienBot
from bot.runtime.incoming import queue_effects
from commands.core.effects import AnyEffect
from storage import outbox
from storage.db import Database


def queue(db: Database, source: str, room_id: str, effects: Sequence[AnyEffect]) -> None:
    """What a command's handling does with the effects it returns (one transaction)."""
    with db.session() as s:
        assert queue_effects(s, source, room_id, effects) == len(effects)


async def queue_in(
    bot: GremienBot, source: str, room_id: str, effects: Sequence[AnyEffect]
) -> None:
    """`queue` in a running bot's database thread, as a command's handling runs: the bot
    writes from that one thread only, and a second writer beside it may find SQLite
    busy (a read turned write after the bot committed is refused at once, not waited for)."""
    await bot.dbt.run_until_answered(queue, bot.db, source, room_id, effects)


def row_status(db: Database, key: str) -> tuple[str, str | None, str | None]:
    with db.session() as s:
        row = outbox.by_key(s, key)
        assert row is not None, key
        return row.status, row.event_id, row.room_id


async def wait_sent(db: Database, keys: Sequence[str], timeout: float = 30) -> dict[str, str]:
    """The event IDs of the rows stored under `keys`, once all are sent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        rows = {k: row_status(db, k) for k in keys}
        if all(status == "sent" for status, _, _ in rows.values()):
            return {k: str(event_id) for k, (_, event_id, _) in rows.items()}
        if loop.time() > deadline:
            raise TimeoutError(f"not all sent: {rows}")
        await asyncio.sleep(0.1)


@dataclass
class Invite:
    room_id: str
    is_direct: bool


def accept_invites(member: Member, inviter: str) -> list[Invite]:
    """Join every room `inviter` invites the member to, as a person accepting a DM does."""
    invites: list[Invite] = []

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != member.user_id or event.membership != "invite":
            return
        if event.sender != inviter or any(i.room_id == room.room_id for i in invites):
            return
        invites.append(Invite(room.room_id, bool(event.content.get("is_direct"))))
        await member.client.join(room.room_id)

    member.client.add_event_callback(on_invite, InviteMemberEvent)
    return invites


@dataclass
class SeenEvent:
    event_id: str
    type: str
    content: dict[str, Any]
    encrypted: bool


async def timeline(member: Member, room_id: str, sender: str) -> list[SeenEvent]:
    """`sender`'s messages (no state) in the room as the homeserver keeps them, oldest
    first, decrypted where the member can (read with /messages, not from their sync)."""
    resp = await member.client.room_messages(room_id, start=None, limit=1000)
    assert isinstance(resp, RoomMessagesResponse), resp
    seen = []
    for event in reversed(resp.chunk):
        source = event.source
        if event.sender != sender or "state_key" in source:
            continue
        seen.append(
            SeenEvent(
                event.event_id,
                str(source.get("type", "")),
                dict(source.get("content") or {}),
                encrypted=bool(getattr(event, "decrypted", False)),
            )
        )
    return seen


async def download(member: Member, mxc: str) -> bytes:
    """The stored bytes of an upload (ciphertext for an encrypted attachment)."""
    server, media_id = mxc.removeprefix("mxc://").split("/", 1)
    client = member.client
    resp = await client.send(
        "GET",
        f"/_matrix/client/v1/media/download/{server}/{media_id}",
        headers={"Authorization": f"Bearer {client.access_token}"},
    )
    assert resp.status == 200, await resp.text()
    return bytes(await resp.read())
