"""1,000 reminders due in the same minute across 100 rooms, against a rate-limited Synapse.

Run: pytest -m benchmark tests/benchmarks/bench_reminders.py -s
(or all benchmarks: pytest -m benchmark tests/benchmarks -s)

A throwaway Synapse with a real message rate limit (``rc_message``: BENCH_RC_PER_SECOND
messages a second after a burst of BENCH_RC_BURST, defaults 20 and 20) and gremienbot in this
process. A member creates 100 rooms and invites the bot; 1,000 one-off reminders (10 a room,
as `!erinnere` stores them) are written to the bot's database, all due at the same moment a
few seconds ahead. Counted through the homeserver (/messages of every room): every reminder
arrived, none twice. Printed: the time from the due moment to the last reminder's arrival
(its origin_server_ts) and the ratio to the ideal time the rate limit allows
(1000 / per_second); also the bot-side median interval between two sends, which is the
limit when the homeserver allows more than the bot achieves (BENCH_RC_PER_SECOND=100).
Then, as a baseline in the same session, the member's plain nio client posts the same
number of messages into the same rooms (four rooms at a time, as the bot sends): the ratio of the
bot's time to that is what the bot adds to what the homeserver allows at all.

Recorded targets (the design: all delivered, none twice, as fast as the homeserver's rate
limit allows): 1,000 delivered, none twice, and the time at most 1.1 times the plain
client's (read as "as fast as the rate limit allows").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import time
from collections import Counter
from pathlib import Path

import pytest
from nio import RoomMessagesResponse, RoomSendResponse
from sqlmodel import func, select

from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from storage.models import OutboxMessage, OutboxStatus
from storage.models.reminders import ReminderLog
from tests.benchmarks.results import Figures, at_most, exactly
from tests.integration.conftest import PASSWORD, write_config
from tests.integration.reminder_helpers import database, insert_reminder, start_bot, stop_bot

ROOMS = 100
PER_ROOM = 10
PER_SECOND = float(os.environ.get("BENCH_RC_PER_SECOND", "20"))
BURST = int(os.environ.get("BENCH_RC_BURST", "20"))
TARGET_RATIO = 1.1


async def _all_messages(member: Member, room_id: str, sender: str) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    token: str | None = None
    while True:
        resp = await member.client.room_messages(room_id, start=token, limit=500)
        assert isinstance(resp, RoomMessagesResponse), resp
        for event in resp.chunk:
            body = getattr(event, "body", None)
            if event.sender == sender and isinstance(body, str) and "Bench-Erinnerung" in body:
                found.append((body, event.server_timestamp))
        if not resp.chunk or resp.end is None or resp.end == token:
            return found
        token = resp.end


async def _plain_client_floor(member: Member, rooms: list[str]) -> float:
    """Seconds a plain client (the member) needs to post PER_ROOM messages into each room."""
    slots = asyncio.Semaphore(4)

    async def post_room(room: str) -> None:
        async with slots:
            for i in range(PER_ROOM):
                resp = await member.client.room_send(
                    room, "m.room.message", {"msgtype": "m.text", "body": f"Grundlinie {i}"}
                )
                assert isinstance(resp, RoomSendResponse), resp

    started = time.monotonic()
    await asyncio.gather(*(post_room(room) for room in rooms))
    return time.monotonic() - started


@pytest.mark.benchmark
async def test_thousand_reminders_in_one_minute_across_hundred_rooms(
    tmp_path: Path, figures: Figures
) -> None:
    server = LocalSynapse(tmp_path / "hs", rc_message=(PER_SECOND, BURST))
    await asyncio.to_thread(server.start)
    anna: Member | None = None
    try:
        server.register("bot", PASSWORD)
        config = write_config(tmp_path, server, "bot")
        bot, task = await start_bot(config)
        bot_user = bot.config.user_id
        anna_id = server.register("anna", PASSWORD)
        anna = Member(server.url, anna_id, PASSWORD, tmp_path / "anna")
        await anna.login()
        started = time.monotonic()
        rooms = []
        for i in range(ROOMS):
            for _ in range(20):  # room creation counts against the message limit too
                try:
                    rooms.append(await anna.create_room(f"Gremium {i}", invite=(bot_user,)))
                    break
                except RuntimeError:
                    await asyncio.sleep(1)
        for room in rooms:
            await anna.wait_for_member(room, bot_user, timeout=120)
        print(f"\nset-up: {len(rooms)} rooms with the bot in {time.monotonic() - started:.1f} s")

        db = database(config)
        due = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=8)
        created = dt.datetime.now(dt.UTC)
        for r, room in enumerate(rooms):
            for i in range(PER_ROOM):
                insert_reminder(
                    db,
                    room,
                    text=f"Bench-Erinnerung {r}-{i}",
                    due_at=due,
                    created_by=anna_id,
                    created_at=created,
                )
        bot.scheduler.poke()
        await asyncio.sleep(max(0.0, (due - dt.datetime.now(dt.UTC)).total_seconds()))

        expected = ROOMS * PER_ROOM
        deadline = time.monotonic() + 60 + 3 * expected / PER_SECOND
        while time.monotonic() < deadline:
            with db.session() as s:
                done = s.exec(
                    select(func.count()).where(
                        OutboxMessage.status == OutboxStatus.SENT,
                        OutboxMessage.ref_kind == "reminder",
                    )
                ).one()
            if done >= expected:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)

        bodies: Counter[str] = Counter()
        last_ts = 0
        for room in rooms:
            for body, ts in await _all_messages(anna, room, bot_user):
                text = body.rsplit(": ", 1)[-1]
                bodies[text] += 1
                last_ts = max(last_ts, ts)
        with db.session() as s:
            rows = s.exec(select(OutboxMessage).where(OutboxMessage.ref_kind == "reminder")).all()
            queued_by = max(row.created_at for row in rows)
            sent = sorted(row.sent_at for row in rows if row.sent_at is not None)
            gaps = sorted((b - a).total_seconds() for a, b in itertools.pairwise(sent))
            assert len(s.exec(select(ReminderLog)).all()) == expected
        missing = expected - len(bodies)
        doubled = sum(1 for n in bodies.values() if n > 1)
        took = last_ts / 1000 - due.timestamp()
        ideal = expected / PER_SECOND
        print(
            f"rate limit: {PER_SECOND:g} messages/s after a burst of {BURST}\n"
            f"delivered: {len(bodies)} of {expected}, {doubled} twice, {missing} missing\n"
            f"all queued by the scheduler {(queued_by - due).total_seconds():.2f} s after the "
            "due moment\n"
            f"bot side: median {1000 * gaps[len(gaps) // 2]:.0f} ms between two sends, longest "
            f"pause {gaps[-1]:.2f} s\n"
            f"time from the due moment to the last one: {took:.1f} s; "
            f"ideal at the rate limit: {ideal:.1f} s; ratio {took / ideal:.2f}"
        )
        limit = f"rate limit {PER_SECOND:g}/s after a burst of {BURST}"
        figures.add("reminders delivered", len(bodies), target=exactly(expected))
        figures.add("reminders delivered twice", doubled, target=exactly(0))
        figures.add(
            "all queued by the scheduler, after the due moment",
            (queued_by - due).total_seconds(),
            "s",
        )
        figures.add(
            "bot side: median interval between two sends", 1000 * gaps[len(gaps) // 2], "ms"
        )
        figures.add("bot side: longest pause between two sends", gaps[-1], "s")
        figures.add("due moment to the last reminder's arrival", took, "s", note=limit)
        figures.add(
            "ratio to the ideal time at the rate limit",
            took / ideal,
            "×",
            note=f"ideal {ideal:g} s",
        )
        assert missing == 0
        assert doubled == 0
        db.dispose()
        await stop_bot(bot, task)

        # Baseline in the same session: a plain client posting the same 1,000 messages into
        # the same rooms, four rooms at a time — what this homeserver and limit allow at all.
        floor = await _plain_client_floor(anna, rooms)
        print(
            f"baseline: a plain client needs {floor:.1f} s for the same messages; "
            f"gremienbot / baseline {took / floor:.2f}"
        )
        figures.add("baseline: a plain client posting the same messages", floor, "s")
        figures.add(
            "ratio gremienbot / plain client",
            took / floor,
            "×",
            target=at_most(TARGET_RATIO),
            note="as fast as the rate limit allows, read as within 10 % of a plain client",
        )
    finally:
        if anna is not None:
            await anna.close()
        await asyncio.to_thread(server.stop)
