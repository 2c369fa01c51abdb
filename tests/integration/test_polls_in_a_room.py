"""Polls against a real Synapse, in encrypted rooms: members answer from nio (both forms of
the response event) and from Element's own library; a pulse ends at its deadline, a poll
by `!schließen`; an anonymous pulse goes to each member's direct-message room and only its
totals reach the committee room."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.devtools.synapse import LocalSynapse
from storage import outbox
from storage.models import Poll
from tests.integration.conftest import PASSWORD, BotFactory, MemberFactory, unique, write_config
from tests.integration.effect_helpers import accept_invites
from tests.integration.js_client import ElementClient, node_or_skip
from tests.integration.poll_helpers import (
    END,
    START,
    bot_events,
    respond,
    until,
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


@pytest.fixture(scope="session")
def node() -> str:
    return node_or_skip()


def poll_event_id(config: Path, number: int) -> str:
    with database(config).session() as s:
        poll = s.exec(select(Poll).where(Poll.number == number)).one()
        row = outbox.by_key(s, f"poll:{poll.id}:start")
        assert row is not None
        assert row.event_id is not None
        return row.event_id


async def test_a_pulse_answered_from_nio_and_element_ends_at_its_deadline_and_a_poll_by_command(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path, node: str
) -> None:
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    lead = 45.0  # the bot's clock reads 12:00 this long after it starts
    bot, task = await start_bot(config, clock=shifted_clock(NOON, lead))
    element: ElementClient | None = None
    try:
        bot_user = bot.config.user_id
        seated, element = await voting_room(
            synapse, make_member, node, bot.client, answer_index=3, timeout_ms=90000
        )  # Elke: "4 – zufrieden"
        chair, anna, ben, room = (
            seated.chair,
            seated.anna,
            seated.ben,
            seated.room,
        )

        await chair.send(room, "!puls bis 12 Uhr")
        await wait_for_bot_message(chair, bot_user, room, "Puls #1 läuft bis Di., 10. März 2026")
        [start] = await wait_for_event(chair, room, bot_user, START)
        assert start.encrypted, "the poll travelled encrypted"
        assert start.content[START]["kind"] == "org.matrix.msc3381.poll.undisclosed"
        voted = await element.line()
        assert voted["responseType"] == "org.matrix.msc3381.poll.response"
        await anna.send_event(room, *respond(start.event_id, "5"))
        await ben.send_event(room, *respond(start.event_id, "2", stable=True))
        await ben.send_event(room, *respond(start.event_id, "3"))  # Ben changes his mind

        # A general poll, ended by its creator before its deadline.
        await chair.send(room, "!umfrage Welcher Termin passt? | Montag | Dienstag | Mittwoch")
        await wait_for_bot_message(chair, bot_user, room, "Umfrage #2 läuft bis")
        second = poll_event_id(config, 2)
        await anna.send(room, "!stimme 2 2")
        await wait_for_bot_message(anna, bot_user, room, "gezählt: Dienstag")
        await ben.send(room, "!stimme 2 Mittwoch")
        await wait_for_bot_message(ben, bot_user, room, "gezählt: Mittwoch")
        await chair.send_event(room, *respond(second, "a2", stable=True))  # Dienstag
        await asyncio.sleep(1.0)  # the chair's answer is handled before the close
        await chair.send(room, "!schließen 2")
        ends = await wait_for_event(chair, room, bot_user, END)
        [end_two] = ends
        assert end_two.content["m.relates_to"] == {"rel_type": "m.reference", "event_id": second}
        end_text = end_two.content["org.matrix.msc1767.text"]
        assert "Dienstag: 2 (67 %)" in end_text
        assert "Mittwoch: 1 (33 %)" in end_text
        assert "3 Stimmen" in end_text

        # 12:00 on the bot's clock: the pulse ends by itself.
        result = await element.result(timeout=90)
        assert result["ok"], result
        assert result["pollId"] == start.event_id
        assert result["type"] == START
        assert result["question"] == "Wie zufrieden sind Sie mit der heutigen Sitzung?"
        assert not result["decryptionFailure"]
        # Elke 4 (from Element), Anna 5, Ben 3 (his second answer replaced his first).
        assert "3 Stimmen" in result["endText"]
        assert "Mittelwert: 4,0 von 5" in result["endText"]
        ends = await wait_for_event(chair, room, bot_user, END, count=2)
        assert ends[1].event_id == result["endEventId"]
        assert ends[1].content["m.relates_to"]["event_id"] == start.event_id

        await chair.send(room, "!ergebnis 1")
        shown = await wait_for_bot_message(chair, bot_user, room, "Ergebnis – Puls #1")
        for line in ("3 – teils, teils: 1", "4 – zufrieden: 1", "5 – sehr zufrieden: 1"):
            assert line in shown.body
        assert "2 – wenig zufrieden: 0" in shown.body
    finally:
        if element is not None:
            element.kill()
        await stop_bot(bot, task)


async def test_an_anonymous_pulse_goes_to_each_member_and_the_room_sees_only_totals(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    bot_user = bot.user_id
    chair, anna, ben = (
        await make_member("vorsitz"),
        await make_member("anna"),
        await make_member("ben"),
    )
    invites = {m.user_id: accept_invites(m, bot_user) for m in (chair, anna, ben)}
    room = await chair.create_room("Fachgruppe Übergänge", invite=(bot_user,), encrypted=True)
    await chair.wait_for_member(room, bot_user, timeout=30)
    for member in (anna, ben):
        await chair.invite(room, member.user_id)
        await member.join(room)
        await chair.wait_for_member(room, member.user_id)

    await chair.send(room, "!puls anonym Wie gut war die Sitzung vorbereitet?")
    await wait_for_bot_message(chair, bot_user, room, "3 Mitgliedern die Frage per Direktnachricht")
    answers = {chair.user_id: "4", anna.user_id: "5", ben.user_id: "2"}
    for member in (chair, anna, ben):
        await until(lambda m=member: bool(invites[m.user_id]))  # type: ignore[misc]
        dm = invites[member.user_id][0].room_id
        [start] = await wait_for_event(member, dm, bot_user, START)
        assert start.encrypted
        await member.send_event(dm, *respond(start.event_id, answers[member.user_id]))
    await asyncio.sleep(1.0)
    await chair.send(room, "!schließen 1")
    totals = await wait_for_bot_message(chair, bot_user, room, "Ergebnis")
    assert "3 Stimmen" in totals.body
    assert "Mittelwert: 3,7 von 5" in totals.body
    # The committee room never saw the poll itself, nor anyone's answer.
    assert await bot_events(chair, room, bot_user, START) == []
    for member in (chair, anna, ben):
        dm = invites[member.user_id][0].room_id
        [end] = await wait_for_event(member, dm, bot_user, END)
        assert "Mittelwert: 3,7 von 5" in end.content["org.matrix.msc1767.text"]
