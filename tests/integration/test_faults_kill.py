"""The bot process is killed (SIGKILL) in the middle of a busy meeting and started again.

Five members write two hundred commands into three committee rooms (one end-to-end
encrypted) as fast as their clients send; the bot runs as operators run it
(`python -m bot run`) and is killed without warning after it has answered some of them,
then started again at once, while the members are still writing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.devtools.synapse import LocalSynapse
from storage.models import OutboxMessage, OutboxStatus, ProcessedEvent
from tests.integration.conftest import PASSWORD, BotProcess, MemberFactory, unique, write_config
from tests.integration.fault_helpers import (
    assert_agreements_stored_once,
    assert_answered_once_in_order,
    assert_posted_what_the_outbox_holds,
    committee,
    expected_answer,
    meeting_script,
    send_script,
    settled,
    wait_for_answers,
)
from tests.integration.reminder_helpers import database

pytestmark = pytest.mark.synapse

COMMANDS = 200
ROOMS = 3
MEMBERS = 5
KILL_AFTER_ANSWERS = 40


def work_at_kill(config: Path) -> str:
    """What the killed process had done: commands handled, answers not yet confirmed sent."""
    db = database(config)
    try:
        with db.session() as s:
            handled = s.exec(select(func.count()).select_from(ProcessedEvent)).one()
            pending = s.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
            ).one()
    finally:
        db.dispose()
    return f"{handled} commands handled, {pending} answers not yet confirmed sent"


async def test_every_command_of_a_burst_is_answered_once_after_the_bot_is_killed(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    """Afterwards: every command answered by exactly one message, in the order sent within
    its room; agreement numbers follow the order sent; every agreement stored once with
    one 'created' history row (and one 'done' row where `!erledigt` closed it); every
    message of the bot in the rooms is exactly one outbox row marked sent."""
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    bot_user = f"@{localpart}:{synapse.server_name}"
    process = BotProcess(config)
    process.start()
    try:
        members = list(
            await asyncio.gather(*(make_member(n) for n in ("anna", "ben", "cara", "dora", "emil")))
        )
        rooms = list(
            await asyncio.gather(
                *(
                    committee(members, bot_user, f"Gremium {i}", encrypted=(i == 0))
                    for i in range(ROOMS)
                )
            )
        )
        per_room = [COMMANDS // ROOMS + (1 if i < COMMANDS % ROOMS else 0) for i in range(ROOMS)]
        scripts = {
            room: meeting_script(f"K{i}", per_room[i], MEMBERS, offset=i)
            for i, room in enumerate(rooms)
        }
        # The members write in all rooms at once; within a room one after another.
        sending = asyncio.gather(
            *(send_script(members, room, script) for room, script in scripts.items())
        )
        anna = members[0]

        def answered() -> int:
            return sum(len(anna.messages_from(bot_user, r)) for r in rooms)

        await anna.wait_until(lambda: answered() >= KILL_AFTER_ANSWERS, timeout=120)
        process.kill()
        at_kill = work_at_kill(config)
        process.start()  # as a service manager restarts it
        sent = dict(zip(scripts, await sending, strict=True))
        print(f"killed after {at_kill}")

        await wait_for_answers(anna, bot_user, sent, timeout=180)
        said = await settled(anna, rooms)
        db = database(config)
        try:
            for room, script in scripts.items():
                assert_answered_once_in_order(
                    said[room], bot_user, sent[room], expect=expected_answer(script)
                )
                assert_agreements_stored_once(db, room, script)
                assert_posted_what_the_outbox_holds(db, room, said[room], bot_user)
        finally:
            db.dispose()
        assert process.stop() == 0
    finally:
        if process.proc is not None and process.proc.poll() is None:
            process.kill()
    assert "Traceback" not in process.log()
