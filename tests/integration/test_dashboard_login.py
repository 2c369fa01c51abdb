"""The dashboard's login against a real Synapse, whose client listener serves the `openid`
resource (bot/devtools/synapse.py): the bot runs with `dashboard.listen`, and each person
asks their homeserver for an OpenID token the way Element's widget API does
(`POST /_matrix/client/v3/user/{userId}/openid/request_token`) and hands it to the bot.

A coordinator gets a session that reads the overview and downloads an XLSX; a chair sees
their committee only; a member of a committee gets 403, a forged token 401; a token that
names another server is refused without any connection to that server; an unknown or
expired bearer token 401; too many failed attempts from one address 429. Every response
carries the security headers, and no token reaches the log. One bot for the module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import openpyxl
import pytest

from bot.dashboard.server import DashboardServer
from bot.devtools.synapse import LocalSynapse
from bot.runtime.app import GremienBot
from tests.dashboard_scene import build
from tests.integration.conftest import PASSWORD, unique, write_config
from tests.integration.reminder_helpers import start_bot, stop_bot

pytestmark = pytest.mark.synapse

ELEMENT = "http://127.0.0.1:8080"
PREFIX = "/dashboard"


class _Lines(logging.Handler):
    """Every log line of the module, formatted as an operator's log would hold it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Scene:
    bot: GremienBot
    base: str
    http: aiohttp.ClientSession
    synapse: LocalSynapse
    coordinator: str
    chair: str
    member: str
    chair_room: str
    # Every OpenID and bearer token handed out in the module: none may reach the log.
    tokens: list[str] = field(default_factory=list)

    @property
    def server(self) -> DashboardServer:
        assert self.bot.dashboard is not None
        return self.bot.dashboard

    async def openid(self, user_id: str) -> dict[str, Any]:
        """The OpenID token the person's client gets for a widget (MSC1960)."""
        access = await self.login(user_id)
        url = f"{self.synapse.url}/_matrix/client/v3/user/{quote(user_id)}/openid/request_token"
        async with self.http.post(url, json={}, headers=_auth(access)) as resp:
            assert resp.status == 200, await resp.text()
            token: dict[str, Any] = await resp.json()
        self.tokens.append(token["access_token"])
        return token

    async def login(self, user_id: str) -> str:
        body = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": PASSWORD,
        }
        async with self.http.post(f"{self.synapse.url}/_matrix/client/v3/login", json=body) as r:
            assert r.status == 200, await r.text()
            return str((await r.json())["access_token"])

    async def session(
        self, openid: dict[str, Any], address: str | None = None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """POST api/session; `address`: the client a trusted reverse proxy names."""
        headers = {"X-Forwarded-For": address} if address else {}
        body = {k: openid.get(k) for k in ("access_token", "matrix_server_name")}
        async with self.http.post(self.base + "/api/session", json=body, headers=headers) as resp:
            found = await resp.json()
            if "token" in found:
                self.tokens.append(found["token"])
            return resp.status, found, dict(resp.headers)

    async def bearer(self, user_id: str) -> str:
        status, found, _ = await self.session(await self.openid(user_id))
        assert status == 200, found
        return str(found["token"])

    async def get(self, path: str, token: str | None) -> aiohttp.ClientResponse:
        headers = _auth(token) if token else {}
        resp = await self.http.get(self.base + path, headers=headers, allow_redirects=False)
        await resp.read()
        return resp


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def log_lines() -> Iterator[_Lines]:
    handler = _Lines()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture(scope="module")
async def scene(
    synapse: LocalSynapse, tmp_path_factory: pytest.TempPathFactory, log_lines: _Lines
) -> AsyncIterator[Scene]:
    path = Path(tmp_path_factory.mktemp("dashboard"))
    names = {role: unique(role) for role in ("bot", "buero", "vorsitz", "mitglied")}
    users = {role: synapse.register(name, PASSWORD) for role, name in names.items()}
    port = _free_port()
    config = write_config(
        path,
        synapse,
        names["bot"],
        coordination=[users["buero"]],
        dashboard={
            "listen": f"127.0.0.1:{port}",
            "public_url": f"https://bot.example.org{PREFIX}",
            "element_origins": [ELEMENT],
        },
    )
    bot, task = await start_bot(config)
    async with aiohttp.ClientSession() as http:
        found = Scene(
            bot=bot,
            base=f"http://127.0.0.1:{port}{PREFIX}",
            http=http,
            synapse=synapse,
            coordinator=users["buero"],
            chair=users["vorsitz"],
            member=users["mitglied"],
            chair_room="",
        )
        found.chair_room = await _committee(found, users["bot"])
        await asyncio.to_thread(build, bot.db, now=dt.datetime.now(dt.UTC))
        yield found
    await stop_bot(bot, task)


async def _committee(scene: Scene, bot_user: str) -> str:
    """The chair's committee room (they created it: level 100) with the bot and a member."""
    chair = await scene.login(scene.chair)
    body = {"name": "Schulausschuss", "invite": [bot_user, scene.member]}
    url = f"{scene.synapse.url}/_matrix/client/v3/createRoom"
    async with scene.http.post(url, json=body, headers=_auth(chair)) as resp:
        room_id = str((await resp.json())["room_id"])
    member = await scene.login(scene.member)
    join = f"{scene.synapse.url}/_matrix/client/v3/join/{quote(room_id)}"
    async with scene.http.post(join, json={}, headers=_auth(member)) as resp:
        assert resp.status == 200

    def known() -> bool:
        client = scene.bot.client
        room = client.rooms.get(room_id) if client is not None else None
        return room is not None and {scene.chair, scene.member} <= set(room.users) - set(
            room.invited_users
        )

    for _ in range(300):
        if known():
            return room_id
        await asyncio.sleep(0.1)
    raise AssertionError("the bot never saw the chair and the member in the room")


async def test_a_coordinators_openid_token_opens_a_session_for_the_overview(scene: Scene) -> None:
    openid = await scene.openid(scene.coordinator)
    assert openid["matrix_server_name"] == scene.synapse.server_name
    status, found, headers = await scene.session(openid)
    assert status == 200
    assert found["user_id"] == scene.coordinator
    assert found["role"] == "coordination"
    assert 0 < found["expires_in"] <= 3600
    assert headers["Cache-Control"] == "no-store"
    resp = await scene.get("/api/overview?lang=en", found["token"])
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.headers["Cache-Control"] == "no-store"
    data = await resp.json()
    assert data["lang"] == "en"
    assert data["user"] == {"user_id": scene.coordinator, "role": "coordination"}
    # The fifteen committees of the scene and the chair's room: every committee.
    assert len(data["committees"]) == 16
    assert sum(c["overdue"] for c in data["committees"]) == len(data["overdue"]) > 15
    assert "Excel spreadsheet" in [e["label"] for e in data["exports"]]


async def test_every_answer_carries_the_widgets_security_headers(scene: Scene) -> None:
    page = await scene.get("/", None)
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    for resp in (page, await scene.get("/api/overview", None), await scene.get("/nix", None)):
        policy = resp.headers["Content-Security-Policy"]
        assert f"frame-ancestors {ELEMENT};" in policy
        assert "default-src 'none'" in policy
        assert "script-src 'self';" in policy
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
    # Opened without the slash, the page moves to it and keeps what Element appended.
    moved = await scene.get("?widgetId=x&parentUrl=y", None)
    assert moved.status == 308
    assert moved.headers["Location"] == PREFIX + "/?widgetId=x&parentUrl=y"


async def test_the_coordinator_downloads_an_xlsx_that_a_spreadsheet_opens(scene: Scene) -> None:
    token = await scene.bearer(scene.coordinator)
    resp = await scene.get("/api/export?format=xlsx&room=all&lang=de", token)
    assert resp.status == 200
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="gremienbot-alle')
    assert resp.headers["Cache-Control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(await resp.read()))
    assert book.worksheets[0].max_row > 300  # a few hundred agreements and a header


async def test_a_chair_sees_their_committee_and_a_member_nothing(scene: Scene) -> None:
    status, found, _ = await scene.session(await scene.openid(scene.chair))
    assert (status, found["role"]) == (200, "chair")
    resp = await scene.get("/api/overview", found["token"])
    data = await resp.json()
    assert [c["room_id"] for c in data["committees"]] == [scene.chair_room]
    assert [e["format"] for e in data["exports"]] == ["pdf-report", "pdf-evaluation"]
    refused = await scene.get("/api/export?format=xlsx&room=all", found["token"])
    assert refused.status == 403
    # A member of the same committee: a valid token, but nothing they may see here.
    status, found, _ = await scene.session(await scene.openid(scene.member), "198.51.100.1")
    assert status == 403
    assert "token" not in found


async def test_a_forged_token_gets_401(scene: Scene) -> None:
    forged = {"access_token": "syt_forged_0123456789", "matrix_server_name": "localhost"}
    status, found, _ = await scene.session(forged, "198.51.100.2")
    assert status == 401
    assert "token" not in found


async def test_a_token_naming_another_server_is_refused_without_asking_it(scene: Scene) -> None:
    # The "other server" listens right here: it must never hear from the bot.
    connections: list[str] = []

    async def heard(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(str(writer.get_extra_info("peername")))
        writer.close()

    other = await asyncio.start_server(heard, "127.0.0.1", 0)
    port = other.sockets[0].getsockname()[1]
    try:
        openid = await scene.openid(scene.coordinator)
        for name in (f"127.0.0.1:{port}", f"localhost:{port}", "evil.example.org"):
            named = {**openid, "matrix_server_name": name}
            status, found, _ = await scene.session(named, "198.51.100.3")
            assert status == 401
            assert "token" not in found
        await asyncio.sleep(0.5)
    finally:
        other.close()
        await other.wait_closed()
    assert connections == []


async def test_an_unknown_or_expired_bearer_token_gets_401(scene: Scene) -> None:
    assert (await scene.get("/api/overview", None)).status == 401
    assert (await scene.get("/api/overview", "not-a-token")).status == 401
    token = await scene.bearer(scene.coordinator)
    sessions = scene.server.sessions
    clock = sessions.clock
    sessions.clock = lambda: clock() + 3601  # an hour and a second later
    try:
        resp = await scene.get("/api/overview", token)
        assert resp.status == 401
        assert (await scene.get("/api/export?format=csv", token)).status == 401
    finally:
        sessions.clock = clock


async def test_too_many_failed_logins_from_one_address_get_429(scene: Scene) -> None:
    forged = {"access_token": "syt_guess", "matrix_server_name": "localhost"}
    for _ in range(10):
        status, _, _ = await scene.session(forged, "203.0.113.7")
        assert status == 401
    status, found, headers = await scene.session(forged, "203.0.113.7")
    assert found == {"error": "too_many_attempts"}
    assert status == 429
    assert int(headers["Retry-After"]) > 0
    # Even a good token waits: the address is blocked, not the token.
    status, _, _ = await scene.session(await scene.openid(scene.coordinator), "203.0.113.7")
    assert status == 429
    # Another address is not.
    status, _, _ = await scene.session(forged, "203.0.113.8")
    assert status == 401


async def test_no_token_reaches_the_log(scene: Scene, log_lines: _Lines) -> None:
    assert scene.tokens  # the tests above handed tokens out
    assert any("dashboard: " in line for line in log_lines.lines)
    leaked = [line for line in log_lines.lines for t in scene.tokens if t in line]
    assert leaked == []
