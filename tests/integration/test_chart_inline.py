"""The chair asks for the evaluation in an encrypted room and sees the chart in the
timeline, not as a download: an m.image with its size and an encrypted thumbnail, which a
nio member and Element's own library (matrix-js-sdk) both download, decrypt and read as
pictures of the sizes the event states."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from matplotlib.image import imread
from nio import MatrixRoom, RoomEncryptedImage, RoomMessageImage
from nio.crypto.attachments import decrypt_attachment

from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from storage.db import Database
from storage.types import utcnow
from tests import evaluation_helpers as build
from tests.integration.conftest import (
    PASSWORD,
    BotFactory,
    MemberFactory,
    unique,
    until_bot_can_write_to,
)
from tests.integration.effect_helpers import download
from tests.integration.js_client import ElementClient, node_or_skip

pytestmark = pytest.mark.synapse


@pytest.fixture(scope="session")
def node() -> str:
    return node_or_skip()


def _pulses(db: Database, room: str, at: dt.datetime) -> None:
    """Two pulses of the committee, answered by three each: a trend the chart draws."""
    with db.session() as s:
        build.pulse(s, room, at - dt.timedelta(minutes=2), [4, 5, 3])
        build.pulse(s, room, at - dt.timedelta(minutes=1), [2, 4, 4])


async def _decrypted(member: Member, file: dict[str, Any]) -> tuple[bytes, tuple[int, int]]:
    """An encrypted attachment downloaded, decrypted, and its width and height as decoded."""
    stored = await download(member, file["url"])
    plain = decrypt_attachment(stored, file["key"]["k"], file["hashes"]["sha256"], file["iv"])
    height, width = imread(io.BytesIO(plain), format="png").shape[:2]
    return plain, (width, height)


async def test_the_chart_arrives_as_a_picture_with_an_encrypted_thumbnail_nio_and_element_read(
    make_bot: BotFactory, make_member: MemberFactory, synapse: LocalSynapse, node: str
) -> None:
    buero = await make_member("buero")
    bot = await make_bot(coordination=[buero.user_id])
    elke = synapse.register(unique("elke"), PASSWORD)
    room = await buero.create_room(
        "Steuerungsgruppe Bildung", encrypted=True, invite=(bot.user_id,)
    )
    await buero.wait_for_member(room, bot.user_id, timeout=30)
    await buero.invite(room, elke)
    element = await ElementClient.start(
        node,
        mode="image",
        homeserver=synapse.url,
        user=elke,
        password=PASSWORD,
        botUser=bot.user_id,
        roomId=room,
        timeoutMs=90000,
    )
    try:
        assert (await element.line())["ready"]
        await buero.wait_for_member(room, elke, timeout=30)
        await until_bot_can_write_to(buero, bot.client, room, elke)
        pictures: list[Any] = []

        async def on_picture(_room: MatrixRoom, event: Any) -> None:
            pictures.append(event)

        buero.client.add_event_callback(on_picture, (RoomEncryptedImage, RoomMessageImage))
        now = utcnow()
        await bot.bot.dbt.run_until_answered(_pulses, bot.bot.db, room, now)
        year = now.astimezone(ZoneInfo(bot.config.defaults.timezone)).year

        await buero.send(room, f"!auswertung {year}")
        await buero.wait_until(lambda: bool(pictures), timeout=60)

        event = pictures[0]
        assert event.decrypted, "the event itself travelled encrypted (Megolm)"
        content = event.source["content"]
        assert content["msgtype"] == "m.image"
        assert content["filename"] == f"auswertung-{year}.png"
        assert content["body"].startswith(f"Auswertung {year}")  # the caption
        info = content["info"]
        assert "url" not in content
        assert "thumbnail_url" not in info
        png, size = await _decrypted(buero, content["file"])
        assert size == (info["w"], info["h"])
        assert info["w"] == 1584  # drawn at twice a plain screen's resolution
        assert (info["mimetype"], info["size"]) == ("image/png", len(png))
        thumb, thumb_size = await _decrypted(buero, info["thumbnail_file"])
        about = info["thumbnail_info"]
        assert thumb_size == (about["w"], about["h"])
        assert about["w"] == 800
        assert (about["mimetype"], about["size"]) == ("image/png", len(thumb))
        assert content["file"]["key"]["k"] != info["thumbnail_file"]["key"]["k"]

        seen = await element.result()
    finally:
        element.kill()
    assert seen["eventId"] == event.event_id
    assert seen["encrypted"]
    assert not seen["decryptionFailure"]
    assert (seen["msgtype"], seen["isImage"]) == ("m.image", True)
    assert seen["filename"] == content["filename"]
    assert (seen["info"]["w"], seen["info"]["h"]) == (info["w"], info["h"])
    assert seen["plainUrls"] == []
    for decrypted, stated in ((seen["image"], info), (seen["thumbnail"], about)):
        assert decrypted["hashOk"]
        assert decrypted["png"]
        assert (decrypted["w"], decrypted["h"]) == (stated["w"], stated["h"])
        assert decrypted["size"] == stated["size"]
