"""Running tests/js/element_client.mjs (matrix-js-sdk, Element's library) from a test while
the test goes on: the script reports lines as it goes, its result as its last line."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCRIPT = JS_DIR / "element_client.mjs"


def node_or_skip() -> str:
    """Node.js with matrix-js-sdk installed (installed here if missing)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (needed for matrix-js-sdk)")
    if not (JS_DIR / "node_modules" / "matrix-js-sdk").is_dir():
        npm = shutil.which("npm")
        assert npm is not None, "npm is needed: npm ci --prefix tests/js"
        subprocess.run(
            [npm, "ci", "--prefix", str(JS_DIR), "--no-audit", "--no-fund"],
            check=True,
            timeout=300,
            capture_output=True,
        )
    return node


class ElementClient:
    """One run of the script; `line()` reads what it reports, `result()` its last word."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, node: str, **opts: Any) -> ElementClient:
        proc = await asyncio.create_subprocess_exec(
            node,
            str(SCRIPT),
            json.dumps(opts),
            cwd=JS_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def line(self, timeout: float = 60) -> dict[str, Any]:
        """The script's next report; the library's own log lines on stdout are skipped."""
        assert self.proc.stdout is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            raw = await asyncio.wait_for(
                self.proc.stdout.readline(), timeout=max(0.1, deadline - loop.time())
            )
            if not raw:
                raise AssertionError(f"node ended early; stderr:\n{await self._stderr()}")
            if raw.startswith(b"{"):
                break
        data = json.loads(raw)
        assert data.get("ok", True), f"{data.get('error')}\nstderr:\n{await self._stderr()}"
        return dict(data)

    async def result(self, timeout: float = 90) -> dict[str, Any]:
        data = await self.line(timeout)
        await asyncio.wait_for(self.proc.wait(), timeout=10)
        return data

    async def _stderr(self) -> str:
        assert self.proc.stderr is not None
        with_timeout = asyncio.wait_for(self.proc.stderr.read(), timeout=5)
        try:
            return (await with_timeout).decode(errors="replace")[-3000:]
        except TimeoutError:
            return "(no stderr)"

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
