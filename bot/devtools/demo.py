"""`gremienbot demo`: the bot on a throwaway local homeserver, with a committee meeting.

Needs no account and no configuration: starts Synapse (the `demo` extra) on 127.0.0.1,
registers the bot and the people of `bot.devtools.demo_script`, lets them hold a short
meeting in an end-to-end encrypted room (agreements with owners and dates, a ✅ reaction,
a native poll, the minutes) and the coordinating office ask for the overview and an export,
prints it all as it happens, and removes everything again. With `keep` the homeserver and
the bot stay up after the script, for a look with a real Matrix client, until Ctrl-C.

Waiting for the bot: the bot runs in this process, so after each step the demo reads the
bot's database for what that step caused: the step's event is marked handled, no message
is waiting in the outbox, and every message the bot sent since the previous step (a reply,
a poll, a poll's end, a file in a direct-message room, however many) has reached the
simulated member who can read it. They are printed in the order the bot queued them: an
answer is always the answer to that step, never merely the bot's next message. (What the
bot might post on its own meanwhile, a reminder falling due, is shown with the step during
which it was queued.)
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import importlib.util
import logging
import re
import shutil
import signal
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import col, func, select

from bot.config import load_config
from bot.devtools.demo_script import (
    CAST,
    COORDINATION,
    ROOM_NAME,
    SCRIPT,
    React,
    Say,
    Section,
    Step,
    Vote,
)
from bot.devtools.member import Member, SeenMessage, pill
from bot.devtools.synapse import LocalSynapse, LocalSynapseError
from bot.runtime.app import GremienBot
from bot.runtime.matrix_content import parse_poll_end, parse_poll_start
from storage import events
from storage.models import OutboxMessage, OutboxStatus

PASSWORD = "demo-password-not-secret"
BOT_NAME = "gremienbot"
PREFIX = "!"
# How long one step may take the bot before the demo gives up (it takes well under a second).
STEP_TIMEOUT = 30.0
_MENTION = re.compile(r"\{(\w+)\}")


class DemoError(RuntimeError):
    """The demo could not go on (the bot did not answer, a message did not arrive)."""


def _say(who: str, text: str) -> None:
    lines = text.splitlines() or [""]
    print(f"{who:>11} │ {lines[0]}")
    for line in lines[1:]:
        print(f"{'':>11} │ {line}")
    sys.stdout.flush()


def _info(text: str) -> None:
    print(textwrap.indent(text, "  · "), flush=True)


@dataclass(frozen=True)
class _Sent:
    """One outbox row of the bot, copied out of its session."""

    id: int
    room_id: str | None
    to_user: str | None
    status: str
    event_id: str | None
    last_error: str | None


class BotWatch:
    """What the bot did about an event, read from its database."""

    def __init__(self, bot: GremienBot) -> None:
        self.db = bot.db
        self.after = self._last_row()

    def _last_row(self) -> int:
        with self.db.session() as s:
            return int(s.exec(select(func.max(OutboxMessage.id))).one() or 0)

    def _settled(self, event_id: str) -> list[_Sent] | None:
        """The rows queued since the last step, once `event_id` is handled and nothing is
        waiting to be sent; None before."""
        with self.db.session() as s:
            if not events.is_processed(s, event_id):
                return None
            rows = s.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.id) > self.after)
                .order_by(col(OutboxMessage.id))
            ).all()
            if any(r.status == OutboxStatus.PENDING for r in rows):
                return None
            return [
                _Sent(
                    id=r.id or 0,
                    room_id=r.room_id,
                    to_user=r.to_user,
                    status=r.status,
                    event_id=r.event_id,
                    last_error=r.last_error,
                )
                for r in rows
            ]

    async def caused_by(self, event_id: str, timeout: float = STEP_TIMEOUT) -> list[_Sent]:
        """Everything the bot sent because of `event_id`, once it has all been sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (rows := await asyncio.to_thread(self._settled, event_id)) is None:
            if loop.time() > deadline:
                raise DemoError(f"the bot did not finish with {event_id} in {timeout:.0f} s")
            await asyncio.sleep(0.05)
        if rows:
            self.after = rows[-1].id
        return rows


@dataclass
class _Asked:
    """A step's event and what the bot sent because of it, as its members saw it."""

    event_id: str
    answers: list[SeenMessage] = field(default_factory=list)


