"""The evaluation as a PDF against a real Synapse: after the annual survey of an encrypted
committee room has ended, the coordination asks for `!auswertung pdf`; the file arrives
as an encrypted attachment, and the member who downloads and decrypts it reads the
committee, the year, the participation and each statement's mean — and no member."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from nio import MatrixRoom, RoomEncryptedFile, RoomMessageFile
from nio.crypto.attachments import decrypt_attachment

from tests.integration.conftest import BotFactory, MemberFactory
from tests.integration.effect_helpers import download
from tests.integration.poll_helpers import START, respond, survey_committee, wait_for_event
from tests.integration.reminder_helpers import wait_for_bot_message
from tests.papers_support import pages, words

pytestmark = pytest.mark.synapse

# Two statements keep the survey short; the free question is left out.
STATEMENTS = ["Wir kommen in unseren Themen voran.", "Die Sitzungen sind gut vorbereitet."]


async def test_the_evaluation_pdf_arrives_encrypted_and_reads_as_the_report(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    committee = await survey_committee(
        make_bot, make_member, evaluation={"statements": STATEMENTS, "free_question": None}
    )
    bot, buero, room, invites = committee.bot, committee.buero, committee.room, committee.invites
    anna, ben, carla = committee.members
    bot_user = bot.user_id
    people = (buero, anna, ben, carla)
    files: list[Any] = []

    async def on_file(_room: MatrixRoom, event: Any) -> None:
        if _room.room_id == room:
            files.append(event)

    anna.client.add_event_callback(on_file, (RoomEncryptedFile, RoomMessageFile))

    # The survey: each member answers both statements in their direct-message room.
    await buero.send(room, "!auswertung starten")
    await wait_for_bot_message(buero, bot_user, room, "die Aussagen der Jahresbefragung")
    for member, scores in ((anna, ("5", "4")), (ben, ("2", "4")), (carla, ("4", "4"))):
        await member.wait_until(lambda m=member: bool(invites[m.user_id]), timeout=30)  # type: ignore[misc]
        dm = invites[member.user_id][0].room_id
        polls = await wait_for_event(member, dm, bot_user, START, count=len(STATEMENTS))
        for poll, score in zip(polls, scores, strict=True):
            await member.send_event(dm, *respond(poll.event_id, score))
        await wait_for_bot_message(member, bot_user, dm, "Sie haben alle 2 Aussagen beantwortet")
    await buero.send(room, "!auswertung beenden")
    await wait_for_bot_message(buero, bot_user, room, "ist abgeschlossen: 3 von 4 Mitgliedern")

    # The PDF, asked for by the coordination, read by a member.
    await buero.send(room, "!auswertung pdf")
    await anna.wait_until(lambda: bool(files), timeout=90)
    [event] = files
    assert event.decrypted, "the event itself travelled encrypted (Megolm)"
    content = event.source["content"]
    year = dt.datetime.now(ZoneInfo("Europe/Berlin")).year  # the room's default zone
    assert content["msgtype"] == "m.file"
    assert content["filename"] == f"Auswertung-Bildungskonferenz-{year}.pdf"
    assert content["body"] == f"Auswertung {year} – Bildungskonferenz (PDF)"
    assert content["info"]["mimetype"] == "application/pdf"
    assert "url" not in content
    info = content["file"]
    stored = await download(anna, info["url"])
    assert not stored.startswith(b"%PDF"), "the homeserver must hold only ciphertext"
    pdf = decrypt_attachment(stored, info["key"]["k"], info["hashes"]["sha256"], info["iv"])
    assert content["info"]["size"] == len(pdf)

    assert len(pages(pdf)) == 1
    text = words(pdf)
    assert f"Auswertung {year}" in text
    assert f"Bildungskonferenz · Auswertung {year}" in text
    assert "3 von 4 Mitgliedern haben teilgenommen (75 %)." in text
    for statement in STATEMENTS:
        assert statement in text
    assert "3,7 3 67 %" in text  # 5, 2, 4: mean, answers, share who agree
    assert "4,0 3 100 %" in text  # 4, 4, 4
    for member in people:
        assert member.user_id not in text
        assert member.user_id.split(":")[0].lstrip("@") not in text.casefold()
