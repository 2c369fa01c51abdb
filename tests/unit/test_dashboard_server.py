"""The dashboard's server on its own, against a homeserver played by the test: what a
homeserver may answer to the OpenID question and what the login makes of it, the bearer
tokens' lifetime, the limit on failed logins, the config an operator may write, and that
a bot without a dashboard carries no web server in its memory. The real homeserver's
side is tests/integration/test_dashboard_login.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.config import Config
from bot.dashboard.server import DashboardOptions, DashboardServer
from bot.dashboard.sessions import FailureLimit, Sessions
from commands.core.defaults import Defaults
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
COORDINATOR = "@buero:example.org"


class Homeserver:
    """Answers /_matrix/federation/v1/openid/userinfo as the token says, and counts."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def userinfo(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("access_token", "")
        self.asked.append(token)
        answers: dict[str, web.StreamResponse] = {
            "coordinator": web.json_response({"sub": COORDINATOR}),
            "foreigner": web.json_response({"sub": "@buero:evil.example"}),
            "nobody": web.json_response({}),
            "broken": web.json_response({"errcode": "M_UNKNOWN"}, status=500),
            "moved": web.HTTPFound("/elsewhere"),
        }
        return answers.get(token, web.json_response({"errcode": "M_UNKNOWN_TOKEN"}, status=401))

    async def elsewhere(self, request: web.Request) -> web.Response:
        self.asked.append("elsewhere")
        return web.json_response({"sub": COORDINATOR})


@pytest.fixture
async def served(sqlite_db: Database) -> AsyncIterator[tuple[str, Homeserver, DashboardServer]]:
    homeserver = Homeserver()
    app = web.Application()
    app.router.add_get("/_matrix/federation/v1/openid/userinfo", homeserver.userinfo)
    app.router.add_get("/elsewhere", homeserver.elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    options = DashboardOptions(
        host="127.0.0.1",
        port=0,
        prefix="",
        element_origins=("https://app.element.io",),
        openid_url=f"http://127.0.0.1:{port}",
        server_name="example.org",
        coordinators=frozenset({COORDINATOR}),
        session_seconds=600,
    )
    server = DashboardServer(
        options,
        db=sqlite_db,
        defaults=Defaults(),
        makers={},
        file_config={},
        client=lambda: None,
        separate_process=False,
    )
    await server.start()
    yield f"http://127.0.0.1:{server.port}", homeserver, server
    await server.stop()
    await runner.cleanup()


async def login(base: str, token: str, server_name: str = "example.org") -> tuple[int, Any]:
    body = {"access_token": token, "matrix_server_name": server_name}
    async with aiohttp.ClientSession() as http, http.post(base + "/api/session", json=body) as r:
        return r.status, await r.json()


async def test_only_a_user_of_the_bots_own_server_that_the_homeserver_names_logs_in(
    served: tuple[str, Homeserver, DashboardServer],
) -> None:
    base, homeserver, _ = served
    status, found = await login(base, "coordinator")
    assert status == 200
    assert found["user_id"] == COORDINATOR
    # The homeserver vouches for someone of another server, for nobody, or for no token.
    assert (await login(base, "foreigner"))[0] == 401
    assert (await login(base, "nobody"))[0] == 401
    assert (await login(base, "unknown"))[0] == 401
    # A homeserver in trouble is no fault of the token; a redirect is not followed.
    assert (await login(base, "broken"))[0] == 502
    assert (await login(base, "moved"))[0] == 502
    assert "elsewhere" not in homeserver.asked
    # A token with another server's name, or no token at all, is refused unasked.
    asked = len(homeserver.asked)
    assert (await login(base, "coordinator", "evil.example"))[0] == 401
    assert (await login(base, "", "example.org"))[0] == 401
    assert (await login(base, "with space", "example.org"))[0] == 401
    assert len(homeserver.asked) == asked


async def test_a_body_that_is_no_login_is_refused(
    served: tuple[str, Homeserver, DashboardServer],
) -> None:
    base, homeserver, _ = served
    async with aiohttp.ClientSession() as http:
        for body in (b"[1, 2]", b"not json", b"x" * 20_000):
            async with http.post(base + "/api/session", data=body) as resp:
                assert resp.status == 400
                assert resp.headers["Cache-Control"] == "no-store"
    assert homeserver.asked == []


def test_a_bearer_token_lasts_its_lifetime_and_no_longer() -> None:
    now = [1000.0]
    sessions = Sessions(3600, clock=lambda: now[0])
    token = sessions.open(COORDINATOR)
    assert len(token) >= 43  # 256 random bits
    assert sessions.user(token) == COORDINATOR
    assert sessions.user(token + "x") is None
    now[0] += 3599
    assert sessions.user(token) == COORDINATOR
    now[0] += 1
    assert sessions.user(token) is None
    assert len(sessions) == 0


def test_failed_logins_count_per_address_in_a_sliding_window() -> None:
    now = [0.0]
    limit = FailureLimit(max_failures=3, window=600, clock=lambda: now[0])
    for _ in range(3):
        assert limit.blocked("203.0.113.7") is None
        limit.failed("203.0.113.7")
        now[0] += 100
    assert limit.blocked("203.0.113.7") == pytest.approx(300)
    assert limit.blocked("203.0.113.8") is None
    now[0] += 300  # the first failure is ten minutes old: one more try
    assert limit.blocked("203.0.113.7") is None


BASE = {"homeserver": "https://matrix.example.org", "user_id": "@bot:example.org", "password": "p"}


@pytest.mark.parametrize(
    ("dashboard", "refused"),
    [
        ({"listen": "127.0.0.1:8790"}, "public_url is needed"),
        ({"listen": "8790", "public_url": "https://b.example.org"}, "host:port"),
        ({"public_url": "https://b.example.org/d?x=1"}, "without ? or #"),
        ({"public_url": "ftp://b.example.org"}, "http(s) address"),
        ({"element_origins": ["https://app.element.io; script-src *"]}, "is no origin"),
        ({"element_origins": ["https://app.element.io/"]}, "is no origin"),
        ({"session_minutes": 61}, "less than or equal to 60"),
        ({"trusted_proxies": ["proxy.local"]}, "is no IP address"),
    ],
)
def test_the_config_refuses_what_would_weaken_the_widget(
    dashboard: dict[str, Any], refused: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(refused)):
        Config.model_validate({**BASE, "dashboard": dashboard})


def test_a_bot_without_a_dashboard_has_not_loaded_a_web_server() -> None:
    probe = "import json, sys, bot.cli, bot.runtime.app; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert "bot.dashboard.server" in loaded  # the probe imported the real bot
    assert "aiohttp.web" not in loaded
