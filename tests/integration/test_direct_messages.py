"""Effects for one member go to their direct-message room with the bot: made on first use
(encrypted from the start, marked as a DM for Element), then reused; a file sent there is
an encrypted attachment the member decrypts to the same bytes."""

from __future__ import annotations

from typing import Any

import pytest
from nio import MatrixRoom, RoomEncryptedFile, RoomMessageFile
from nio.crypto.attachments import decrypt_attachment
from sqlmodel import select

from bot.crypto.crosssigning import MatrixApi
from commands.core.effects import File, Reply
from commands.core.rich import text
from storage.models import DirectRoom
from tests.integration.conftest import BotFactory, MemberFactory
from tests.integration.effect_helpers import accept_invites, download, queue_in, timeline, wait_sent
from tests.integration.poll_helpers import until

pytestmark = pytest.mark.synapse

CSV = "Nr;Verabredung;Verantwortlich\n1;Schulentwicklungsplan;Jugendämter\n".encode()
ANYWHERE = "!the-cause-of-it:localhost"  # the room of the cause; unused for direct messages


async def test_a_file_for_a_member_arrives_encrypted_in_their_direct_room_which_is_reused(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    invites = accept_invites(anna, bot.user_id)
    files: list[Any] = []

    async def on_file(room: MatrixRoom, event: Any) -> None:
        files.append((room.room_id, event))

    anna.client.add_event_callback(on_file, (RoomEncryptedFile, RoomMessageFile))
    db = bot.bot.db

    await queue_in(
        bot.bot,
        "$export",
        ANYWHERE,
        [
            File(
                filename="verabredungen.csv",
                data=CSV,
                mimetype="text/csv",
                to_user=anna.user_id,
                caption=text("Ihr Export"),
            )
        ],
    )
    bot.bot.sender.wake()
    await until(lambda: bool(files))

    [invite] = invites
    assert invite.is_direct, "Element shows it as a direct message"
    room_id, event = files[0]
    assert room_id == invite.room_id
    assert anna.client.rooms[room_id].encrypted
    assert event.decrypted, "the event itself travelled encrypted (Megolm)"
    content = event.source["content"]
    assert content["filename"] == "verabredungen.csv"
    assert content["body"] == "Ihr Export"
    assert content["info"] == {"mimetype": "text/csv", "size": len(CSV)}
    info = content["file"]
    stored = await download(anna, info["url"])
    assert CSV not in stored, "the homeserver holds only ciphertext"
    assert decrypt_attachment(stored, info["key"]["k"], info["hashes"]["sha256"], info["iv"]) == CSV

    # The bot lists the room as its DM with Anna, so Element shows it under "People".
    direct = await MatrixApi(bot.client).get_account_data(bot.user_id, "m.direct")
    assert direct == {anna.user_id: [room_id]}

    # A second message for Anna goes to the same room.
    await queue_in(
        bot.bot, "$later", ANYWHERE, [Reply(text("Ihre Erinnerung"), to_user=anna.user_id)]
    )
    bot.bot.sender.wake()
    [sent] = (await wait_sent(db, ["reply:$later:0"])).values()
    await until(lambda: any(m.event_id == sent for m in anna.seen))
    [second] = [m for m in anna.seen if m.event_id == sent]
    assert second.room_id == room_id
    assert second.body == "Ihre Erinnerung"
    assert second.decrypted
    assert len(invites) == 1
    with db.session() as s:
        assert [(r.user_id, r.room_id) for r in s.exec(select(DirectRoom))] == [
            (anna.user_id, room_id)
        ]
    assert [e.type for e in await timeline(anna, room_id, bot.user_id)] == [
        "m.room.message",
        "m.room.message",
    ]


async def test_after_the_member_left_their_direct_room_a_new_one_is_made(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    invites = accept_invites(anna, bot.user_id)
    db = bot.bot.db

    await queue_in(
        bot.bot, "$one", ANYWHERE, [Reply(text("Erste Nachricht"), to_user=anna.user_id)]
    )
    bot.bot.sender.wake()
    [first] = (await wait_sent(db, ["reply:$one:0"])).values()
    await until(lambda: any(m.event_id == first for m in anna.seen))
    old_room = invites[0].room_id
    await anna.client.room_leave(old_room)
    client = bot.client
    await until(lambda: anna.user_id not in client.rooms[old_room].users)

    await queue_in(
        bot.bot, "$two", ANYWHERE, [Reply(text("Zweite Nachricht"), to_user=anna.user_id)]
    )
    bot.bot.sender.wake()
    [second] = (await wait_sent(db, ["reply:$two:0"])).values()
    await until(lambda: any(m.event_id == second for m in anna.seen))

    assert len(invites) == 2
    assert invites[1].room_id != old_room
    assert invites[1].is_direct
    [seen] = [m for m in anna.seen if m.event_id == second]
    assert seen.room_id == invites[1].room_id
    assert seen.decrypted
    with db.session() as s:
        row = s.get(DirectRoom, anna.user_id)
        assert row is not None
        assert row.room_id == invites[1].room_id
    direct = await MatrixApi(client).get_account_data(bot.user_id, "m.direct")
    assert direct is not None
    assert invites[1].room_id in direct[anna.user_id]
