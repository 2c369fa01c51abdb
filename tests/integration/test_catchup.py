"""Nothing typed while the bot was away is lost: a meeting's worth of commands, answered once
each and in the order sent, after the bot comes back — in plain and in encrypted rooms."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from bot.runtime.pipeline import PAGE_SIZE
from bot.runtime.sync import TIMELINE_LIMIT
from commands.parsing.dates import format_date
from storage.models import Agreement
from tests.integration.catchup_helpers import (
    assert_each_answered_once,
    recorded_numbers,
    settle,
    wait_for_answers,
)
from tests.integration.conftest import (
    PASSWORD,
    BotFactory,
    MemberFactory,
    unique,
    write_config,
)
from tests.integration.reminder_helpers import database, start_bot, stop_bot, utcnow

pytestmark = pytest.mark.synapse

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class AwayBot:
    """A committee whose bot answered once and is now stopped: what comes next is missed."""

    config: Path
    bot_user: str
    anna: Member
    ben: Member
    room: str


async def _bot_goes_away(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path, *, encrypted: bool = False
) -> AwayBot:
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    bot, task = await start_bot(config)
    bot_user = bot.config.user_id
    anna = await make_member("anna")
    ben = await make_member("ben")
    room = await anna.create_room(
        "Steuerungsgruppe", invite=(bot_user, ben.user_id), encrypted=encrypted
    )
    await ben.join(room)
    await anna.wait_for_member(room, bot_user, timeout=30)
    await anna.wait_for_member(room, ben.user_id)
    await ben.wait_for_member(room, bot_user)
    await anna.send(room, "!hilfe")
    await anna.wait_for_reply(room, bot_user, 0, timeout=30)
    await stop_bot(bot, task)
    return AwayBot(config, bot_user, anna, ben, room)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_sixty_commands_sent_while_the_bot_was_away_are_answered_once_in_order(
    synapse: LocalSynapse,
    make_member: MemberFactory,
    tmp_path: Path,
    encrypted: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """More than one sync carries (TIMELINE_LIMIT): the gap before them is paged back."""
    caplog.set_level(logging.INFO, logger="bot.runtime.pipeline")
    away = await _bot_goes_away(synapse, make_member, tmp_path, encrypted=encrypted)
    config, bot_user, anna, ben, room = away.config, away.bot_user, away.anna, away.ben, away.room

    sent: list[str] = []
    count = TIMELINE_LIMIT + 10
    for i in range(count):  # two members take turns, as in a meeting
        member = anna if i % 2 == 0 else ben
        sent.append(await member.send(room, f"!verabredung Punkt {i:02d} klären"))

    bot, task = await start_bot(config)
    try:
        await wait_for_answers(anna, bot_user, room, count + 1, timeout=120)
        await settle([anna], bot_user, [room])
        assert_each_answered_once(anna, bot_user, room, sent)
        numbers = recorded_numbers(anna, bot_user, room)
        in_order = [numbers.get(f"Punkt {i:02d} klären") for i in range(count)]
        assert in_order == list(range(1, count + 1))
        assert any("filled a gap" in r.getMessage() for r in caplog.records)
        db = database(config)
        with db.session() as s:
            stored = s.exec(select(Agreement).where(Agreement.room_id == room)).all()
        db.dispose()
        assert sorted(a.number for a in stored) == list(range(1, count + 1))
    finally:
        await stop_bot(bot, task)


async def test_commands_older_than_the_horizon_are_answered_but_not_carried_out(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    away = await _bot_goes_away(synapse, make_member, tmp_path)
    config, bot_user, anna, room = away.config, away.bot_user, away.anna, away.room

    sent = [await anna.send(room, f"!verabredung Alter Punkt {i}") for i in range(3)]
    # Eight days pass (the bot's clock says so) before the bot is back.
    eight_days = dt.timedelta(days=8)
    bot, task = await start_bot(config, clock=lambda: utcnow() + eight_days)
    try:
        await wait_for_answers(anna, bot_user, room, 4, timeout=60)
        await settle([anna], bot_user, [room])
        assert_each_answered_once(anna, bot_user, room, sent)
        late = anna.messages_from(bot_user, room)[1:]
        assert all("Nicht ausgeführt" in m.body and "älter als 7 Tage" in m.body for m in late)
        db = database(config)
        with db.session() as s:
            assert s.exec(select(Agreement).where(Agreement.room_id == room)).all() == []
        db.dispose()
    finally:
        await stop_bot(bot, task)


async def test_bis_morgen_means_the_day_after_the_command_was_written(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    away = await _bot_goes_away(synapse, make_member, tmp_path)
    config, bot_user, anna, room = away.config, away.bot_user, away.anna, away.room

    written = dt.datetime.now(BERLIN)
    await anna.send(room, "!verabredung Bericht schicken bis morgen")
    # The bot reads it three days later (by its clock): still within the horizon.
    bot, task = await start_bot(config, clock=lambda: utcnow() + dt.timedelta(days=3))
    try:
        answer = await anna.wait_for_reply(room, bot_user, 1, timeout=60)
        tomorrow = format_date(written.date() + dt.timedelta(days=1), "de")
        assert "festgehalten: Bericht schicken" in answer.body, answer.body
        assert f"Frist: {tomorrow}" in answer.body, answer.body
    finally:
        await stop_bot(bot, task)


async def test_joining_a_room_with_a_long_history_neither_answers_it_nor_pages_through_it(
    make_bot: BotFactory, make_member: MemberFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.runtime.pipeline")
    bot = await make_bot()
    anna = await make_member("anna")
    room = await anna.create_room("Steuerungsgruppe")
    for i in range(TIMELINE_LIMIT * 3):  # a committee that met long before the bot came
        await anna.send(room, f"!verabredung Alter Punkt {i}")
    await anna.invite(room, bot.user_id)
    await anna.wait_for_member(room, bot.user_id, timeout=30)
    await anna.send(room, "!einstellungen")
    first = await anna.wait_for_reply(room, bot.user_id, 0, timeout=30)
    await settle([anna], bot.user_id, [room])
    assert "Sprache" in first.body
    assert len(anna.messages_from(bot.user_id, room)) == 1
    filled = [r.getMessage() for r in caplog.records if "filled a gap" in r.getMessage()]
    # At most the one page that reaches back past the join, not the whole history.
    assert all(int(m.split()[4]) <= PAGE_SIZE for m in filled), filled
