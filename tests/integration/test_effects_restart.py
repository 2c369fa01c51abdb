"""Effects pending while the bot is down, and a crash after the homeserver took some of them
before the bot noted it: after the restart each effect is in the room exactly once.

The crash is made in the process: the second start's sender "dies" (stops) right after the
homeserver accepted a message, without recording it, as a SIGKILL at that moment would
leave it. The third start sends everything again with the same transaction IDs; the
homeserver recognises those it has and answers with the event it made the first time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.runtime.matrix_render import GREETING_MARK
from bot.runtime.sender import OutboxSender
from commands.core.effects import Edit, File, Image, PollAnswer, PollEnd, PollStart, Reply, png_size
from commands.core.rich import text
from commands.evaluation import chart
from storage import outbox
from storage.models import OutboxMessage
from tests.integration.conftest import BotFactory, MemberFactory
from tests.integration.effect_helpers import accept_invites, queue, timeline, wait_sent
from tests.integration.reminder_helpers import database, room_with_bot

pytestmark = pytest.mark.synapse

CSV = b"Nr;Verabredung\n1;Schulentwicklungsplan\n"
KEYS = [
    "e2e:reply",
    "e2e:poll",
    "e2e:card",
    "e2e:edit",
    "e2e:end",
    "e2e:chart",
    "e2e:file",
    "e2e:dm",
]


async def test_effects_pending_over_a_restart_and_a_crash_go_out_exactly_once(
    make_bot: BotFactory,
    make_member: MemberFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = await make_bot()
    config_path = tmp_path / "config.yaml"
    anna = await make_member("anna")
    invites = accept_invites(anna, first.user_id)
    room = await room_with_bot(anna, first.user_id, encrypted=True)
    # The bot's greeting on joining goes out before the outage: only the effects below wait.
    await anna.wait_until(lambda: bool(anna.greetings(first.user_id, room)), timeout=30)
    await first.stop()

    db = database(config_path)
    png = chart.png(
        chart.ChartData(
            statements=[("Die Sitzungen sind gut vorbereitet.", 4.2)],
            left_out=0,
            months=[],
            axis=[(2026, 1)],
        ),
        "de",
    )
    width, height = png_size(png)
    queue(
        db,
        "$while-down",
        room,
        [
            Reply(text("Antwort auf den Befehl"), key="e2e:reply"),
            PollStart(
                question="Zufrieden?",
                answers=(PollAnswer("a1", "ja"), PollAnswer("a2", "nein")),
                key="e2e:poll",
            ),
            Reply(text("Verabredung #1"), key="e2e:card"),
            Edit(target_key="e2e:card", rich=text("Verabredung #1 (erledigt)"), key="e2e:edit"),
            PollEnd(poll_key="e2e:poll", results=text("ja: 0, nein: 0"), key="e2e:end"),
            Image(
                filename="auswertung.png",
                data=png,
                mimetype="image/png",
                width=width,
                height=height,
                to_user=anna.user_id,
                key="e2e:chart",
            ),
            File(
                filename="liste.csv",
                data=CSV,
                mimetype="text/csv",
                to_user=anna.user_id,
                key="e2e:file",
            ),
            Reply(text("Direkt an Anna"), to_user=anna.user_id, key="e2e:dm"),
        ],
    )

    # Second start: taken by the homeserver, never recorded, until the member's first
    # direct message (a chart, uploaded with its thumbnail and sent) went out too; then
    # the sender dies.
    taken: dict[int, str] = {}
    dm_taken = asyncio.Event()
    loop = asyncio.get_running_loop()

    def crash_after_sending(self: OutboxSender, msg_id: int, event_id: str) -> None:
        taken[msg_id] = event_id
        with db.session() as s:
            row = s.get(OutboxMessage, msg_id)
            assert row is not None
        if row.to_user is not None:
            loop.call_soon_threadsafe(self.stop)
            loop.call_soon_threadsafe(dm_taken.set)

    with monkeypatch.context() as patch:
        patch.setattr(OutboxSender, "_sent", crash_after_sending)
        second = await make_bot(config_path)
        await asyncio.wait_for(dm_taken.wait(), timeout=60)
        await second.stop()
    with db.session() as s:
        assert all(row.status == "pending" for row in outbox.pending(s, limit=1000))
        assert len(outbox.pending(s, limit=1000)) == len(KEYS)
    # The room's queue went as far as it could: its edit waits for the card's event ID,
    # which the dead sender never recorded.
    assert len(taken) >= 2

    third = await make_bot(config_path)
    sent = await wait_sent(db, KEYS, timeout=60)
    with db.session() as s:
        for msg_id, event_id in taken.items():
            row = s.get(OutboxMessage, msg_id)
            assert row is not None
            assert row.event_id == event_id, "the homeserver deduplicated"
    await asyncio.sleep(2)  # anything sent twice would be there by now

    in_room = [
        e for e in await timeline(anna, room, third.user_id) if not e.content.get(GREETING_MARK)
    ]
    assert [(e.event_id, e.type) for e in in_room] == [
        (sent["e2e:reply"], "m.room.message"),
        (sent["e2e:poll"], "org.matrix.msc3381.poll.start"),
        (sent["e2e:card"], "m.room.message"),
        (sent["e2e:edit"], "m.room.message"),
        (sent["e2e:end"], "org.matrix.msc3381.poll.end"),
    ]
    edit, end = in_room[3].content, in_room[4].content
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": sent["e2e:card"]}
    assert end["m.relates_to"] == {"rel_type": "m.reference", "event_id": sent["e2e:poll"]}

    [invite] = invites
    in_dm = await timeline(anna, invite.room_id, third.user_id)
    assert [(e.event_id, _msgtype(e.content)) for e in in_dm] == [
        (sent["e2e:chart"], "m.image"),
        (sent["e2e:file"], "m.file"),
        (sent["e2e:dm"], "m.notice"),
    ]
    assert all(e.encrypted for e in in_room + in_dm)
    picture = in_dm[0].content["info"]
    assert (picture["w"], picture["h"]) == (width, height)
    assert picture["thumbnail_file"]["url"].startswith("mxc://")
    db.dispose()


def _msgtype(content: dict[str, Any]) -> str:
    return str(content.get("msgtype"))
