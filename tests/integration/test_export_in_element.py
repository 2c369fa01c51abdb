"""The coordinator exports a committee's agreements from an encrypted room and opens the
spreadsheet the bot sent to their direct messages."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from nio import MatrixRoom, RoomEncryptedFile, RoomMessageFile
from nio.crypto.attachments import decrypt_attachment

from tests.integration.conftest import BotFactory, MemberFactory
from tests.integration.effect_helpers import accept_invites, download
from tests.integration.reminder_helpers import wait_for_bot_message

pytestmark = pytest.mark.synapse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_coordinator_exports_from_an_encrypted_room_and_opens_the_xlsx_from_the_dm(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    buero = await make_member("buero")
    bot = await make_bot(coordination=[buero.user_id])
    anna = await make_member("anna")
    room = await buero.create_room(
        "Steuerungsgruppe Bildung", encrypted=True, invite=(bot.user_id, anna.user_id)
    )
    await anna.join(room)
    await buero.wait_for_member(room, bot.user_id)
    await buero.wait_for_member(room, anna.user_id)
    bot_client = bot.client
    await anna.wait_until(lambda: anna.user_id in bot_client.rooms[room].users, timeout=20)
    invites = accept_invites(buero, bot.user_id)
    files: list[tuple[str, Any]] = []

    async def on_file(room: MatrixRoom, event: Any) -> None:
        files.append((room.room_id, event))

    buero.client.add_event_callback(on_file, (RoomEncryptedFile, RoomMessageFile))

    # Anna records an agreement; a member may not export it.
    await anna.send(room, "!verabredung Schulentwicklungsplan mit Jugendämtern abstimmen")
    recorded = await anna.wait_for_reply(room, bot.user_id, 0, timeout=30)
    assert "#1" in recorded.body
    await anna.send(room, "!export")
    refused = await anna.wait_for_reply(room, bot.user_id, 1, timeout=30)
    assert refused.body.startswith("`!export` ist der Koordination (Bildungsbüro) vorbehalten.")

    # The coordinator asks in the room; the room is told, the file goes to the DM.
    # (Waited for by its text: Anna's refusal may still be on its way to the coordinator.)
    await buero.send(room, "!export")
    told = await wait_for_bot_message(buero, bot.user_id, room, "in Ihrer Direktnachricht")
    assert told.decrypted
    assert "Sie finden ihn in Ihrer Direktnachricht mit mir." in told.body
    assert "gremienbot-steuerungsgruppe-bildung.xlsx" in told.body
    await buero.wait_until(lambda: bool(files), timeout=30)

    [invite] = invites
    dm_room, event = files[0]
    assert dm_room == invite.room_id != room
    assert buero.client.rooms[dm_room].encrypted
    assert event.decrypted
    content = event.source["content"]
    assert content["filename"] == "gremienbot-steuerungsgruppe-bildung.xlsx"
    assert content["info"]["mimetype"] == XLSX
    info = content["file"]
    stored = await download(buero, info["url"])
    plain = decrypt_attachment(stored, info["key"]["k"], info["hashes"]["sha256"], info["iv"])
    sheet = openpyxl.load_workbook(io.BytesIO(plain))["Verabredungen"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (
            "Steuerungsgruppe Bildung",
            1,
            "Schulentwicklungsplan mit Jugendämtern abstimmen",
            "offen",
            anna.user_id,
        )
    ]
