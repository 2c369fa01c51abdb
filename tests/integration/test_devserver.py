"""The throwaway Synapse (bot.devtools.synapse.LocalSynapse) works as the tests need it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.devtools.synapse import LocalSynapse

pytestmark = pytest.mark.synapse

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with _OPENER.open(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def login(server: LocalSynapse, user: str, password: str) -> tuple[int, dict[str, Any]]:
    return call(
        "POST",
        server.url + "/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
        },
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalSynapse]:
    with LocalSynapse(tmp_path / "hs") as hs:
        yield hs


def test_fresh_server_answers_versions(tmp_path: Path) -> None:
    hs = LocalSynapse(tmp_path / "hs")
    assert not hs.is_running()
    t0 = time.monotonic()
    with hs:
        print(f"cold start: {time.monotonic() - t0:.2f} s")
        assert hs.is_running()
        assert hs.url.startswith("http://127.0.0.1:")
        status, body = call("GET", hs.url + "/_matrix/client/versions")
        assert status == 200
        assert body["versions"]
        # client API only: no federation resource
        status, _ = call("GET", hs.url + "/_matrix/federation/v1/version")
        assert status in (400, 404)
    assert not hs.is_running()
    hs.stop()  # idempotent


def test_register_and_login(server: LocalSynapse) -> None:
    user_id = server.register("anna", "pw-anna")
    assert user_id == "@anna:localhost"
    # idempotent
    assert server.register("anna", "pw-anna") == "@anna:localhost"
    assert server.register("root", "pw-root", admin=True) == "@root:localhost"

    status, body = login(server, "anna", "pw-anna")
    assert status == 200, body
    assert body["user_id"] == "@anna:localhost"
    assert body["access_token"]
    status, body = login(server, "anna", "wrong")
    assert status == 403
    assert body["errcode"] == "M_FORBIDDEN"

    # many logins in a row: rc_login is raised
    for _ in range(6):
        status, body = login(server, "anna", "pw-anna")
        assert status == 200, body


def test_restart_keeps_port_and_users(tmp_path: Path) -> None:
    hs = LocalSynapse(tmp_path / "hs")
    try:
        hs.start()
        url = hs.url
        hs.register("bert", "pw-bert")
        hs.stop()
        assert not hs.is_running()
        with pytest.raises(urllib.error.URLError):
            _OPENER.open(url + "/_matrix/client/versions", timeout=2)

        t0 = time.monotonic()
        hs.start()
        print(f"warm start: {time.monotonic() - t0:.2f} s")
        assert hs.url == url
        status, body = login(hs, "bert", "pw-bert")
        assert status == 200, body

        hs.restart()
        assert hs.url == url
        status, body = login(hs, "bert", "pw-bert")
        assert status == 200, body
    finally:
        hs.stop()

    # A new object on the same directory finds the same port and the same users.
    with LocalSynapse(tmp_path / "hs") as again:
        assert again.url == url
        assert again.register("bert", "other") == "@bert:localhost"
        status, body = login(again, "bert", "pw-bert")
        assert status == 200, body


def test_real_message_rate_limit(tmp_path: Path) -> None:
    with LocalSynapse(tmp_path / "hs", rc_message=(0.5, 2)) as hs:
        hs.register("carla", "pw-carla")
        status, body = login(hs, "carla", "pw-carla")
        assert status == 200, body
        token = body["access_token"]
        status, body = call(
            "POST", hs.url + "/_matrix/client/v3/createRoom", {"name": "limits"}, token
        )
        assert status == 200, body
        room = urllib.parse.quote(body["room_id"])

        answers = []
        for i in range(6):
            txn = uuid.uuid4().hex
            answers.append(
                call(
                    "PUT",
                    f"{hs.url}/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}",
                    {"msgtype": "m.text", "body": f"message {i}"},
                    token,
                )
            )
        statuses = [status for status, _ in answers]
        assert statuses[0] == 200, answers[0]
        limited = [body for status, body in answers if status == 429]
        assert limited, statuses
        assert limited[0]["errcode"] == "M_LIMIT_EXCEEDED"
        assert limited[0]["retry_after_ms"] > 0
