"""gremienbot in a process of its own, as `gremienbot run` starts it, on a shifted clock.

The load scenarios run it apart from their hundreds of simulated members, so its memory
(peak RSS, from /proc) and its log are its own. Run as a module, it is the process:

    python -m tests.integration.bot_process CONFIG CLOCK_OFFSET_SECONDS
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.config import load_config
from bot.runtime import voter_key
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
READY = "first sync done"
_PROBLEM = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) |^Traceback", re.MULTILINE)


class BotProcess:
    """Start, watch and stop the bot process; read its database, log and memory."""

    def __init__(self, config_path: Path, *, clock_offset: dt.timedelta = dt.timedelta()) -> None:
        self.config_path = config_path
        self.config = load_config(config_path)
        self.clock_offset = clock_offset
        self.log_path = config_path.parent / "bot.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0  # time.monotonic() at the last start
        self.started_wall = 0.0  # time.time() at the last start
        self._ready_before = 0

    @property
    def user_id(self) -> str:
        return self.config.user_id

    def database(self) -> Database:
        """The bot's database as the bot opens it: with its voter key, which keys the
        outbox transaction IDs and handled events (looking a message up by its key)."""
        key = voter_key.load_or_create(self.config.data_dir, self.config.voter_key_path)
        return Database(self.config.database_url, secret=key)

    def start(self) -> None:
        self._ready_before = self.log().count(READY)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.integration.bot_process",
                    str(self.config_path),
                    str(self.clock_offset.total_seconds()),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
            )
        self.started_at = time.monotonic()
        self.started_wall = time.time()

    async def wait_ready(self, timeout: float = 60) -> None:
        """Until the bot logs that its first sync came back."""
        deadline = time.monotonic() + timeout
        while self.log().count(READY) <= self._ready_before:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bot exited at start-up:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not get ready")
            await asyncio.sleep(0.1)

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""

    def errors(self) -> list[str]:
        """ERROR and CRITICAL lines and tracebacks of the bot's log."""
        text = self.log()
        return [text[m.start() : text.find("\n", m.start())] for m in _PROBLEM.finditer(text)]

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (VmHWM), in MiB."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kib = int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)[1])  # type: ignore[index]
        return kib / 1024


def _main(config_path: str, offset_seconds: str) -> None:
    from bot.runtime.app import GremienBot
    from storage.types import utcnow

    config = load_config(Path(config_path))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("nio").setLevel(logging.WARNING)
    offset = dt.timedelta(seconds=float(offset_seconds))
    log = logging.getLogger("bot_process")

    async def main() -> None:
        bot = GremienBot(config, clock=lambda: utcnow() + offset)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, bot.stop)
        await bot.start()
        run = asyncio.create_task(bot.run())
        ready = asyncio.create_task(bot.ready.wait())
        await asyncio.wait({run, ready}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            log.info(READY)
        await run

    asyncio.run(main())


if __name__ == "__main__":
    _main(*sys.argv[1:3])
