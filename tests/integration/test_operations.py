"""What the operator watches, against a real Synapse: /healthz, /metrics and the log.

The bot runs with `metrics.listen` and JSON logs at DEBUG. A member uses it in an
encrypted room; a reminder falls due on the bot's test clock. The counters an operator
alerts on move as that happens; /healthz turns 503 while the homeserver is stopped and
200 again once it is back; and no log line holds the room's message text or a secret.
This test runs its own homeserver, so stopping it disturbs no other test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from bot.runtime.logs import make_handler
from tests.integration.conftest import PASSWORD, write_config
from tests.integration.reminder_helpers import (
    database,
    insert_agreement,
    room_with_bot,
    shifted_clock,
    start_bot,
    stop_bot,
    wait_for_bot_message,
)

pytestmark = pytest.mark.synapse

BERLIN = ZoneInfo("Europe/Berlin")
NINE = dt.datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN)  # a Tuesday, no holiday in NW
SECRET_TEXT = "Haushaltsentwurf Zebra-4711 vertraulich"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _samples(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, text = _get(f"{base}/metrics")
    assert status == 200, text
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthcheck(config: Path) -> subprocess.CompletedProcess[str]:
    """What the container's HEALTHCHECK runs."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "healthcheck", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _until(check: object, what: str, timeout: float = 30) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.3)


@contextmanager
def _captured_log() -> Iterator[io.StringIO]:
    """The process log as `gremienbot run` writes it with `logging.format: json`."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    nio_before = logging.getLogger("nio").level
    logging.getLogger("nio").setLevel(logging.WARNING)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
        logging.getLogger("nio").setLevel(nio_before)


async def test_operator_sees_counters_move_and_health_follow_the_homeserver(
    tmp_path: Path,
) -> None:
    server = LocalSynapse(tmp_path / "hs")
    await asyncio.to_thread(server.start)
    anna: Member | None = None
    try:
        server.register("bot", PASSWORD)
        config = write_config(
            tmp_path,
            server,
            "bot",
            metrics={"listen": f"127.0.0.1:{_free_port()}", "max_sync_age_seconds": 30},
        )
        lead = 25.0
        clock = shifted_clock(NINE, lead)
        with _captured_log() as log_stream:
            bot, task = await start_bot(config, clock=clock)
            try:
                assert bot.monitoring is not None
                base = f"http://127.0.0.1:{bot.monitoring.port}"
                status, body = await asyncio.to_thread(_get, f"{base}/healthz")
                assert (status, body.strip()) == (200, "ok")
                check = await asyncio.to_thread(_healthcheck, config)
                assert (check.returncode, check.stdout.strip()) == (0, "ok")

                anna_id = server.register("anna", PASSWORD)
                anna = Member(server.url, anna_id, PASSWORD, tmp_path / "anna")
                await anna.login()
                bot_user = bot.config.user_id
                room = await room_with_bot(anna, bot_user, encrypted=True)

                # Four commands: fine, wrong input, unknown, and one more fine one.
                await anna.send(room, "!hilfe")
                await anna.wait_for_reply(room, bot_user, 0, timeout=30)
                await anna.send(room, f"!verabredung {SECRET_TEXT} bis Freitag")
                await anna.wait_for_reply(room, bot_user, 1, timeout=30)
                await anna.send(room, "!zeige 99")
                await anna.wait_for_reply(room, bot_user, 2, timeout=30)
                await anna.send(room, "!gibtsnicht")
                await anna.wait_for_reply(room, bot_user, 3, timeout=30)

                # The reply latency of the last answer is observed once it is sent.
                def all_answers_timed() -> bool:
                    samples = _samples(base)
                    return _value(samples, "gremienbot_reply_latency_seconds_count") >= 4

                await _until(all_answers_timed, "the reply latency of four answers")
                samples = await asyncio.to_thread(_samples, base)
                commands = "gremienbot_commands_total"
                assert _value(samples, commands, command="hilfe", outcome="ok") == 1
                assert _value(samples, commands, command="verabredung", outcome="ok") == 1
                assert _value(samples, commands, command="zeige", outcome="invalid") == 1
                assert _value(samples, commands, command="unknown", outcome="unknown") == 1
                assert _value(samples, "gremienbot_reply_latency_seconds_count") == 4
                # Against a local homeserver each answer comes within seconds.
                assert _value(samples, "gremienbot_reply_latency_seconds_bucket", le="10.0") == 4
                assert _value(samples, "gremienbot_rooms_joined") == 1
                assert _value(samples, "gremienbot_outbox_pending") == 0
                assert _value(samples, "gremienbot_outbox_oldest_pending_age_seconds") == 0
                assert _value(samples, "gremienbot_reminders_sent_total") == 0

                # A reminder falls due at 09:00 on the bot's clock.
                db = database(config)
                insert_agreement(
                    db,
                    room,
                    number=2,
                    text="Raum für die Fachtagung buchen",
                    due=NINE.date(),
                    owners=[anna_id],
                    created_by=anna_id,
                    created_at=clock(),
                )
                db.dispose()
                bot.scheduler.poke()
                await wait_for_bot_message(anna, bot_user, room, "Heute fällig", timeout=60)
                samples = await asyncio.to_thread(_samples, base)
                assert _value(samples, "gremienbot_reminders_sent_total") == 1
                assert _value(samples, "gremienbot_reminders_sent_late_total") == 0
                assert _value(samples, "gremienbot_sync_errors_total") == 0

                # The homeserver goes away: the health check says so, with the reason.
                await asyncio.to_thread(server.stop)

                def unhealthy() -> bool:
                    return _get(f"{base}/healthz")[0] == 503

                await _until(unhealthy, "/healthz to answer 503", timeout=60)
                status, body = await asyncio.to_thread(_get, f"{base}/healthz")
                assert status == 503
                assert "sync" in body
                check = await asyncio.to_thread(_healthcheck, config)
                assert check.returncode == 1
                assert "has not answered" in check.stderr
                samples = await asyncio.to_thread(_samples, base)
                assert _value(samples, "gremienbot_sync_errors_total") >= 1

                # It is back: healthy again once a sync succeeds.
                await asyncio.to_thread(server.start)

                def healthy() -> bool:
                    return _get(f"{base}/healthz")[0] == 200

                await _until(healthy, "/healthz to answer 200 again", timeout=90)
                access_token = str(bot.client.access_token) if bot.client else ""
            finally:
                await stop_bot(bot, task)

        lines = [json.loads(line) for line in log_stream.getvalue().splitlines() if line]
        assert lines, "the bot logged nothing"
        text = log_stream.getvalue()
        assert "Zebra-4711" not in text, "message text from an encrypted room was logged"
        assert PASSWORD not in text
        assert access_token
        assert access_token not in text
        handled = [line for line in lines if line["message"] == "command verabredung: ok"]
        assert len(handled) == 1, "one structured line per command"
        assert handled[0]["room_id"] == room
        assert handled[0]["event_id"].startswith("$")
        assert handled[0]["level"] == "INFO"
    finally:
        if anna is not None:
            await anna.close()
        await asyncio.to_thread(server.stop)
