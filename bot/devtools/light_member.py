"""A light simulated member for load tests: plain client-server API calls, no encryption.

Two hundred nio clients with end-to-end encryption are too heavy for one machine; this
member is one access token and an HTTP session (aiohttp, which comes with nio). It logs in,
creates and joins rooms, sends `m.room.message` events with its own transaction IDs, and
reads what happened with `/sync` (a background loop, optional) or `/messages` (the room's
full history as the homeserver keeps it). Unencrypted rooms only: for encrypted rooms use
`bot.devtools.member.Member`.

    member = LightMember(server.url, server.register("anna", pw), pw)
    await member.login()
    event_id = await member.send(room_id, "!liste")
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.devtools.member import text_content

API = "/_matrix/client/v3"
_SYNC_FILTER = json.dumps(
    {
        "room": {"timeline": {"limit": 200}, "state": {"lazy_load_members": True}},
        "presence": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    }
)


class MatrixHTTPError(RuntimeError):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class RoomEvent:
    """A timeline event as a client receives it."""

    room_id: str
    event_id: str
    sender: str
    type: str
    content: dict[str, Any]
    origin_server_ts: int

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def in_reply_to(self) -> str | None:
        rel = self.content.get("m.relates_to") or {}
        target = (rel.get("m.in_reply_to") or {}).get("event_id")
        return str(target) if target else None

    @classmethod
    def from_json(cls, room_id: str, raw: dict[str, Any]) -> RoomEvent:
        return cls(
            room_id=room_id,
            event_id=str(raw.get("event_id", "")),
            sender=str(raw.get("sender", "")),
            type=str(raw.get("type", "")),
            content=dict(raw.get("content") or {}),
            origin_server_ts=int(raw.get("origin_server_ts", 0)),
        )


class LightMember:
    def __init__(self, homeserver: str, user_id: str, password: str) -> None:
        self.homeserver = homeserver
        self.user_id = user_id
        self.password = password
        self.access_token: str | None = None
        # Every m.room.message its sync saw, with the local (monotonic) time it arrived.
        self.seen: list[tuple[float, RoomEvent]] = []
        self._session: aiohttp.ClientSession | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._next_batch: str | None = None
        self._changed = asyncio.Event()
        self._txn = itertools.count()
        self._txn_prefix = uuid.uuid4().hex[:10]

    # ------------------------------------------------------------------ HTTP

    async def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        *,
        timeout: float = 60,
    ) -> dict[str, Any]:
        """One API call; a 429 is waited out as a client would, other errors raise."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        while True:
            async with self._session.request(
                method,
                self.homeserver + path,
                json=body,
                params=params,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                data: dict[str, Any] = await resp.json(content_type=None) or {}
                if resp.status == 429:
                    await asyncio.sleep(int(data.get("retry_after_ms", 500)) / 1000)
                    continue
                if resp.status >= 400:
                    raise MatrixHTTPError(resp.status, data)
                return data

    async def close(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sync_task
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ account, rooms

    async def login(self) -> None:
        localpart = self.user_id[1:].split(":", 1)[0]
        data = await self._request(
            "POST",
            API + "/login",
            {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": localpart},
                "password": self.password,
                "initial_device_display_name": "light member",
            },
        )
        self.access_token = str(data["access_token"])

    async def create_room(self, name: str, *, invite: tuple[str, ...] = ()) -> str:
        data = await self._request(
            "POST", API + "/createRoom", {"name": name, "invite": list(invite)}
        )
        return str(data["room_id"])

    async def invite(self, room_id: str, user_id: str) -> None:
        await self._request("POST", f"{API}/rooms/{quote(room_id)}/invite", {"user_id": user_id})

    async def join(self, room_id: str) -> None:
        await self._request("POST", f"{API}/join/{quote(room_id)}", {})

    async def joined_members(self, room_id: str) -> set[str]:
        data = await self._request("GET", f"{API}/rooms/{quote(room_id)}/joined_members")
        return set(data.get("joined") or {})

    async def wait_for_member(self, room_id: str, user_id: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while user_id not in await self.joined_members(room_id):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{user_id} did not join {room_id}")
            await asyncio.sleep(0.2)

    # ------------------------------------------------------------------ sending

    async def send(
        self,
        room_id: str,
        body: str,
        *,
        html_body: str | None = None,
        mentions: list[str] | None = None,
        reply_to: str | None = None,
    ) -> str:
        """Send a text message as Element does; returns its event ID."""
        content = text_content(body, html_body=html_body, mentions=mentions, reply_to=reply_to)
        return await self.send_event(room_id, "m.room.message", content)

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        txn = f"{self._txn_prefix}-{next(self._txn)}"
        data = await self._request(
            "PUT", f"{API}/rooms/{quote(room_id)}/send/{event_type}/{txn}", content
        )
        return str(data["event_id"])

    # ------------------------------------------------------------------ reading

    async def sync_once(self, timeout_ms: int = 0) -> list[RoomEvent]:
        """One /sync since the last one; the new room messages (also kept in `seen`)."""
        params = {"timeout": str(timeout_ms), "filter": _SYNC_FILTER}
        if self._next_batch is not None:
            params["since"] = self._next_batch
        data = await self._request(
            "GET", API + "/sync", params=params, timeout=timeout_ms / 1000 + 60
        )
        first = self._next_batch is None
        self._next_batch = str(data["next_batch"])
        if first:
            return []  # what was there before this member started reading is history
        now = time.monotonic()
        found: list[RoomEvent] = []
        for room_id, room in (data.get("rooms", {}).get("join") or {}).items():
            timeline = (room.get("timeline") or {}).get("events") or []
            found.extend(
                RoomEvent.from_json(room_id, raw)
                for raw in timeline
                if raw.get("type") == "m.room.message"
            )
        self.seen.extend((now, e) for e in found)
        if found:
            self._changed.set()
        return found

    def start_sync(self, timeout_ms: int = 10_000) -> None:
        """Keep syncing in the background; what arrives goes to `seen`."""

        async def loop() -> None:
            while True:
                try:
                    await self.sync_once(timeout_ms)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    await asyncio.sleep(0.5)

        if self._sync_task is None:
            self._sync_task = asyncio.create_task(loop(), name=f"sync-{self.user_id}")

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not reached in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))

    async def messages(self, room_id: str, *, page: int = 500) -> list[RoomEvent]:
        """Every m.room.message of the room, oldest first, read with /messages."""
        found: list[RoomEvent] = []
        token: str | None = None
        path = f"{API}/rooms/{quote(room_id)}/messages"
        while True:
            params = {"dir": "b", "limit": str(page)}
            if token is not None:
                params["from"] = token
            data = await self._request("GET", path, params=params)
            chunk = data.get("chunk") or []
            found.extend(
                RoomEvent.from_json(room_id, raw)
                for raw in chunk
                if raw.get("type") == "m.room.message"
            )
            end = data.get("end")
            if not chunk or not end or end == token:
                break
            token = str(end)
        found.reverse()
        return found
