"""A committee day compressed into minutes, against a real Synapse: the run and its checks.

Shared by the short version in the suite (test_committee_day.py) and the load benchmark
(tests/benchmarks/bench_committee_day.py). Members post agreements, list, complete, re-date,
note, ask for help and set reminders due in a minute; the bot's clock reaches Monday 09:00
during the run, so the weekly digest and the agreements' 09:00 reminders fall due too.

Checked afterwards, from the rooms' histories as the homeserver keeps them (read back by
each room's chair, decrypted in encrypted rooms) and from the bot's database:
no ERROR in the bot's log; every command answered exactly once (by `m.in_reply_to`); every
reminder that fell due posted exactly once; every message the bot owed (outbox) seen exactly
once and nothing the bot posted that it did not owe; every agreement confirmed in a room is
in the database and every stored one was confirmed; every command marked handled.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.devtools.light_member import RoomEvent
from storage.db import Database
from storage.models import Agreement, OutboxMessage, OutboxStatus
from storage.models.events import ProcessedEvent
from storage.models.reminders import LogStatus, Reminder, ReminderLog
from tests.integration.committee_script import Command, RoomScript, Step
from tests.integration.load_rooms import Cast, LoadRoom, histories

BERLIN = ZoneInfo("Europe/Berlin")
# A Monday, no holiday: 09:00 brings the weekly digest and the agreements' reminders.
NINE = dt.datetime(2026, 3, 9, 9, 0, tzinfo=BERLIN)
RECORDED = re.compile(r"Verabredung #(\d+) festgehalten: (.+)")
UNDECRYPTABLE = "konnte eine verschlüsselte Nachricht"


@dataclass(frozen=True)
class DaySize:
    rooms: int
    users: int
    encrypted_rooms: int
    commands_per_room: int
    seconds: float  # how long the members keep typing
    reminders_per_room: int = 1


@dataclass
class SentCommand:
    room_id: str
    event_id: str
    command: Command


@dataclass
class DayResult:
    sent: list[SentCommand]
    latencies_ms: dict[str, list[float]]  # "plain" / "encrypted" rooms
    reminders_seen: int
    digests_seen: int
    problems: list[str] = field(default_factory=list)

    def figures(self) -> str:
        lines = [
            f"commands: {len(self.sent)}, reminders posted: {self.reminders_seen}, "
            f"digests posted: {self.digests_seen}",
            "reply latency (reply's origin_server_ts - command's):",
        ]
        every = [x for values in self.latencies_ms.values() for x in values]
        for label, values in [("all rooms", every), *sorted(self.latencies_ms.items())]:
            lines.append(f"  {label:<16} {percentiles(values)}")
        return "\n".join(lines)


def percentiles(values: Sequence[float]) -> str:
    """p50, p95 and max of milliseconds, as a line."""
    if not values:
        return "no values"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"p50 {statistics.median(ordered):6.0f} ms   p95 {p95:6.0f} ms   "
        f"max {ordered[-1]:6.0f} ms   (n={len(ordered)})"
    )


def clock_offset(nine_in_seconds: float) -> dt.timedelta:
    """The bot's clock shift that makes it read Monday 09:00 in `nine_in_seconds`."""
    return NINE - (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=nine_in_seconds))


async def _speak(room: LoadRoom, script: list[Command], seconds: float) -> list[SentCommand]:
    rng = random.Random(room.room_id)
    gap = seconds / max(1, len(script))
    sent: list[SentCommand] = []
    for i, command in enumerate(script):
        # The rooms' days do not begin in the same second; the first command (a reminder
        # due a minute later) comes early, so that it falls due while the members type.
        await asyncio.sleep(rng.uniform(0.2, 2 * gap - 0.2) if i else rng.uniform(0, min(gap, 5)))
        event_id = await command.sender.send(
            room.room_id, command.body, html_body=command.html, mentions=command.mentions
        )
        sent.append(SentCommand(room.room_id, event_id, command))
    return sent


