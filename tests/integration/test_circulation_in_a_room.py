"""Decisions by circulation against a real Synapse, in encrypted rooms: one passes when the
last voting member answers (one of them votes from Element's own library, matrix-js-sdk,
exactly as Element sends a vote), one fails by an objection and lands on the next
meeting's draft agenda, and a second objection after the end is answered."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.devtools.synapse import LocalSynapse
from storage.models import AgendaKind, AgendaRequest, Decision
from tests.integration.conftest import PASSWORD, BotFactory, MemberFactory, unique, write_config
from tests.integration.js_client import ElementClient, node_or_skip
from tests.integration.poll_helpers import (
    END,
    START,
    bot_events,
    respond,
    voting_room,
    wait_for_event,
)
from tests.integration.reminder_helpers import (
    database,
    shifted_clock,
    start_bot,
    stop_bot,
    wait_for_bot_message,
)

pytestmark = pytest.mark.synapse

BERLIN = ZoneInfo("Europe/Berlin")
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=BERLIN)
MOTION = "Zuschuss von 500 Euro für das Sommerfest"


@pytest.fixture(scope="session")
def node() -> str:
    return node_or_skip()


async def test_a_circulation_passes_when_the_last_voting_member_answers(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path, node: str
) -> None:
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    bot, task = await start_bot(config, clock=shifted_clock(NOON, 0))
    element: ElementClient | None = None
    try:
        bot_user = bot.config.user_id
        seated, element = await voting_room(
            synapse, make_member, node, bot.client, answer_index=0, timeout_ms=120000
        )  # Elke votes "Ja"
        chair, anna, ben, elke, room = (
            seated.chair,
            seated.anna,
            seated.ben,
            seated.elke,
            seated.room,
        )

        await chair.send(room, f"!umlauf {MOTION}")
        told = await wait_for_bot_message(chair, bot_user, room, "Stimmberechtigt (4)")
        voting = {chair.user_id, anna.user_id, ben.user_id, elke}
        assert set(told.content["m.mentions"]["user_ids"]) == voting
        assert "Abstimmen bis Di., 24. März 2026, 23:59 Uhr" in told.body
        [start] = await wait_for_event(chair, room, bot_user, START)
        assert start.encrypted, "the poll travelled encrypted"
        assert start.content[START]["kind"] == "org.matrix.msc3381.poll.disclosed"

        voted = await element.line()  # Elke votes "Ja" from Element's library
        assert voted["responseType"] == "org.matrix.msc3381.poll.response"
        assert voted["answerId"] == "yes"
        await anna.send_event(room, *respond(start.event_id, "abstain"))
        await anna.send_event(room, *respond(start.event_id, "yes"))  # Anna changes her mind
        await ben.send_event(room, *respond(start.event_id, "no", stable=True))
        await asyncio.sleep(1.5)
        assert await bot_events(chair, room, bot_user, END) == [], "three of four have voted"

        await chair.send_event(room, *respond(start.event_id, "yes"))  # the last one
        result = await wait_for_bot_message(chair, bot_user, room, "Ergebnis des Umlaufverfahrens")
        assert "Alle stimmberechtigten Mitglieder haben abgestimmt." in result.body
        assert "✅ Beschluss 2026/1 – angenommen." in result.body
        assert (
            "4 von 4 stimmberechtigten Mitgliedern haben abgestimmt (nötig: 3); "
            "Ja 3, Nein 1, Enthaltung 0; einfache Mehrheit: angenommen"
        ) in result.body

        # What Element shows: the poll ended, by the bot's end event.
        seen = await element.result(timeout=90)
        assert seen["ok"], seen
        assert seen["pollId"] == start.event_id
        assert not seen["decryptionFailure"]
        assert "disclosed" in seen["kind"]
        assert "Beschluss 2026/1" in seen["endText"]
        [end] = await wait_for_event(chair, room, bot_user, END)
        assert end.event_id == seen["endEventId"]
        assert end.content["m.relates_to"]["event_id"] == start.event_id

        await anna.send(room, "!beschlüsse")
        listed = await wait_for_bot_message(anna, bot_user, room, "Beschlüsse 2026")
        assert f"2026/1 (Di., 10. März 2026) „{MOTION}“ – im Umlaufverfahren" in listed.body
    finally:
        if element is not None:
            element.kill()
        await stop_bot(bot, task)


async def test_a_circulation_fails_by_objection_and_goes_on_the_next_agenda(
    make_bot: BotFactory, make_member: MemberFactory, tmp_path: Path
) -> None:
    bot = await make_bot()
    bot_user = bot.user_id
    chair, anna, ben = (
        await make_member("vorsitz"),
        await make_member("anna"),
        await make_member("ben"),
    )
    room = await chair.create_room("Schulausschuss", invite=(bot_user,), encrypted=True)
    await chair.wait_for_member(room, bot_user, timeout=30)
    for member in (anna, ben):
        await chair.invite(room, member.user_id)
        await member.join(room)
        await chair.wait_for_member(room, member.user_id)
    await asyncio.sleep(1.0)

    await chair.send(room, "!umlauf Neue Bänke für den Schulhof")
    await wait_for_bot_message(chair, bot_user, room, "Stimmberechtigt (3)")
    [start] = await wait_for_event(chair, room, bot_user, START)
    await anna.send_event(room, *respond(start.event_id, "yes"))
    await ben.send_event(room, *respond(start.event_id, "objection"))
    result = await wait_for_bot_message(chair, bot_user, room, "Ergebnis des Umlaufverfahrens")
    assert "Nicht zustande gekommen – Widerspruch gegen das Umlaufverfahren." in result.body
    assert "Der Antrag steht auf der Tagesordnung der nächsten Sitzung." in result.body
    [end] = await wait_for_event(chair, room, bot_user, END)
    assert end.content["m.relates_to"]["event_id"] == start.event_id

    await anna.send_event(room, *respond(start.event_id, "objection"))  # too late
    late = await wait_for_bot_message(anna, bot_user, room, "ist schon beendet")
    assert "ein Widerspruch ändert daran nichts mehr" in late.body
    assert late.content["m.mentions"]["user_ids"] == [anna.user_id]

    # The chair finds the failed motion on the next meeting's draft agenda.
    await chair.send(room, "!tagesordnung")
    agenda = await wait_for_bot_message(chair, bot_user, room, "Tagesordnung (Entwurf)")
    lines = agenda.body.splitlines()
    motion = next(i for i, li in enumerate(lines) if "Neue Bänke für den Schulhof" in li)
    closing = next(i for i, li in enumerate(lines) if "Verschiedenes" in li)
    assert motion < closing
    assert "Beschlussfähigkeit" in agenda.body

    db = database(tmp_path / "config.yaml")
    try:
        with db.session() as s:
            [decision] = s.exec(select(Decision)).all()
            [item] = s.exec(select(AgendaRequest)).all()
        assert (decision.outcome, decision.number) == ("objection", None)
        assert (item.kind, item.ref_id, item.room_id) == (AgendaKind.CIRCULATION, decision.id, room)
        assert item.text == "Neue Bänke für den Schulhof"
    finally:
        db.dispose()
