"""The floor a bot's answer times are compared with: a minimal nio echo bot.

It answers every `!` command with a notice in reply (`m.in_reply_to`), nothing else; with a
store directory it also reads and writes encrypted rooms, as a plain nio bot does (keys
uploaded, queried and claimed by `sync_forever`, unverified devices accepted). Used in this
process (bench_command_latency.py) or as a process of its own (bench_burst.py):

    python -m tests.benchmarks.echo_bot HOMESERVER USER_ID PASSWORD [STORE_DIR]
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, InviteMemberEvent, MatrixRoom, RoomMessageText

READY = "echo bot ready"
# Its own answers come back too. `sync_filter=` gives it another one (bench_command_latency:
# gremienbot's, so that both ask the homeserver for the same).
SYNC_FILTER = {"room": {"timeline": {"limit": 200}}}


class EchoBot:
    def __init__(
        self,
        url: str,
        user_id: str,
        store: Path | None = None,
        *,
        sync_filter: dict[str, Any] | None = None,
    ) -> None:
        self.sync_filter = SYNC_FILTER if sync_filter is None else sync_filter
        # What it answers (its reply relation added). bench_command_latency sets gremienbot's
        # answer here, so that both answers cost the homeserver and the member the same.
        self.answer: dict[str, Any] = {"msgtype": "m.notice", "body": "echo"}
        if store is None:
            self.client = AsyncClient(url, user_id)
        else:
            store.mkdir(parents=True, exist_ok=True)
            self.client = AsyncClient(
                url,
                user_id,
                store_path=str(store),
                config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
            )
        self.task: asyncio.Task[None] | None = None

    async def start(self, password: str) -> None:
        await self.client.login(password)
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self.client.add_event_callback(self._on_text, RoomMessageText)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        # A timeline larger than the default 10, so that a burst between two syncs is not
        # cut short (a limited timeline, which this minimal bot would not page back).
        self.task = asyncio.create_task(
            self.client.sync_forever(timeout=30000, sync_filter=self.sync_filter)
        )

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != self.client.user_id and event.body.startswith("!"):
            await self.client.room_send(
                room.room_id,
                "m.room.message",
                {
                    **self.answer,
                    "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
                },
                ignore_unverified_devices=True,
            )

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.client.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    async def join_invites(self, room_id: str) -> None:
        await self.client.join(room_id)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        await self.client.close()


async def _main(url: str, user_id: str, password: str, store: str | None) -> None:
    bot = EchoBot(url, user_id, Path(store) if store else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await bot.start(password)
    print(READY, flush=True)
    await stop.wait()
    await bot.stop()


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(_main(args[0], args[1], args[2], args[3] if len(args) > 3 else None))
