"""What the sender finishes at send time, before an outbox row becomes an event.

- A row for a member (`to_user`) learns its room: the member's direct-message room.
- A row relating to an earlier row (an edit, a poll's end) learns the event ID that row
  became, and goes to the room it went to. While that row is not sent, this one waits;
  once that row failed for good, this one fails too.
- A file row uploads its file (encrypted where the room is). While its file is still to
  be made (bot.runtime.renderer), it waits, and the renderer is asked for it. A picture
  (m.image) also gets a thumbnail, made from the stored picture and uploaded beside it,
  encrypted with a key of its own where the room is encrypted.
- A state event that is merged into the room's current one (a widget layout) reads that
  one first.

The room a row goes to is fixed in the database before it is sent, so a resend after a
crash goes to the same room with the same transaction ID, which the homeserver recognises.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nio import AsyncClient, RoomGetStateEventResponse

from bot.crypto import attachments
from bot.runtime import thumbnails
from bot.runtime.dbthread import DbThread
from bot.runtime.direct_rooms import DirectRooms
from bot.runtime.matrix_render import (
    GREETING_MARK,
    merged_state,
    state_parts,
    with_media,
    with_target,
)
from storage import outbox
from storage.db import Database
from storage.models import OutboxFile, OutboxKind, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ready:
    room_id: str
    event_type: str
    content: dict[str, Any]
    # A state event's key: put as room state (not sent as a message) under it.
    state_key: str | None = None


@dataclass(frozen=True)
class Waiting:
    """Not yet: the rest of the row's queue waits behind it, in order."""

    reason: str


@dataclass(frozen=True)
class Undeliverable:
    """Never: the row fails for good, the queue goes on."""

    reason: str


Prepared = Ready | Waiting | Undeliverable


class StateUnreadable(RuntimeError):
    """The room's current state, which a state event is merged into, could not be read:
    tried again like a refused send."""


@dataclass
class _Uploaded:
    """What of a row's media is on the homeserver: a retry uploads only what is missing."""

    file: dict[str, Any] | None = None
    # (its upload, its thumbnail_info); None when the picture needs none or has none.
    thumbnail: tuple[dict[str, Any], dict[str, Any]] | None = None
    thumbnail_done: bool = False


class Delivery:
    def __init__(
        self,
        db: Database,
        dbt: DbThread,
        direct: DirectRooms,
        *,
        file_wanted: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.dbt = dbt
        self.direct = direct
        # Told when a row waits for its file to be made (wakes the renderer).
        self.file_wanted = file_wanted
        # Uploads of rows not sent yet: a retry in this process need not upload again.
        self._uploads: dict[int, _Uploaded] = {}

    async def prepare(self, client: AsyncClient, row: OutboxMessage) -> Prepared:
        msg_id = row.id
        assert msg_id is not None
        if row.file_job is not None:
            # Asked before the room is looked for: a long export is waited for without a
            # look at the member's room (and their devices) every time.
            fresh = await self.dbt.run_until_answered(self._row, msg_id)
            if fresh is None:
                return Undeliverable("it is no longer stored")
            if fresh.file_job is not None:
                self.file_wanted()
                return Waiting("its file is still being made")
            row = fresh  # made since it was read (or failed: the failure's text now)
        content: dict[str, Any] = json.loads(row.content)
        room_id = row.room_id
        if row.target_id is not None:
            target = await self.dbt.run_until_answered(self._row, row.target_id)
            if target is None or target.status == OutboxStatus.FAILED:
                return Undeliverable(f"the message it refers to (#{row.target_id}) failed")
            if (
                target.status != OutboxStatus.SENT
                or target.event_id is None
                or target.room_id is None
            ):
                return Waiting(f"the message it refers to (#{row.target_id}) is not sent yet")
            content = with_target(content, target.event_id)
            room_id = target.room_id
        elif room_id is None:
            assert row.to_user is not None
            room_id = await self.direct.room_for(client, row.to_user)
            if room_id is None:
                return Waiting(f"the direct-message room of {row.to_user} is not ready yet")
        if content.get(GREETING_MARK) and room_id not in client.rooms:
            # Queued on joining, before the sync that brings the room (and whether it is
            # encrypted): sending now would fail and make the room's answers back off.
            return Waiting(f"the room {room_id} it greets is not synced yet")
        if room_id != row.room_id:
            await self.dbt.run_until_answered(self._fix_room, msg_id, room_id)
        if row.kind == OutboxKind.FILE:
            with_upload = await self._upload(client, msg_id, room_id, content)
            if with_upload is None:
                return Undeliverable("its file is no longer stored")
            content = with_upload
        if row.kind == OutboxKind.STATE:
            state_key, content, merge = state_parts(content)
            if merge is not None:
                current = await self._current_state(client, room_id, row.event_type, state_key)
                content = merged_state(current, content, merge)
            return Ready(room_id, row.event_type, content, state_key=state_key)
        return Ready(room_id, row.event_type, content)

    @staticmethod
    async def _current_state(
        client: AsyncClient, room_id: str, event_type: str, state_key: str
    ) -> dict[str, Any]:
        """The content of the room's state event now ({} where it has none). Read anew at
        every try: a resend after a crash merges into what is there then."""
        resp = await client.room_get_state_event(room_id, event_type, state_key)
        if isinstance(resp, RoomGetStateEventResponse):
            return dict(resp.content) if isinstance(resp.content, dict) else {}
        if resp.status_code == "M_NOT_FOUND":
            return {}
        raise StateUnreadable(f"could not read {event_type} of {room_id}: {resp.message}")

    def sent(self, msg_id: int) -> None:
        self._uploads.pop(msg_id, None)

    async def _upload(
        self, client: AsyncClient, msg_id: int, room_id: str, content: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The content with its file uploaded (and a picture's thumbnail), each uploaded
        once for the row in this process, however often sending it is tried."""
        # Uploading again after a crash is harmless: only the event is sent exactly once.
        done = self._uploads.setdefault(msg_id, _Uploaded())
        picture = content.get("msgtype") == "m.image"
        if done.file is None or (picture and not done.thumbnail_done):
            file = await self.dbt.run_until_answered(self._file, msg_id)
            if file is None:
                self._uploads.pop(msg_id, None)
                return None
            if done.file is None:
                done.file = await attachments.upload(
                    client, room_id, file.data, file.filename, file.mimetype
                )
            if picture and not done.thumbnail_done:
                done.thumbnail = await self._thumbnail(client, room_id, file)
                done.thumbnail_done = True
        return with_media(content, done.file, done.thumbnail)

    async def _thumbnail(
        self, client: AsyncClient, room_id: str, file: OutboxFile
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            # Off the event loop: scaling a chart takes tens of milliseconds.
            small = await asyncio.to_thread(thumbnails.thumbnail, file.data)
        except thumbnails.ThumbnailError as exc:
            log.warning("picture %s goes without a thumbnail: %s", file.filename, exc)
            return None
        if small is None:
            return None  # small enough to be its own thumbnail
        uploaded = await attachments.upload(
            client, room_id, small.data, f"thumbnail-{file.filename}", small.mimetype
        )
        return uploaded, small.info

    def _row(self, msg_id: int) -> OutboxMessage | None:
        with self.db.session() as s:
            return outbox.get(s, msg_id)

    def _file(self, msg_id: int) -> OutboxFile | None:
        with self.db.session() as s:
            return outbox.file_of(s, msg_id)

    def _fix_room(self, msg_id: int, room_id: str) -> None:
        with self.db.session() as s:
            outbox.set_room(s, msg_id, room_id)
