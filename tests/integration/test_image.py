"""The container image, run as an operator runs it: with podman, against a real Synapse and
PostgreSQL, configured by deploy/config.compose.yaml with the secrets in the environment.

scripts/image builds the image and runs this test (`pytest -m image`); the suite's default
run leaves it out (pyproject.toml), as it needs the image built first. GREMIENBOT_IMAGE
names the image (scripts/image sets it).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from bot.devtools.member import SeenMessage
from bot.devtools.synapse import LocalSynapse
from tests.conftest import PG_ADMIN_URL
from tests.integration.conftest import PASSWORD, MemberFactory, unique

pytestmark = [
    pytest.mark.image,
    pytest.mark.skipif(
        shutil.which("podman") is None,
        reason="podman is not installed: the image is built and run with it (scripts/image)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("GREMIENBOT_IMAGE", "localhost/gremienbot:test")
BOT_UID = 1000

# What these machines need (docs/deployment.md, "Building with podman"): runc, as crun
# cannot start containers here; rlimits podman can set here; the host's network, where
# Synapse and PostgreSQL listen on 127.0.0.1. Without systemd nothing can time the
# health checks: the test runs them itself (`podman healthcheck run`), as a timer would.
RUN_FLAGS = [
    "--runtime",
    "runc",
    "--ulimit",
    "nofile=4096:4096",
    "--ulimit",
    "nproc=4096:4096",
    "--network",
    "host",
    "--health-interval",
    "disable",
]


def podman(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def podman_ok(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> str:
    done = podman(*args, timeout=timeout, env=env)
    assert done.returncode == 0, f"podman {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip()


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the bot in the container."""
    name = f"gremienbot_image_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Container:
    name: str
    volumes: dict[str, str]  # mount point in the container -> named volume

    def state(self, field: str) -> str:
        return podman_ok("inspect", "--format", f"{{{{.State.{field}}}}}", self.name)

    def run(self, config_dir: Path, secrets: dict[str, str]) -> None:
        """Start the image in the background, the secrets in its environment only."""
        podman_ok(
            "run",
            "--detach",
            "--name",
            self.name,
            *RUN_FLAGS,
            *(f"--volume={volume}:{mount}" for mount, volume in self.volumes.items()),
            f"--volume={config_dir}:/config:ro",
            *(f"--env={name}" for name in secrets),
            IMAGE,
            timeout=120,
            env={**os.environ, **secrets},
        )

    def logs(self) -> str:
        done = podman("logs", self.name)
        return done.stdout + done.stderr

    def volume_path(self, mount: str) -> Path:
        return Path(
            podman_ok("volume", "inspect", "--format", "{{.Mountpoint}}", self.volumes[mount])
        )


@pytest.fixture
def container() -> Iterator[Container]:
    """The names of the test's container and its volumes; whatever exists is removed.
    scripts/image names the run, to remove them even if this process cannot."""
    run = os.environ.get("GREMIENBOT_IMAGE_RUN") or f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
    name = f"gremienbot-image-{run}"
    handle = Container(name, {"/data": f"{name}-data", "/keys": f"{name}-keys"})
    yield handle
    podman("rm", "--force", "--time", "5", name)
    for volume in handle.volumes.values():
        podman("volume", "rm", "--force", volume)


