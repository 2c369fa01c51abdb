"""Files the bot sends (exports, charts): encrypted attachments in encrypted rooms.

In an encrypted room the file is encrypted on the bot's side before it is uploaded
(AES-256-CTR with a fresh key, nio's ``upload(encrypt=True)``); the homeserver stores only
ciphertext, and the key, IV and SHA-256 travel inside the (Megolm-encrypted) event as its
``file`` object, as the specification's EncryptedFile describes. In an unencrypted room the
file is uploaded as it is and referred to by ``url``.

`upload` gives what an m.file content needs to point at the file (the outbox sender adds it
to a file message queued earlier); `file_content` gives a whole content; `send_file`
uploads and sends in one go.
"""

from __future__ import annotations

import io
from typing import Any

from nio import AsyncClient, RoomSendResponse, UploadResponse


class AttachmentError(Exception):
    """The file could not be uploaded or sent."""


def room_is_encrypted(client: AsyncClient, room_id: str) -> bool:
    room = client.rooms.get(room_id)
    if room is None:
        raise AttachmentError(f"the bot does not know room {room_id}")
    return bool(room.encrypted)


async def upload(
    client: AsyncClient,
    room_id: str,
    data: bytes,
    filename: str,
    mimetype: str = "application/octet-stream",
) -> dict[str, Any]:
    """Upload `data` for `room_id` (encrypted if the room is); returns what the event
    content needs to point at it: ``{"url": …}`` or the encrypted ``{"file": …}``."""
    encrypt = room_is_encrypted(client, room_id)
    resp, keys = await client.upload(
        io.BytesIO(data),
        content_type=mimetype,
        filename=filename,
        encrypt=encrypt,
        filesize=len(data),
    )
    if not isinstance(resp, UploadResponse):
        raise AttachmentError(f"upload of {filename} failed: {resp}")
    if not encrypt:
        return {"url": resp.content_uri}
    if keys is None:
        raise AttachmentError(f"no encryption keys for {filename}")
    return {"file": {"url": resp.content_uri, **keys}}


async def file_content(
    client: AsyncClient,
    room_id: str,
    data: bytes,
    filename: str,
    mimetype: str = "application/octet-stream",
    *,
    body: str | None = None,
) -> dict[str, Any]:
    """Upload `data` (encrypted if the room is) and return the m.file event content."""
    return {
        "msgtype": "m.file",
        "body": body or filename,
        "filename": filename,
        "info": {"mimetype": mimetype, "size": len(data)},
        **await upload(client, room_id, data, filename, mimetype),
    }


async def send_file(
    client: AsyncClient,
    room_id: str,
    data: bytes,
    filename: str,
    mimetype: str = "application/octet-stream",
    *,
    body: str | None = None,
    txn_id: str | None = None,
) -> str:
    """Upload and send a file to `room_id`; returns the event ID."""
    content = await file_content(client, room_id, data, filename, mimetype, body=body)
    resp = await client.room_send(
        room_id, "m.room.message", content, tx_id=txn_id, ignore_unverified_devices=True
    )
    if not isinstance(resp, RoomSendResponse):
        raise AttachmentError(f"sending {filename} to {room_id} failed: {resp}")
    return str(resp.event_id)
