"""The newcomer's first command: `gremienbot demo` holds a committee meeting on a
throwaway homeserver and prints it; `--keep` leaves it running for a real Matrix client.

Both run the demo as a newcomer does, as a subprocess, and check what an evaluator reads
in the transcript (and, for `--keep`, what a client that logs in finds)."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MegolmEvent,
    RoomMessagesResponse,
    RoomSendResponse,
    SyncResponse,
)

pytestmark = pytest.mark.synapse

DEMO = [sys.executable, "-m", "bot", "demo"]
# Generous: the demo takes seconds (most of it Synapse starting), a slow CI machine more.
WITHIN_SECONDS = 180
_LINE = re.compile(r"^ *(?P<who>\S*) │ ?(?P<text>.*)$")


def transcript(out: str) -> list[tuple[str, str]]:
    """The conversation: (who, text) per message, continuation lines joined."""
    messages: list[tuple[str, str]] = []
    for line in out.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        if m["who"]:
            messages.append((m["who"], m["text"]))
        elif messages:
            who, text = messages[-1]
            messages[-1] = (who, text + "\n" + m["text"])
    return messages


def answers(messages: list[tuple[str, str]], who: str, start: str) -> list[str]:
    """The bot's messages after `who`'s message starting with `start`, up to the next one
    of a person."""
    for i, (sender, text) in enumerate(messages):
        if sender == who and text.startswith(start):
            found = []
            for sender_after, text_after in messages[i + 1 :]:
                if sender_after != "gremienbot":
                    break
                found.append(text_after)
            return found
    raise AssertionError(f"{who} never wrote {start!r}")


def demo_directory(out: str) -> Path:
    m = re.search(r"demo directory (\S+)", out)
    assert m, out
    return Path(m[1])


def test_demo_holds_a_meeting_and_the_coordination_exports_it(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    began = time.monotonic()
    proc = subprocess.run(
        [*DEMO, "--output", str(exports)],
        capture_output=True,
        text=True,
        timeout=WITHIN_SECONDS + 60,
    )
    took = time.monotonic() - began
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert took < WITHIN_SECONDS, f"the demo took {took:.0f} s"
    talk = transcript(out)

    # The chair starts the meeting and plans the next ones.
    [started] = answers(talk, "anna", "!sitzung start")
    assert "Sitzung #1 läuft" in started
    [planned] = answers(talk, "anna", "!sitzung plan")
    next_meeting = re.search(r"Nächste Sitzung: (.+? \d{4})\.", planned)
    assert next_meeting, planned

    # Agreements with owners (pills) and due dates, one until the next meeting.
    [first] = answers(talk, "anna", "!verabredung Einladung zur Fachtagung")
    assert "@Ben" in next(t for w, t in talk if t.startswith("!verabredung Einladung"))
    assert first.startswith("Verabredung #1 festgehalten: Einladung zur Fachtagung")
    assert "Verantwortlich: Ben\nFrist: " in first
    [second] = answers(talk, "ben", "!verabredung Zahlen der Jugendhilfe")
    assert second.startswith("Verabredung #2 festgehalten")
    assert "Verantwortlich: Clara\nFrist: " in second
    [third] = answers(talk, "anna", "!verabredung Entwurf Bildungsbericht")
    assert third.startswith("Verabredung #3 festgehalten")
    assert f"Verantwortlich: Ben, Clara\nFrist: {next_meeting[1]}\n" in third
    [listed] = answers(talk, "clara", "!liste")
    assert listed.startswith("Offene Verabredungen (3)")

    # Ben, the owner, completes #1 with a ✅ on the bot's reply.
    [done] = answers(talk, "ben", "✅ (Reaktion auf Verabredung #1)")
    assert done.startswith("✅ #1 ist erledigt (Ben per Reaktion)")

    # A native pulse poll, two answers, closed: two votes counted (too few to break down).
    poll, confirmation = answers(talk, "anna", "!puls")
    assert poll.startswith("📊 Umfrage: Wie zufrieden sind Sie mit der heutigen Sitzung?")
    assert "1 – gar nicht zufrieden" in poll
    assert "5 – sehr zufrieden" in poll
    assert confirmation.startswith("Puls #1 läuft bis")
    assert any(w == "ben" and t.startswith("🗳️ 4 – zufrieden (Antwort auf") for w, t in talk)
    assert any(w == "clara" and t.startswith("🗳️ 5 – sehr zufrieden") for w, t in talk)
    [ended] = answers(talk, "anna", "!schließen 1")
    assert ended.startswith("🏁 Umfrage beendet. Ergebnis – Puls #1")
    assert "2 Stimmen" in ended

    # The minutes: who was there, the agreements, the poll.
    [minutes] = answers(talk, "anna", "!sitzung ende")
    assert minutes.startswith("📝 Ergebnisprotokoll – Sitzung #1: Jahresplanung")
    assert "Anwesend (3): Anna, Ben, Clara" in minutes
    assert "Neu festgehalten (3):" in minutes
    assert "• #1 „Einladung zur Fachtagung an die Schulen schicken“" in minutes
    assert "(schon erledigt)" in minutes
    assert "• #2 „Zahlen der Jugendhilfe für den Bildungsbericht einholen“" in minutes
    third_line = "• #3 „Entwurf Bildungsbericht an das Schulamt“ – verantwortlich: Ben, Clara"
    assert f"{third_line}; Frist: {next_meeting[1]}" in minutes
    assert "Puls #1 „Wie zufrieden sind Sie mit der heutigen Sitzung?“: 2 Stimmen" in minutes

    # The coordination: the overview names the committee, the export arrives by DM.
    [overview] = answers(talk, "buero", "!übersicht")
    assert "Steuerungsgruppe Bildung: 2 offen, 0 überfällig" in overview
    file_message, told = answers(talk, "buero", "!export")
    assert file_message.startswith("📎 [Direktnachricht an buero] Datei „")
    assert "verschlüsselter Anhang" in file_message
    assert "Sie finden ihn in Ihrer Direktnachricht mit mir" in told
    saved = re.search(r"export saved: (\S+)", out)
    assert saved, out
    path = Path(saved[1])
    assert path.parent == exports.resolve()
    sheet = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))["Verabredungen"]
    rows = {r[1]: (r[2], r[3]) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows == {
        1: ("Einladung zur Fachtagung an die Schulen schicken", "erledigt"),
        2: ("Zahlen der Jugendhilfe für den Bildungsbericht einholen", "offen"),
        3: ("Entwurf Bildungsbericht an das Schulamt", "offen"),
    }

    assert "cleaning up" in out
    assert not demo_directory(out).exists()


async def _read_until(stream: asyncio.StreamReader, text: str, timeout: float) -> str:
    """The subprocess's output up to and including the line with `text`."""
    seen: list[str] = []

    async def read() -> str:
        while True:
            line = (await stream.readline()).decode()
            assert line, "the demo ended early:\n" + "".join(seen)
            seen.append(line)
            if text in line:
                return "".join(seen)

    try:
        return await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        raise AssertionError(f"no {text!r} in time:\n" + "".join(seen)) from None