def write_config(folder: Path, synapse: LocalSynapse, user_id: str, metrics_port: int) -> None:
    """The compose example's config, pointed at the test homeserver; no secret in it."""
    data = yaml.safe_load((ROOT / "deploy" / "config.compose.yaml").read_text("utf-8"))
    data.update(
        homeserver=synapse.url,
        user_id=user_id,
        allowed_inviters={"users": [], "servers": [synapse.server_name]},
        coordination=[],
    )
    data["metrics"]["listen"] = f"127.0.0.1:{metrics_port}"
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(data), "utf-8")
    # Read by the container's user (uid 1000) through the read-only bind mount.
    folder.chmod(0o755)
    (folder / "config.yaml").chmod(0o644)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_healthy(box: Container, timeout: float = 150) -> None:
    """Run the image's HEALTHCHECK until it passes (start period: login, first sync)."""
    deadline = time.monotonic() + timeout
    while True:
        check = await asyncio.to_thread(podman, "healthcheck", "run", box.name)
        if check.returncode == 0:
            return
        if box.state("Running") != "true":
            pytest.fail(f"the container stopped before it was healthy:\n{box.logs()[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"not healthy after {timeout:.0f} s: {check.stdout}\n{box.logs()[-4000:]}")
        await asyncio.sleep(1)


def problems_in(volume: Path) -> list[str]:
    """Anything in a volume but directories 0700 and files 0600 owned by the bot's user."""
    found = []
    for entry in [volume, *sorted(volume.rglob("*"))]:
        info = entry.lstat()
        mode = stat.S_IMODE(info.st_mode)
        kind = "dir" if stat.S_ISDIR(info.st_mode) else "file"
        wanted = 0o700 if kind == "dir" else 0o600
        if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            found.append(f"{entry}: neither a file nor a directory")
        elif mode != wanted or (info.st_uid, info.st_gid) != (BOT_UID, BOT_UID):
            found.append(f"{entry}: {kind} {mode:o} {info.st_uid}:{info.st_gid}")
    return found


def log_errors(logs: str) -> list[str]:
    errors = []
    for line in logs.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if "Traceback" in line:
                errors.append(line)
            continue
        if isinstance(entry, dict) and entry.get("level") in {"ERROR", "CRITICAL"}:
            errors.append(line)
    return errors


async def test_the_image_runs_answers_a_member_and_keeps_its_data_private(
    synapse: LocalSynapse,
    make_member: MemberFactory,
    database_url: str,
    container: Container,
    tmp_path: Path,
) -> None:
    assert podman("image", "exists", IMAGE).returncode == 0, f"no image {IMAGE}: scripts/image"
    localpart = unique("bot")
    bot_user = synapse.register(localpart, PASSWORD)
    config_dir = tmp_path / "config"
    write_config(config_dir, synapse, bot_user, free_port())

    env = {"GREMIENBOT_PASSWORD": PASSWORD, "GREMIENBOT_DATABASE_URL": database_url}
    await asyncio.to_thread(container.run, config_dir, env)

    await wait_healthy(container)
    assert container.state("Health.Status") == "healthy"

    anna = await make_member("anna")
    room = await anna.create_room("Steuerungsgruppe", encrypted=True, invite=(bot_user,))
    await anna.wait_for_member(room, bot_user, timeout=60)
    await anna.send(room, "!hilfe")
    answer = await anna.wait_for_reply(room, bot_user, 0, timeout=60)
    assert answer.decrypted
    assert "Gremienbot – Hilfe" in answer.body

    # A paper: WeasyPrint, Pango and the fonts work inside the image.
    await anna.send(room, "!liste pdf")

    def papers() -> list[SeenMessage]:
        return [
            e
            for e in anna.events
            if e.sender == bot_user
            and e.room_id == room
            and str(e.content.get("filename", "")).endswith(".pdf")
        ]

    await anna.wait_until(lambda: bool(papers()), timeout=90)
    [paper] = papers()
    assert (await anna.download(paper.content)).startswith(b"%PDF-")

    await asyncio.to_thread(podman_ok, "stop", "--time", "30", container.name, timeout=60)
    logs = container.logs()
    assert container.state("ExitCode") == "0", logs[-4000:]
    assert log_errors(logs) == []

    data = container.volume_path("/data")
    assert any(p.is_file() for p in data.rglob("*")), "the bot kept nothing in /data"
    assert (container.volume_path("/keys") / "voter.key").is_file()
    for mount in container.volumes:
        assert problems_in(container.volume_path(mount)) == [], mount
