"""A chart goes out as a picture (m.image) that clients show in the timeline: its size in
pixels, a thumbnail that fits 800×600, in encrypted rooms both encrypted with keys of their
own; each uploaded once however often sending is tried."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import pytest
from matplotlib.image import imread
from nio import RoomSendError, RoomSendResponse, UploadError, UploadResponse
from nio.crypto.attachments import decrypt_attachment, encrypt_attachment

from bot.runtime.dbthread import DbThread
from bot.runtime.incoming import queue_effects
from bot.runtime.sender import OutboxSender
from bot.runtime.thumbnails import ThumbnailError, thumbnail
from commands.core.effects import Image, png_size
from commands.core.rich import text
from commands.evaluation import chart
from commands.evaluation.figures import Month
from storage.db import Database
from storage.figures.votes import Distribution
from tests.unit.test_outbox_sender import NOW, ROOM, FakeHomeserver, FakeRoom

STATEMENT = "Die Sitzungen sind gut vorbereitet und die Unterlagen kommen rechtzeitig."


def _chart(statements: int) -> bytes:
    """The evaluation chart of a year with `statements` statements and monthly pulses."""
    return chart.png(
        chart.ChartData(
            statements=[(f"{n}. {STATEMENT}", 1 + n % 5 * 0.9) for n in range(statements)],
            left_out=1,
            months=[Month(2026, m, Distribution(counts=(0, 1, 1, 2, m % 3)), 2) for m in (3, 6)],
            axis=[(2026, m) for m in range(1, 13)],
        ),
        "de",
    )


def _pixels(png: bytes) -> tuple[int, int]:
    """Width and height as an image decoder reads them (not from the header alone)."""
    height, width = imread(io.BytesIO(png), format="png").shape[:2]
    return width, height


@pytest.fixture(scope="module")
def wide_chart() -> bytes:
    return _chart(4)


# ------------------------------------------------------------------------- the thumbnail


def test_the_chart_is_drawn_at_twice_a_plain_screens_resolution(wide_chart: bytes) -> None:
    assert png_size(wide_chart) == _pixels(wide_chart)
    width, _height = png_size(wide_chart)
    assert width == 11 * 144


def test_a_wide_charts_thumbnail_is_800_wide_in_its_proportions_and_says_its_size(
    wide_chart: bytes,
) -> None:
    small = thumbnail(wide_chart)
    assert small is not None
    assert _pixels(small.data) == (small.width, small.height) == (800, small.height)
    width, height = png_size(wide_chart)
    assert small.height == round(800 * height / width)
    assert small.info == {
        "w": 800,
        "h": small.height,
        "mimetype": "image/png",
        "size": len(small.data),
    }
    assert len(small.data) < len(wide_chart) / 2  # lighter for the timeline


def test_a_tall_charts_thumbnail_is_600_high() -> None:
    tall = _chart(20)
    width, height = png_size(tall)
    assert height > width
    small = thumbnail(tall)
    assert small is not None
    assert _pixels(small.data) == (small.width, 600)
    assert small.width == round(600 * width / height)


def test_a_picture_that_fits_is_its_own_thumbnail_and_garbage_has_none(
    wide_chart: bytes,
) -> None:
    small = thumbnail(wide_chart)
    assert small is not None
    assert thumbnail(small.data) is None
    with pytest.raises(ThumbnailError):
        thumbnail(b"\x89PNG\r\n\x1a\n and then nothing that decodes")
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a")


# --------------------------------------------------------------------------- sending it


class MediaHomeserver(FakeHomeserver):
    """Keeps what is uploaded as the homeserver would: in encrypted rooms only ciphertext,
    encrypted as nio's upload(encrypt=True) does. Refuses the uploads numbered in
    `refuse_uploads` (counting tries from 1) and the first `refuse_sends` events."""

    def __init__(self) -> None:
        super().__init__()
        self.rooms[ROOM] = FakeRoom(encrypted=True)
        self.media: dict[str, bytes] = {}
        self.refuse_uploads: set[int] = set()
        self.refuse_sends = 0
        self.tries = 0

    async def room_send(
        self,
        room_id: str,
        message_type: str,
        content: dict[str, Any],
        tx_id: str | None = None,
        ignore_unverified_devices: bool = False,
    ) -> RoomSendResponse | RoomSendError:
        if self.refuse_sends:
            self.refuse_sends -= 1
            return RoomSendError("busy", "M_UNKNOWN", room_id=room_id)
        return await super().room_send(room_id, message_type, content, tx_id)

    async def upload(self, data: Any, **kwargs: Any) -> tuple[Any, Any]:
        self.tries += 1
        if self.tries in self.refuse_uploads:
            return UploadError("M_LIMIT_EXCEEDED", "M_LIMIT_EXCEEDED"), None
        plain = data.read()
        self.uploads.append(plain)
        url = f"mxc://example.org/{len(self.uploads)}"
        if not kwargs["encrypt"]:
            self.media[url] = plain
            return UploadResponse(url), None
        cipher, keys = encrypt_attachment(plain)
        self.media[url] = cipher
        return UploadResponse(url), keys

    def decrypted(self, file: dict[str, Any]) -> bytes:
        stored = self.media[file["url"]]
        return decrypt_attachment(stored, file["key"]["k"], file["hashes"]["sha256"], file["iv"])


@pytest.fixture
def dbt() -> Iterator[DbThread]:
    thread = DbThread()
    yield thread
    thread.close()


@pytest.fixture
def homeserver() -> MediaHomeserver:
    return MediaHomeserver()


@pytest.fixture
def sender(sqlite_db: Database, dbt: DbThread, homeserver: MediaHomeserver) -> OutboxSender:
    s = OutboxSender(
        sqlite_db, dbt, client=lambda: homeserver, clock=lambda: NOW, max_retry_wait=0.1
    )
    s.enabled = True
    return s


def _queue_chart(db: Database, png: bytes) -> None:
    width, height = png_size(png)
    picture = Image(
        filename="auswertung-2026.png",
        data=png,
        mimetype="image/png",
        width=width,
        height=height,
        caption=text("Auswertung 2026 – Steuerungsgruppe"),
    )
    with db.session() as s:
        queue_effects(s, "$auswertung", ROOM, [picture])


async def _flush_until_sent(sender: OutboxSender) -> None:
    for _ in range(5):
        if await sender.flush():
            return
        await asyncio.sleep(0.11)  # the queue's backoff (at most max_retry_wait) runs out
    raise AssertionError("the picture was not sent")


async def test_in_an_encrypted_room_chart_and_thumbnail_are_encrypted_each_with_its_own_key(
    sqlite_db: Database, sender: OutboxSender, homeserver: MediaHomeserver, wide_chart: bytes
) -> None:
    _queue_chart(sqlite_db, wide_chart)
    await _flush_until_sent(sender)

    [(room, event_type, content, _)] = homeserver.events
    assert (room, event_type, content["msgtype"]) == (ROOM, "m.room.message", "m.image")
    assert content["body"] == "Auswertung 2026 – Steuerungsgruppe"
    assert content["filename"] == "auswertung-2026.png"
    info = content["info"]
    assert "url" not in content
    assert "thumbnail_url" not in info
    picture, small = content["file"], info["thumbnail_file"]
    assert picture["key"]["k"] != small["key"]["k"]
    assert wide_chart not in homeserver.media.values()  # only ciphertext is stored
    assert homeserver.decrypted(picture) == wide_chart
    assert _pixels(wide_chart) == (info["w"], info["h"])
    thumb = homeserver.decrypted(small)
    thumb_info = info["thumbnail_info"]
    assert _pixels(thumb) == (thumb_info["w"], thumb_info["h"]) == (800, thumb_info["h"])
    assert (thumb_info["mimetype"], thumb_info["size"]) == ("image/png", len(thumb))
    assert info["size"] == len(wide_chart)


async def test_a_refused_upload_or_send_uploads_nothing_twice(
    sqlite_db: Database, sender: OutboxSender, homeserver: MediaHomeserver, wide_chart: bytes
) -> None:
    homeserver.refuse_uploads = {2}  # the first try at the thumbnail
    homeserver.refuse_sends = 1  # and, once both are up, the first try at the event
    _queue_chart(sqlite_db, wide_chart)
    await _flush_until_sent(sender)

    assert homeserver.tries == 3
    assert len(homeserver.uploads) == 2  # the chart once, its thumbnail once
    assert homeserver.uploads[0] == wide_chart
    [(_room, _type, content, _)] = homeserver.events
    assert homeserver.decrypted(content["file"]) == wide_chart
    assert homeserver.decrypted(content["info"]["thumbnail_file"]) == homeserver.uploads[1]


async def test_in_an_unencrypted_room_chart_and_thumbnail_are_plain_urls(
    sqlite_db: Database, sender: OutboxSender, homeserver: MediaHomeserver, wide_chart: bytes
) -> None:
    homeserver.rooms[ROOM] = FakeRoom(encrypted=False)
    _queue_chart(sqlite_db, wide_chart)
    await _flush_until_sent(sender)

    [(_room, _type, content, _)] = homeserver.events
    info = content["info"]
    assert homeserver.media[content["url"]] == wide_chart
    thumb = homeserver.media[info["thumbnail_url"]]
    assert _pixels(thumb) == (info["thumbnail_info"]["w"], info["thumbnail_info"]["h"])
    assert "file" not in content
    assert "thumbnail_file" not in info


async def test_a_picture_that_cannot_be_read_goes_out_without_a_thumbnail(
    sqlite_db: Database, sender: OutboxSender, homeserver: MediaHomeserver
) -> None:
    broken = Image(
        filename="bild.png",
        data=b"\x89PNG\r\n\x1a\n broken",
        mimetype="image/png",
        width=10,
        height=10,
    )
    with sqlite_db.session() as s:
        queue_effects(s, "$bild", ROOM, [broken])
    await _flush_until_sent(sender)

    [(_room, _type, content, _)] = homeserver.events
    assert content["msgtype"] == "m.image"
    assert not any(key.startswith("thumbnail") for key in content["info"])
    assert homeserver.uploads == [broken.data]