class _Demo:
    def __init__(self, base: Path, output: Path) -> None:
        self.base = base
        self.output = output
        self.server: LocalSynapse = LocalSynapse(base / "synapse")
        self.bot: GremienBot | None = None
        self.bot_task: asyncio.Task[None] | None = None
        self.bot_id = ""
        self.members: dict[str, Member] = {}
        self.room_id = ""
        self.watch: BotWatch | None = None
        self.asked: dict[str, _Asked] = {}

    # -- set-up ------------------------------------------------------------------------

    async def setup(self) -> None:
        _info("starting a throwaway Synapse homeserver on 127.0.0.1 …")
        await asyncio.to_thread(self.server.start)
        register = self.server.register
        self.bot_id = await asyncio.to_thread(register, BOT_NAME, PASSWORD)
        ids = {p.name: await asyncio.to_thread(register, p.name, PASSWORD) for p in CAST}
        _info(f"homeserver {self.server.url}; bot {self.bot_id}")
        for person in CAST:
            _info(f"{person.name:<6} {ids[person.name]:<18} {person.role}")

        config_path = self.base / "config.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "homeserver": self.server.url,
                    "user_id": self.bot_id,
                    "password": PASSWORD,
                    "data_dir": str(self.base / "bot-data"),
                    "allowed_inviters": {"servers": [self.server.server_name]},
                    "coordination": [ids[name] for name in COORDINATION],
                    "logging": {"level": "WARNING"},
                },
                allow_unicode=True,
            ),
            "utf-8",
        )
        self.bot = GremienBot(load_config(config_path), sync_timeout_ms=2000)
        await self.bot.start()
        self.bot_task = asyncio.create_task(self.bot.run())
        await asyncio.wait_for(self.bot.ready.wait(), timeout=STEP_TIMEOUT)

        async def log_in(name: str, display_name: str) -> Member:
            member = Member(self.server.url, ids[name], PASSWORD, self.base / f"{name}-store")
            self.members[name] = member
            await member.login()
            await member.set_display_name(display_name)
            member.accept_invites_from(self.bot_id)  # its direct-message room
            return member

        await asyncio.gather(*(log_in(p.name, p.display_name) for p in CAST))
        chair, *others = (self.members[p.name] for p in CAST)
        self.room_id = room = await chair.create_room(
            ROOM_NAME, encrypted=True, invite=(self.bot_id, *(m.user_id for m in others))
        )
        await asyncio.gather(*(m.join(room) for m in others))
        everyone = [self.bot_id, *(m.user_id for m in self.members.values())]
        # Each knows each other one joined, so every room key reaches every device.
        await asyncio.gather(
            *(
                m.wait_for_member(room, user, timeout=STEP_TIMEOUT)
                for m in self.members.values()
                for user in everyone
            )
        )
        client = self.bot.client
        assert client is not None
        await chair.wait_until(
            lambda: room in client.rooms and set(everyone) <= set(client.rooms[room].users),
            timeout=STEP_TIMEOUT,
        )
        self.watch = BotWatch(self.bot)
        names = ", ".join(p.name for p in CAST[1:])
        _info(
            f"{CAST[0].name} creates the end-to-end encrypted room “{ROOM_NAME}”"
            f" and invites {BOT_NAME}, {names}; all have joined"
        )

    # -- the script ----------------------------------------------------------------------

    async def play(self, script: list[Step]) -> None:
        for step in script:
            print()
            if isinstance(step, Section):
                print(f"── {step.title} " + "─" * max(3, 60 - len(step.title)), flush=True)
            elif isinstance(step, Say):
                await self._write(step)
            elif isinstance(step, React):
                await self._react(step)
            else:
                await self._vote(step)

    def _content(self, text: str) -> tuple[str, str | None, list[str] | None, str]:
        """What a client sends for `text` (body; HTML with a pill and m.mentions for each
        `{name}`, as Element does), and the line the transcript shows (`@Name`)."""
        people = {p.name: p for p in CAST}
        names = _MENTION.findall(text)
        unknown = sorted(set(names) - set(people))
        if unknown:
            raise DemoError(f"the script mentions {unknown}, who are not in the cast")
        body = _MENTION.sub(lambda m: people[m[1]].display_name, text)
        if not names:
            return body, None, None, body
        html_body = "".join(
            pill(self.members[part].user_id, people[part].display_name)
            if i % 2
            else html.escape(part)
            for i, part in enumerate(_MENTION.split(text))  # text, name, text, name, …
        )
        mentions = list(dict.fromkeys(self.members[name].user_id for name in names))
        shown = _MENTION.sub(lambda m: "@" + people[m[1]].display_name, text)
        return body, html_body, mentions, shown

    async def _write(self, step: Say) -> None:
        member = self.members[step.who]
        body, html_body, mentions, shown = self._content(step.text)
        _say(step.who, shown)
        event_id = await member.send(self.room_id, body, html_body=html_body, mentions=mentions)
        asked = _Asked(event_id)
        if step.label is not None:
            self.asked[step.label] = asked
        if body.startswith(PREFIX):  # a command: show what the bot did about it
            asked.answers = await self._show_answers(event_id)

    def _earlier(self, label: str) -> _Asked:
        if label not in self.asked:
            raise DemoError(f"the script refers to “{label}” before a step with that label")
        return self.asked[label]

    async def _react(self, step: React) -> None:
        asked = self._earlier(step.to)
        reply = next((a for a in asked.answers if a.in_reply_to == asked.event_id), None)
        if reply is None:
            raise DemoError(f"the bot did not answer “{step.to}”: nothing to react to")
        _say(step.who, f"{step.key} (Reaktion auf {step.about})")
        event_id = await self.members[step.who].react(self.room_id, reply.event_id, step.key)
        await self._show_answers(event_id)

    async def _vote(self, step: Vote) -> None:
        asked = self._earlier(step.poll)
        polls = [(a, parse_poll_start(a.type, a.content)) for a in asked.answers]
        found = [(a, p) for a, p in polls if p is not None]
        if not found:
            raise DemoError(f"the bot started no poll in answer to “{step.poll}”")
        start, poll = found[0]
        if not 1 <= step.answer <= len(poll.answers):
            raise DemoError(f"the poll has no answer {step.answer}")
        answer = poll.answers[step.answer - 1]
        _say(step.who, f"🗳️ {answer.text} (Antwort auf die Umfrage „{poll.question}“)")
        event_id = await self.members[step.who].vote(
            self.room_id, start.event_id, [answer.id], stable=poll.stable
        )
        await self._show_answers(event_id)

    # -- the bot's answers -----------------------------------------------------------------

    def _reader(self, row: _Sent) -> tuple[str, Member]:
        """Who reads a message of the bot: the chair in the committee room, the member in
        their direct-message room."""
        for name, member in self.members.items():
            if row.to_user == member.user_id:
                return name, member
        return CAST[0].name, self.members[CAST[0].name]

    async def _show_answers(self, event_id: str) -> list[SeenMessage]:
        assert self.watch is not None
        shown: list[SeenMessage] = []
        for row in await self.watch.caused_by(event_id):
            if row.status != "sent" or row.event_id is None:
                _info(f"the bot could not send a message ({row.status}): {row.last_error}")
                continue
            name, reader = self._reader(row)
            try:
                seen = await reader.wait_for_event(row.event_id, timeout=STEP_TIMEOUT)
            except TimeoutError:
                raise DemoError(f"{name} never received the bot's {row.event_id}") from None
            if not seen.decrypted:
                raise DemoError(f"{name} could not decrypt the bot's {row.event_id}")
            where = "" if seen.room_id == self.room_id else f"[Direktnachricht an {name}] "
            if seen.in_reply_to not in (None, event_id):  # not expected: say so
                where += "(Antwort auf eine frühere Nachricht) "
            await self._show(seen, where, reader)
            shown.append(seen)
        return shown

    async def _show(self, seen: SeenMessage, where: str, reader: Member) -> None:
        poll = parse_poll_start(seen.type, seen.content)
        if poll is not None:
            lines = [f"📊 {where}Umfrage: {poll.question}"]
            lines += [f"   {a.text}" for a in poll.answers]
            _say(BOT_NAME, "\n".join(lines))
            return
        end = parse_poll_end(seen.type, seen.content)
        if end is not None:
            _say(BOT_NAME, f"🏁 {where}Umfrage beendet. {end.text}")
            return
        if seen.content.get("msgtype") == "m.file":
            await self._save_file(seen, where, reader)
            return
        _say(BOT_NAME, where + seen.body)

    async def _save_file(self, seen: SeenMessage, where: str, reader: Member) -> None:
        content = seen.content
        name = Path(str(content.get("filename") or content.get("body") or "datei")).name
        data = await reader.download(content)
        self.output.mkdir(parents=True, exist_ok=True)
        path = self.output / name
        path.write_bytes(data)
        secret = " (verschlüsselter Anhang)" if "file" in content else ""
        size = f"{len(data):,}".replace(",", ".")
        _say(BOT_NAME, f"📎 {where}Datei „{name}“, {size} Bytes{secret}")
        _info(f"export saved: {path}")
        for line in file_summary(name, data):
            _info(f"  {line}")

    # -- the end ---------------------------------------------------------------------------

    async def keep_running(self, stop: asyncio.Event) -> None:
        chair = self.members[CAST[0].name]
        keys = self.base / f"{CAST[0].name}-room-keys.txt"
        await chair.export_room_keys(keys, PASSWORD)
        print()
        _info(
            "The homeserver and the bot keep running. Log in with a Matrix client"
            " (e.g. Element) on this machine:"
        )
        _info(f"homeserver   {self.server.url}")
        _info(f"user         {CAST[0].name}   ({chair.user_id})")
        _info(f"password     {PASSWORD}")
        _info(f"room         {ROOM_NAME} ({self.room_id})")
        _info(
            f"room keys    {keys}\n"
            "             The room is end-to-end encrypted and a new login is a new device:"
            " to read\n"
            "             the history, import these keys (Element: Settings › Security &"
            " Privacy ›\n"
            f"             Import E2E room keys) with the password above as passphrase."
        )
        _info("Press Ctrl-C to stop and remove everything.")
        await stop.wait()

    async def close(self) -> None:
        for member in self.members.values():
            with contextlib.suppress(Exception):
                await member.close()
        if self.bot is not None:
            self.bot.stop()
        if self.bot_task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.bot_task, timeout=STEP_TIMEOUT)
        await asyncio.to_thread(self.server.stop)


