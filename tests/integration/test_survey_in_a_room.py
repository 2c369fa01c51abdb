"""The annual survey against a real Synapse: the coordination starts it in an encrypted
room, each member gets the statements as polls in their direct-message room and answers
them there; the report shows the figures, not the two free texts, with a chart (a PNG the
members decrypt); and no table holds a user ID beside an answer."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from matplotlib import image
from nio import MatrixRoom, RoomEncryptedImage, RoomMessageImage
from nio.crypto.attachments import decrypt_attachment
from sqlalchemy import select as sql_select
from sqlmodel import SQLModel

from bot.devtools.member import Member
from tests.integration.conftest import BotFactory, MemberFactory
from tests.integration.effect_helpers import SeenEvent, download, timeline
from tests.integration.poll_helpers import END, START, respond, survey_committee, wait_for_event
from tests.integration.reminder_helpers import wait_for_bot_message

pytestmark = pytest.mark.synapse

STATEMENTS = 6


async def statements(member: Member, dm: str, bot_user: str) -> list[SeenEvent]:
    return await wait_for_event(member, dm, bot_user, START, count=STATEMENTS, timeout=40)


async def test_members_answer_the_survey_by_direct_message_and_the_report_shows_no_one(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    committee = await survey_committee(make_bot, make_member)
    bot, buero, room, invites = committee.bot, committee.buero, committee.room, committee.invites
    anna, ben, carla = committee.members
    bot_user = bot.user_id
    people = (buero, anna, ben, carla)
    files: list[Any] = []

    async def on_file(_room: MatrixRoom, event: Any) -> None:
        files.append(event)

    # The chart comes as a picture shown in the timeline (m.image).
    buero.client.add_event_callback(on_file, (RoomEncryptedImage, RoomMessageImage))

    await buero.send(room, "!auswertung starten")
    await wait_for_bot_message(
        buero, bot_user, room, "4 Mitgliedern die Aussagen der Jahresbefragung"
    )
    for member, value in ((anna, "5"), (ben, "2"), (carla, "4")):
        await member.wait_until(lambda m=member: bool(invites[m.user_id]), timeout=30)  # type: ignore[misc]
        dm = invites[member.user_id][0].room_id
        for poll in await statements(member, dm, bot_user):
            await member.send_event(dm, *respond(poll.event_id, value))
        await wait_for_bot_message(
            member, bot_user, dm, f"Sie haben alle {STATEMENTS} Aussagen beantwortet"
        )
    for n, member in enumerate((anna, ben)):  # two free texts: too few to be shown
        dm = invites[member.user_id][0].room_id
        question = next(m for m in member.messages_from(bot_user, dm) if "freiwillig" in m.body)
        await member.client.room_send(
            dm,
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": f"Mehr Zeit für Themen, Punkt {n}",
                "m.relates_to": {"m.in_reply_to": {"event_id": question.event_id}},
            },
        )
        await wait_for_bot_message(member, bot_user, dm, "ohne Ihren Namen")

    # While it runs, the report shows the participation only.
    await buero.send(room, "!auswertung")
    running = await wait_for_bot_message(buero, bot_user, room, "Mitgliedern haben teilgenommen")
    assert "3 von 4 Mitgliedern haben teilgenommen (75 %)" in running.body
    assert "Mittelwert" not in running.body.replace("Mittelwerte,", "")
    # The coordination ends it early: the timer ends it at once, the figures follow.
    await buero.send(room, "!auswertung beenden")
    await wait_for_bot_message(buero, bot_user, room, "ist abgeschlossen: 3 von 4 Mitgliedern")
    # Her statements' polls are ended in her direct-message room.
    ended_dm = invites[anna.user_id][0].room_id
    ends = await wait_for_event(anna, ended_dm, bot_user, END, count=STATEMENTS)
    assert len(ends) == STATEMENTS
    await buero.send(room, "!auswertung")
    report = await wait_for_bot_message(buero, bot_user, room, "Mittelwert 3,7")
    assert "3 von 4 Mitgliedern haben teilgenommen (75 %)" in report.body
    assert "Mittelwert 3,7 von 5 aus 3 Antworten" in report.body
    assert "2 Freitext-Antworten – ich zeige sie erst ab 3 Antworten" in report.body
    for member in people:
        assert member.user_id not in report.body
    await buero.wait_until(lambda: bool(files), timeout=30)
    content = files[0].source["content"]
    assert content["info"]["mimetype"] == "image/png"
    info = content["file"]
    stored = await download(buero, info["url"])
    png = decrypt_attachment(stored, info["key"]["k"], info["hashes"]["sha256"], info["iv"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width, _channels = image.imread(io.BytesIO(png), format="png").shape
    assert (width, height) == (content["info"]["w"], content["info"]["h"])
    assert width > 300
    assert height > 200

    # And a pulse in the room, answered by two.
    await buero.send(room, "!puls")
    await wait_for_bot_message(buero, bot_user, room, "Puls #1 läuft bis")
    [pulse] = [e for e in await timeline(buero, room, bot_user) if e.type == START]
    for member, value in ((anna, "4"), (ben, "3")):
        await member.send_event(room, *respond(pulse.event_id, value))
    await buero.send(room, "!ergebnis")
    await wait_for_bot_message(buero, bot_user, room, "bisher 2 Stimmen")

    # Every row of every table: no user ID beside an answer, no free text beside a user ID.
    users = [m.user_id for m in people]
    answer_tables = {"poll_vote", "survey_comment"}
    votes = 0
    with bot.bot.db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            for row in s.execute(sql_select(table)).mappings():
                values = json.dumps(dict(row), default=str, ensure_ascii=False)
                has_user = any(u in values for u in users)
                if table.name in answer_tables:
                    votes += 1
                    assert not has_user, (table.name, values)
                elif has_user:
                    assert "Mehr Zeit" not in values, (table.name, values)
    assert votes == 3 * STATEMENTS + 2 + 2
