"""A real Synapse for the whole session, real bots and real members against it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml
from nio import AsyncClient

from bot.config import Config, load_config
from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from bot.runtime.app import GremienBot

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSynapse]:
    server = LocalSynapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid()}x{next(_counter)}"


def write_config(path: Path, synapse: LocalSynapse, localpart: str, **overrides: object) -> Path:
    data: dict[str, Any] = {
        "homeserver": synapse.url,
        "user_id": f"@{localpart}:{synapse.server_name}",
        "password": PASSWORD,
        "device_name": "gremienbot-test",
        "data_dir": str(path / "data"),
        "allowed_inviters": {"servers": [synapse.server_name]},
        "coordination": [],
    }
    data.update(overrides)
    cfg = path / "config.yaml"
    cfg.write_text(yaml.safe_dump(data), "utf-8")
    return cfg


@dataclass
class RunningBot:
    config: Config
    bot: GremienBot
    task: asyncio.Task[None]

    @property
    def user_id(self) -> str:
        return self.config.user_id

    @property
    def client(self) -> AsyncClient:
        """The bot's client: set before `make_bot` hands the bot out, as it has started."""
        assert self.bot.client is not None
        return self.bot.client

    async def stop(self) -> None:
        self.bot.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=30)


class BotFactory(Protocol):
    """`make_bot`: starts the test's bot and returns it running. Its configuration is
    written (again) in the test's directory with `overrides` on top, or read from
    `config_path`; the same data directory means the same bot, restarted."""

    def __call__(
        self, config_path: Path | None = None, **overrides: object
    ) -> Awaitable[RunningBot]: ...


class MemberFactory(Protocol):
    """`make_member`: a new, logged-in member whose localpart starts with `name`."""

    def __call__(self, name: str = "member") -> Awaitable[Member]: ...


@pytest.fixture
async def make_bot(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[BotFactory]:
    """Start gremienbot in this process; the same directory restarts the same bot."""
    running: list[RunningBot] = []
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)

    async def start(config_path: Path | None = None, **overrides: object) -> RunningBot:
        path = config_path or write_config(tmp_path, synapse, localpart, **overrides)
        config = load_config(path)
        bot = GremienBot(config, sync_timeout_ms=1000, max_retry_wait=1.0)
        await bot.start()
        task = asyncio.create_task(bot.run())
        await asyncio.wait_for(bot.ready.wait(), timeout=30)
        handle = RunningBot(config, bot, task)
        running.append(handle)
        return handle

    yield start
    for handle in running:
        if not handle.task.done():
            await handle.stop()


@pytest.fixture
async def make_member(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[MemberFactory]:
    members: list[Member] = []

    async def create(name: str = "member") -> Member:
        localpart = unique(name)
        user_id = synapse.register(localpart, PASSWORD)
        member = Member(synapse.url, user_id, PASSWORD, tmp_path / f"store-{localpart}")
        await member.login()
        members.append(member)
        return member

    yield create
    for m in members:
        await m.close()


async def until_bot_can_write_to(
    watcher: Member, client: AsyncClient, room: str, user_id: str, timeout: float = 30
) -> None:
    """Wait until the bot has seen `user_id` join `room` and knows a device of theirs.

    An Element client uploads its device keys on its own time, under load after it has
    joined: what the bot encrypts before it knows that device, the device can never read.
    """
    await watcher.wait_until(
        lambda: (
            room in client.rooms
            and user_id in client.rooms[room].users
            and any(client.device_store.active_user_devices(user_id))
        ),
        timeout=timeout,
    )


@dataclass
class BotProcess:
    """gremienbot started as an operator starts it: `gremienbot run --config …`."""

    config_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The child keeps its own copy of the file descriptor: ours can close at once.
        with open(self.config_path.parent / "bot.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)

    def log(self) -> str:
        return (self.config_path.parent / "bot.log").read_text("utf-8", errors="replace")