def file_summary(name: str, data: bytes) -> list[str]:
    """A few lines about an exported file: an XLSX's sheets with their rows, a ZIP's files."""
    if not zipfile.is_zipfile(BytesIO(data)):
        return []
    with zipfile.ZipFile(BytesIO(data)) as archive:
        if name.endswith(".xlsx"):
            return [_sheets(archive)]
        return [f"{len(archive.namelist())} files: " + ", ".join(archive.namelist())]


def _sheets(archive: zipfile.ZipFile) -> str:
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    book = ET.fromstring(archive.read("xl/workbook.xml"))
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", ns)}
    found = []
    for sheet in book.findall("m:sheets/m:sheet", ns):
        target = targets.get(sheet.get(f"{{{ns['r']}}}id"), "").lstrip("/")
        path = target if target.startswith("xl/") else f"xl/{target}"
        rows = ET.fromstring(archive.read(path)).findall("m:sheetData/m:row", ns)
        found.append(f"{sheet.get('name')} ({max(0, len(rows) - 1)})")
    return "sheets (rows): " + ", ".join(found)


async def run_demo(
    *, keep: bool = False, output: Path | None = None, script: list[Step] | None = None
) -> int:
    if importlib.util.find_spec("synapse") is None:  # pragma: no cover - the demo extra
        print("The demo needs Synapse: pip install 'gremienbot[demo]'")
        return 1

    # The demo prints the conversation; library chatter would only hide it.
    logging.basicConfig(level=logging.ERROR)
    began = time.monotonic()
    # Ctrl-C (or SIGTERM) from here on stops the script or --keep's wait and cleans up.
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    base = Path(tempfile.mkdtemp(prefix="gremienbot-demo-"))
    _info(f"demo directory {base} (removed at the end)")
    if output is not None:
        output = await asyncio.to_thread(output.resolve)
        _info(f"exports go to {output} (kept)")
    demo = _Demo(base, output or base / "exports")

    async def until_stopped(work: Callable[[], Any]) -> bool:
        """Run `work` unless Ctrl-C comes first; True when it ran to its end."""
        task = asyncio.ensure_future(work())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if task.done():
            task.result()  # its error, if any
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return False

    try:
        if not await until_stopped(lambda: _setup_and_play(demo, script or SCRIPT)):
            _info("interrupted")
            return 130
        print()
        _info(f"the script is done, {time.monotonic() - began:.1f} s after the start")
        if keep:
            await demo.keep_running(stop)
        return 0
    except (DemoError, LocalSynapseError, TimeoutError) as exc:
        print(f"demo failed: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        _info("cleaning up")
        await demo.close()
        shutil.rmtree(base, ignore_errors=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        _info(f"done in {time.monotonic() - began:.1f} s")


async def _setup_and_play(demo: _Demo, script: list[Step]) -> None:
    await demo.setup()
    await demo.play(script)