async def run_day(cast: Cast, size: DaySize) -> list[SentCommand]:
    """Every room speaks its script at once, spread over `size.seconds`."""
    scripts = [
        RoomScript(i, room.members).commands(
            size.commands_per_room, reminders=size.reminders_per_room
        )
        for i, room in enumerate(cast.rooms)
    ]
    sent = await asyncio.gather(
        *(_speak(room, s, size.seconds) for room, s in zip(cast.rooms, scripts, strict=True))
    )
    return [c for room in sent for c in room]


def _db_caught_up(db: Database, event_ids: set[str], reminders_due_by: dt.datetime) -> bool:
    with db.session() as s:
        handled = set(s.exec(select(ProcessedEvent.event_id)).all())
        pending = s.exec(
            select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.PENDING)
        ).first()
        reminders = s.exec(select(Reminder)).all()
        logged = {r.reminder_id for r in s.exec(select(ReminderLog)).all()}
    owed = [r for r in reminders if r.due_at is not None and r.due_at <= reminders_due_by]
    return event_ids <= handled and pending is None and all(r.id in logged for r in owed)


async def wait_until_done(
    db: Database, sent: list[SentCommand], clock_offset: dt.timedelta, timeout: float = 300
) -> None:
    """Until every command is handled, every reminder set is due and posted, and the outbox
    is empty (read in the bot's database)."""
    ids = {c.event_id for c in sent}
    deadline = time.monotonic() + timeout

    async def caught_up() -> None:
        while not await asyncio.to_thread(
            _db_caught_up, db, ids, dt.datetime.now(dt.UTC) + clock_offset
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not catch up with the day")
            await asyncio.sleep(0.5)

    await caught_up()  # every `!erinnere` is stored now
    with db.session() as s:
        last_due = max((r.due_at for r in s.exec(select(Reminder)).all() if r.due_at), default=None)
    if last_due is not None:  # by the bot's clock: shifted
        real = last_due - clock_offset
        await asyncio.sleep(max(0.0, (real - dt.datetime.now(dt.UTC)).total_seconds()))
        await caught_up()
    await asyncio.sleep(2)  # a double would show by now


async def check_day(
    cast: Cast, sent: list[SentCommand], db: Database, bot_user: str, log_errors: list[str]
) -> DayResult:
    seen = await histories(cast.rooms)
    by_room: dict[str, list[SentCommand]] = defaultdict(list)
    for c in sent:
        by_room[c.room_id].append(c)
    result = DayResult(sent, {}, 0, 0)
    problems = result.problems
    problems.extend(f"bot log: {line}" for line in log_errors[:20])
    with db.session() as s:
        outbox = s.exec(select(OutboxMessage)).all()
        logs = s.exec(select(ReminderLog)).all()
        reminders = s.exec(select(Reminder)).all()
        agreements = s.exec(select(Agreement)).all()
        handled = set(s.exec(select(ProcessedEvent.event_id)).all())
    for room in cast.rooms:
        events = seen[room.room_id]
        from_bot = [e for e in events if e.sender == bot_user]
        ts = {e.event_id: e.origin_server_ts for e in events}
        problems.extend(_answers(room, by_room[room.room_id], from_bot, ts, result))
        stored = {(a.number, a.text) for a in agreements if a.room_id == room.room_id}
        confirmed = {(int(m[1]), m[2].strip()) for e in from_bot if (m := RECORDED.search(e.body))}
        if stored != confirmed:
            problems.append(
                f"{room.name}: agreements stored {len(stored)}, confirmed {len(confirmed)}, "
                f"differing {sorted(stored ^ confirmed)[:3]}"
            )
    problems.extend(
        f"command {c.event_id} ({c.command.body!r}) not marked handled"
        for c in sent
        if c.event_id not in handled
    )
    problems.extend(_owed_and_posted(seen, bot_user, outbox))
    problems.extend(_reminders(seen, bot_user, reminders, logs, outbox, result))
    return result


def _answers(
    room: LoadRoom,
    sent: list[SentCommand],
    from_bot: list[RoomEvent],
    ts: dict[str, int],
    result: DayResult,
) -> list[str]:
    problems: list[str] = []
    replies: dict[str, list[RoomEvent]] = defaultdict(list)
    for e in from_bot:
        if e.in_reply_to:
            replies[e.in_reply_to].append(e)
    for c in sent:
        got = replies.get(c.event_id, [])
        if len(got) != 1:
            problems.append(f"{room.name}: {c.command.body!r} answered {len(got)} times")
            continue
        if UNDECRYPTABLE in got[0].body:
            problems.append(f"{room.name}: {c.command.body!r} was not readable for the bot")
        if c.event_id in ts:
            kind = "encrypted rooms" if room.encrypted else "plain rooms"
            latency = got[0].origin_server_ts - ts[c.event_id]
            result.latencies_ms.setdefault(kind, []).append(latency)
        else:
            problems.append(f"{room.name}: {c.command.body!r} not in the room's history")
    return problems


def _owed_and_posted(
    seen: dict[str, list[RoomEvent]], bot_user: str, outbox: Sequence[OutboxMessage]
) -> list[str]:
    """Every message the bot owed was posted once; it posted nothing it did not owe."""
    problems: list[str] = []
    posted = Counter(e.event_id for evs in seen.values() for e in evs if e.sender == bot_user)
    owed = {row.event_id or "" for row in outbox if row.status == OutboxStatus.SENT}
    unsent = [row.txn_id for row in outbox if row.status != OutboxStatus.SENT]
    if unsent:
        problems.append(f"{len(unsent)} outbox message(s) never sent: {unsent[:3]}")
    problems.extend(f"sent {eid} is not in its room" for eid in owed if posted[eid] == 0)
    problems.extend(f"posted {eid}, which the outbox does not know" for eid in set(posted) - owed)
    return problems


def _reminders(
    seen: dict[str, list[RoomEvent]],
    bot_user: str,
    reminders: Sequence[Reminder],
    logs: Sequence[ReminderLog],
    outbox: Sequence[OutboxMessage],
    result: DayResult,
) -> list[str]:
    problems: list[str] = []
    posts = [e for events in seen.values() for e in events if e.sender == bot_user]
    unprompted = [e for e in posts if not e.in_reply_to]
    for r in reminders:
        found = [e for e in unprompted if e.room_id == r.room_id and r.text in e.body]
        if len(found) != 1:
            problems.append(f"reminder {r.text!r} posted {len(found)} times")
    result.reminders_seen = sum(1 for e in unprompted if "Unterlagen Gremium" in e.body)
    result.digests_seen = sum(1 for e in unprompted if "Wochenüberblick" in e.body)
    keys = Counter(log.key for log in logs)
    problems.extend(f"reminder occurrence {k} handled {n} times" for k, n in keys.items() if n > 1)
    by_id = {row.id: row for row in outbox}
    for log in logs:
        if log.status != LogStatus.SENT or log.outbox_id is None:
            continue
        row = by_id.get(log.outbox_id)
        if row is None or row.status != OutboxStatus.SENT:
            problems.append(f"reminder occurrence {log.key} never posted")
    if not any(log.kind == "digest" and log.outbox_id for log in logs):
        problems.append("no weekly digest was posted")
    if result.digests_seen != sum(1 for log in logs if log.kind == "digest" and log.outbox_id):
        problems.append("digests seen differ from the digests the bot logged")
    return problems


def expected_commands(size: DaySize) -> int:
    return size.rooms * size.commands_per_room


__all__ = [
    "NINE",
    "DayResult",
    "DaySize",
    "SentCommand",
    "Step",
    "check_day",
    "clock_offset",
    "run_day",
    "wait_until_done",
]
