"""A scripted committee member (a plain nio client) for the demo and the tests.

It does what a person in Element does: creates a room, invites the bot, writes
commands with pills and m.mentions, reacts, answers polls, accepts the bot's direct-message
rooms, opens the files it sends, and reads the bot's answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    Event,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
)
from nio.crypto.attachments import decrypt_attachment

from bot.runtime.matrix_render import GREETING_MARK


@dataclass
class SeenMessage:
    room_id: str
    event_id: str
    sender: str
    body: str
    html: str | None
    content: dict[str, Any]
    decrypted: bool = True
    type: str = "m.room.message"

    @property
    def in_reply_to(self) -> str | None:
        """The event this one answers (`m.in_reply_to`), if any."""
        relation = self.content.get("m.relates_to")
        inner = relation.get("m.in_reply_to") if isinstance(relation, dict) else None
        target = inner.get("event_id") if isinstance(inner, dict) else None
        return target if isinstance(target, str) else None


class Member:
    def __init__(self, homeserver: str, user_id: str, password: str, store_dir: Path) -> None:
        store_dir.mkdir(parents=True, exist_ok=True)
        self.user_id = user_id
        self.password = password
        self.client = AsyncClient(
            homeserver,
            user_id,
            store_path=str(store_dir),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        self.seen: list[SeenMessage] = []
        # Every timeline event but state: messages of any msgtype (files too), polls,
        # reactions, and what could not be decrypted (decrypted=False).
        self.events: list[SeenMessage] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def login(self) -> None:
        resp = await self.client.login(self.password, device_name="member")
        if not isinstance(resp, LoginResponse):
            raise RuntimeError(f"login of {self.user_id} failed: {resp}")
        self.client.add_event_callback(self._on_message, (RoomMessageText, RoomMessageNotice))
        self.client.add_event_callback(self._on_undecryptable, MegolmEvent)
        self.client.add_event_callback(self._on_event, Event)
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self._task = asyncio.create_task(self._sync_forever())

    async def _sync_forever(self) -> None:
        while True:
            try:
                await self.client.sync_forever(timeout=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(0.5)

    async def _on_message(self, room: MatrixRoom, event: Any) -> None:
        self.seen.append(
            SeenMessage(
                room.room_id,
                event.event_id,
                event.sender,
                event.body,
                getattr(event, "formatted_body", None),
                event.source.get("content", {}),
            )
        )
        self._changed.set()

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        self.seen.append(
            SeenMessage(room.room_id, event.event_id, event.sender, "", None, {}, decrypted=False)
        )
        self._changed.set()

    async def _on_event(self, room: MatrixRoom, event: Event) -> None:
        source = event.source
        if "state_key" in source:
            return
        readable = not isinstance(event, MegolmEvent)
        content = source.get("content") if readable else None
        content = content if isinstance(content, dict) else {}
        body, html = content.get("body"), content.get("formatted_body")
        self.events.append(
            SeenMessage(
                room.room_id,
                event.event_id,
                event.sender,
                body if isinstance(body, str) else "",
                html if isinstance(html, str) else None,
                content,
                decrypted=readable,
                type=str(source.get("type", "")),
            )
        )
        self._changed.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()

    async def create_room(
        self, name: str, *, encrypted: bool = False, invite: tuple[str, ...] = ()
    ) -> str:
        initial_state: list[dict[str, Any]] = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        resp = await self.client.room_create(
            name=name, invite=list(invite), initial_state=initial_state
        )
        if not isinstance(resp, RoomCreateResponse):
            raise RuntimeError(f"room creation failed: {resp}")
        await self.wait_until(lambda: resp.room_id in self.client.rooms, timeout=10)
        return resp.room_id

    async def invite(self, room_id: str, user_id: str) -> None:
        await self.client.room_invite(room_id, user_id)

    async def join(self, room_id: str) -> None:
        await self.client.join(room_id)
        await self.wait_until(lambda: room_id in self.client.rooms, timeout=10)

    async def wait_for_member(self, room_id: str, user_id: str, timeout: float = 20) -> None:
        """Wait until this client knows `user_id` joined, so its room key is shared with them."""

        def joined() -> bool:
            room = self.client.rooms.get(room_id)
            return room is not None and user_id in room.users and user_id not in room.invited_users

        await self.wait_until(joined, timeout=timeout)

    async def send(
        self,
        room_id: str,
        body: str,
        *,
        html_body: str | None = None,
        mentions: list[str] | None = None,
        reply_to: str | None = None,
    ) -> str:
        content = text_content(body, html_body=html_body, mentions=mentions, reply_to=reply_to)
        return await self.send_event(room_id, "m.room.message", content)

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        resp = await self.client.room_send(
            room_id, event_type, content, ignore_unverified_devices=True
        )
        if not isinstance(resp, RoomSendResponse):
            raise RuntimeError(f"send failed: {resp}")
        return resp.event_id

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        return await self.send_event(
            room_id,
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}},
        )

    async def vote(
        self, room_id: str, start_event_id: str, answer_ids: list[str], *, stable: bool = False
    ) -> str:
        """Answer a native poll (MSC3381) as Element does: the unstable event type Element
        sends today, or the stable `m.poll.response` (for a poll started in that form)."""
        relation = {"rel_type": "m.reference", "event_id": start_event_id}
        if stable:
            content = {"m.relates_to": relation, "m.selections": list(answer_ids)}
            return await self.send_event(room_id, "m.poll.response", content)
        return await self.send_event(
            room_id,
            "org.matrix.msc3381.poll.response",
            {
                "m.relates_to": relation,
                "org.matrix.msc3381.poll.response": {"answers": list(answer_ids)},
            },
        )

    async def set_display_name(self, name: str) -> None:
        await self.client.set_displayname(name)

    def accept_invites_from(self, inviter: str) -> list[str]:
        """From now on join every room `inviter` invites this member to (as a person
        accepts the bot's direct-message room); returns the list the joined rooms go to."""
        joined: list[str] = []

        async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
            if event.state_key != self.user_id or event.membership != "invite":
                return
            if event.sender != inviter or room.room_id in joined:
                return
            joined.append(room.room_id)
            await self.client.join(room.room_id)
            self._changed.set()

        self.client.add_event_callback(on_invite, InviteMemberEvent)
        return joined

    async def download(self, content: dict[str, Any]) -> bytes:
        """The file an m.file (or image) message points to, decrypted if it is an
        encrypted attachment (`file`), as the client shows it."""
        encrypted = content.get("file")
        mxc = encrypted["url"] if isinstance(encrypted, dict) else content.get("url")
        if not isinstance(mxc, str) or not mxc.startswith("mxc://"):
            raise RuntimeError(f"no file in {content}")
        server, media_id = mxc.removeprefix("mxc://").split("/", 1)
        resp = await self.client.send(
            "GET",
            f"/_matrix/client/v1/media/download/{server}/{media_id}",
            headers={"Authorization": f"Bearer {self.client.access_token}"},
        )
        if resp.status != 200:
            raise RuntimeError(f"download of {mxc} failed ({resp.status}): {await resp.text()}")
        data = bytes(await resp.read())
        if not isinstance(encrypted, dict):
            return data
        return bytes(
            decrypt_attachment(
                data, encrypted["key"]["k"], encrypted["hashes"]["sha256"], encrypted["iv"]
            )
        )

    async def export_room_keys(self, path: Path, passphrase: str) -> None:
        """Write this device's room keys in the format Element imports (Settings ›
        Security › Import E2E room keys), so another device can read the history."""
        await self.client.export_keys(str(path), passphrase)

    def event(self, event_id: str) -> SeenMessage | None:
        return next((e for e in self.events if e.event_id == event_id), None)

    async def wait_for_event(self, event_id: str, *, timeout: float = 20) -> SeenMessage:
        """The timeline event `event_id`, once this member's sync has brought it."""
        await self.wait_until(lambda: self.event(event_id) is not None, timeout=timeout)
        found = self.event(event_id)
        assert found is not None
        return found

    def messages_from(self, sender: str, room_id: str | None = None) -> list[SeenMessage]:
        """`sender`'s messages (in `room_id`), without the bot's greeting on joining a
        room: tests count answers and reminders; `greetings` has the greeting."""
        return [
            m
            for m in self.seen
            if m.sender == sender
            and (room_id in (None, m.room_id))
            and not m.content.get(GREETING_MARK)
        ]

    def greetings(self, sender: str, room_id: str) -> list[SeenMessage]:
        """The greeting(s) `sender` (the bot) posted in `room_id` on joining it."""
        return [
            m
            for m in self.seen
            if m.sender == sender and m.room_id == room_id and m.content.get(GREETING_MARK)
        ]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 20) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("condition not reached in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.2))

    async def wait_for_reply(
        self, room_id: str, sender: str, after: int, *, timeout: float = 20
    ) -> SeenMessage:
        """The first message from `sender` in `room_id` beyond the first `after` ones seen."""

        def arrived() -> bool:
            return len(self.messages_from(sender, room_id)) > after

        await self.wait_until(arrived, timeout=timeout)
        return self.messages_from(sender, room_id)[after]


def text_content(
    body: str,
    *,
    html_body: str | None = None,
    mentions: list[str] | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    """A text message's content as Element sends it: pills in HTML, m.mentions, a reply."""
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if html_body is not None:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = html_body
    if mentions is not None:
        content["m.mentions"] = {"user_ids": mentions}
    if reply_to is not None:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content


def pill(user_id: str, name: str) -> str:
    """An Element mention pill."""
    return f'<a href="https://matrix.to/#/{html.escape(user_id)}">{html.escape(name)}</a>'
