"""The stage of a load scenario: a throwaway Synapse of its own, the bot's account and config,
the members in their rooms, and the bot processes started on it — all torn down after."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.devtools.synapse import LocalSynapse
from tests.integration.bot_process import BotProcess
from tests.integration.conftest import PASSWORD, write_config
from tests.integration.load_rooms import FAST_LOGIN, Cast, build_cast


@dataclass
class Scene:
    server: LocalSynapse
    bot_user: str
    config: Path
    cast: Cast
    bots: list[BotProcess] = field(default_factory=list)

    def bot(self, *, clock_offset: dt.timedelta = dt.timedelta()) -> BotProcess:
        """A bot process on this stage (not started yet); stopped when the scene ends."""
        process = BotProcess(self.config, clock_offset=clock_offset)
        self.bots.append(process)
        return process


@contextlib.asynccontextmanager
async def load_scene(
    tmp_path: Path,
    *,
    rooms: int,
    users: int,
    encrypted_rooms: int,
    per_encrypted_room: int = 3,
) -> AsyncIterator[Scene]:
    server = LocalSynapse(tmp_path / "hs", extra_config=FAST_LOGIN)
    await asyncio.to_thread(server.start)
    scene: Scene | None = None
    try:
        bot_user = await asyncio.to_thread(server.register, "bot", PASSWORD)
        config = write_config(tmp_path, server, "bot")
        cast = await build_cast(
            server,
            bot_user,
            tmp_path / "stores",
            rooms=rooms,
            users=users,
            encrypted_rooms=encrypted_rooms,
            per_encrypted_room=per_encrypted_room,
        )
        scene = Scene(server, bot_user, config, cast)
        yield scene
    finally:
        if scene is not None:
            for process in scene.bots:
                process.stop()
            await scene.cast.close()
        await asyncio.to_thread(server.stop)
