"""Files the bot sends (exports, charts): encrypted attachments in encrypted rooms.

In an encrypted room the file is encrypted on the bot's side before it is uploaded
(AES-256-CTR with a fresh key, nio's ``upload(encrypt=True)``); the homeserver stores only
ciphertext, and the key, IV and SHA-256 travel inside the (Megolm-encrypted) event as its
``file`` object, as the specification's EncryptedFile describes. In an unencrypted room the
file is uploaded as it is and referred to by ``url``.

`upload` gives what an m.file content needs to point at the file; the outbox sender adds it
to the file message queued earlier (bot.runtime.delivery), so a file, like every message,
is sent exactly once. A picture's thumbnail is uploaded the same way, on its own: in an
encrypted room with a key of its own, as the m.image's ``info.thumbnail_file``.
"""

from __future__ import annotations

import io
from typing import Any

from nio import AsyncClient, UploadResponse


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