async def _ask(client: AsyncClient, room_id: str, command: str, timeout: float = 30) -> str:
    """Send `command` from `client` and return the bot's decrypted answer to it."""
    await client.keys_query()
    sent = await client.room_send(
        room_id,
        "m.room.message",
        {"msgtype": "m.text", "body": command},
        ignore_unverified_devices=True,
    )
    assert isinstance(sent, RoomSendResponse), sent
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        resp = await client.sync(timeout=1000)
        assert isinstance(resp, SyncResponse), resp
        joined = resp.rooms.join.get(room_id)
        for event in joined.timeline.events if joined else []:
            content = event.source.get("content", {})
            reply = content.get("m.relates_to", {}).get("m.in_reply_to", {})
            if reply.get("event_id") == sent.event_id:
                assert not isinstance(event, MegolmEvent), "the answer could not be decrypted"
                return str(content.get("body", ""))
    raise AssertionError(f"the bot did not answer {command!r}")


def _field(out: str, name: str) -> str:
    m = re.search(rf"· {name} +(\S+)", out)
    assert m, f"no {name} in:\n{out}"
    return m[1]


async def test_demo_keep_leaves_the_homeserver_for_a_client_until_ctrl_c(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *DEMO,
        "--keep",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    client: AsyncClient | None = None
    try:
        out = await _read_until(proc.stdout, "Press Ctrl-C", timeout=WITHIN_SECONDS)
        kept = out.split("keep running", 1)[1]
        homeserver = _field(kept, "homeserver")
        user = _field(kept, "user")
        password = _field(kept, "password")
        keys = _field(kept, "room keys")
        room_id = re.search(r"· room +.*\((!\S+)\)", kept)
        assert room_id, kept
        assert homeserver.startswith("http://127.0.0.1:")
        assert proc.returncode is None, "the demo must keep running"

        # A new device of the chair, as a person logging in with Element.
        client = AsyncClient(
            homeserver,
            user,
            store_path=str(tmp_path),
            config=AsyncClientConfig(encryption_enabled=True),
        )
        login = await client.login(password, device_name="element")
        assert isinstance(login, LoginResponse), login
        await client.sync(timeout=0, full_state=True)
        room = client.rooms[room_id[1]]
        assert room.encrypted
        assert room.display_name == "Steuerungsgruppe Bildung"
        await client.import_keys(keys, password)  # the history becomes readable
        history = await client.room_messages(room_id[1], start=None, limit=200)
        assert isinstance(history, RoomMessagesResponse), history
        from_bot = [
            e.source.get("content", {}).get("body", "")
            for e in history.chunk
            if e.sender.startswith("@gremienbot:")
        ]
        assert any(b.startswith("Verabredung #1 festgehalten") for b in from_bot), from_bot
        assert any(b.startswith("📝 Ergebnisprotokoll") for b in from_bot), from_bot

        # The bot is still there and answers the new device.
        answer = await _ask(client, room_id[1], "!liste")
        assert answer.startswith("Offene Verabredungen (2)"), answer
    finally:
        if client is not None:
            await client.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(proc.wait(), timeout=60)
        except TimeoutError:
            proc.kill()  # only a hung demo: its homeserver's cleanup is lost then
            raise
    rest, errors = (await proc.stdout.read()).decode(), (await proc.stderr.read()).decode()
    assert code == 0, rest + errors
    assert "Traceback" not in errors, errors
    assert "cleaning up" in rest
    assert not demo_directory(out).exists()
