"""Files the bot sends (a `File` effect, through the outbox) are encrypted attachments in
encrypted rooms, plain files elsewhere."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nio import MatrixRoom, RoomEncryptedFile, RoomMessageFile
from nio.crypto.attachments import decrypt_attachment

from bot.devtools.member import Member
from commands.core.effects import File
from tests.integration.conftest import BotFactory, MemberFactory, RunningBot
from tests.integration.effect_helpers import download, queue_in, wait_sent

pytestmark = pytest.mark.synapse

CSV = b"Nr;Verabredung;Verantwortlich\n1;Schulentwicklungsplan;Jugendamt\n"


async def _room_and_files(
    member: Member, bot: RunningBot, *, encrypted: bool
) -> tuple[str, list[Any]]:
    files: list[Any] = []

    async def on_file(room: MatrixRoom, event: Any) -> None:
        files.append(event)

    member.client.add_event_callback(on_file, (RoomEncryptedFile, RoomMessageFile))
    room = await member.create_room("Export", encrypted=encrypted, invite=(bot.user_id,))
    await member.wait_for_member(room, bot.user_id)
    for _ in range(100):  # the bot knows the room (and its encryption) once it synced the join
        if room in bot.client.rooms and bot.user_id in bot.client.rooms[room].users:
            break
        await asyncio.sleep(0.1)
    return room, files


async def _send_file(bot: RunningBot, room: str, key: str) -> str:
    """The bot owes a file in `room` (as a command's handling queues it) and sends it."""
    effect = File(filename="verabredungen.csv", data=CSV, mimetype="text/csv", key=key)
    await queue_in(bot.bot, f"$export-{key}", room, [effect])
    bot.bot.sender.wake()
    return (await wait_sent(bot.bot.db, [key]))[key]


async def _wait(files: list[Any]) -> Any:
    for _ in range(200):
        if files:
            return files[0]
        await asyncio.sleep(0.1)
    raise AssertionError("the file event did not arrive")


async def test_file_in_an_encrypted_room_is_an_encrypted_attachment(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room, files = await _room_and_files(anna, bot, encrypted=True)

    event_id = await _send_file(bot, room, "export:encrypted")

    event = await _wait(files)
    assert event.event_id == event_id
    assert event.decrypted, "the event itself travelled encrypted (Megolm)"
    content = event.source["content"]
    assert content["msgtype"] == "m.file"
    assert "url" not in content
    info = content["file"]
    assert info["v"] == "v2"
    assert info["key"]["alg"] == "A256CTR"
    stored = await download(anna, info["url"])
    assert CSV not in stored, "the homeserver must hold only ciphertext"
    plain = decrypt_attachment(stored, info["key"]["k"], info["hashes"]["sha256"], info["iv"])
    assert plain == CSV
    assert content["info"] == {"mimetype": "text/csv", "size": len(CSV)}


async def test_file_in_an_unencrypted_room_is_a_plain_upload(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room, files = await _room_and_files(anna, bot, encrypted=False)

    await _send_file(bot, room, "export:plain")

    event = await _wait(files)
    content = event.source["content"]
    assert "file" not in content
    assert content["url"].startswith("mxc://")
    assert await download(anna, content["url"]) == CSV
