"""The bot process: login, sync loop, invites, command events, and the outbox sender."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    ForwardedRoomKeyEvent,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomGetStateResponse,
    RoomKeyEvent,
    RoomMessageText,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    WhoamiResponse,
)

from bot.config import Config
from bot.crypto import crosssigning
from bot.crypto import status as crypto_status
from bot.crypto.trust_policy import TrustPolicyClient
from bot.runtime import credentials
from bot.runtime.dbthread import DbThread
from bot.runtime.incoming import (
    BotSettings,
    IncomingMessage,
    IncomingReaction,
    handle_message,
    handle_reaction,
    queue_replies,
)
from bot.runtime.matrix_content import mentioned_users, replied_to, strip_reply_fallback
from bot.runtime.scheduler import LeaseHeld
from bot.runtime.scheduler import for_bot as reminder_scheduler
from commands.core import i18n
from commands.core.effects import Reply
from commands.core.rich import mention
from commands.features import build_registry
from commands.general import settings
from commands.general.role_rules import CREATOR_POWER_LEVEL
from storage import events, outbox, rooms
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.types import utcnow

log = logging.getLogger(__name__)

# Errors after which resending the same message cannot succeed.
_PERMANENT_SEND_ERRORS = {"M_FORBIDDEN", "M_NOT_FOUND", "M_TOO_LARGE", "M_BAD_JSON"}
_MAX_SEND_ATTEMPTS = 8
_PRE_V12_ROOM_VERSIONS = frozenset(str(v) for v in range(1, 12))
_ANSWER_WAIT_SECONDS = 2.0
_SEND_CONCURRENCY = 4


class BotStartError(Exception):
    pass


class GremienBot:
    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        sync_timeout_ms: int = 30_000,
        max_retry_wait: float = 30.0,
    ) -> None:
        self.config = config
        self.clock = clock
        self.sync_timeout_ms = sync_timeout_ms
        self.max_retry_wait = max_retry_wait
        self.db = Database(config.database_url)
        self.dbt = DbThread()
        self.client: AsyncClient | None = None
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._outbox_wake = asyncio.Event()
        self._creators: dict[str, frozenset[str]] = {}
        # Undecryptable events waiting for their room key; set when any room key arrives.
        self._room_key_arrived = asyncio.Event()
        self._key_waits: set[asyncio.Task[None]] = set()
        self.cross_signing: crosssigning.SetupResult | None = None
        self._send_lock = asyncio.Lock()
        # The bot's own messages come back in every sync; it never acts on them, and a burst
        # of reminders would otherwise wake one expensive sync per message sent.
        self._sync_filter: dict[str, Any] = {
            "room": {"timeline": {"not_senders": [config.user_id]}},
            "presence": {"not_types": ["*"]},
        }
        self._background: set[asyncio.Future[bool]] = set()
        self.settings = BotSettings(
            server_name=config.server_name,
            prefix=config.command_prefix,
            coordinators=frozenset(config.coordination),
            registry=build_registry(),
            defaults=config.defaults.build(),
        )
        # Reminders and digests: wakes the bot when something is due (bot/scheduler.py).
        self.scheduler = reminder_scheduler(self)

    # ------------------------------------------------------------------ start-up

    async def start(self) -> AsyncClient:
        self.config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        await self.dbt.run(upgrade, self.db.engine)
        try:  # a second process on the same database must not post reminders twice
            await self.scheduler.acquire()
        except LeaseHeld as exc:
            raise BotStartError(str(exc)) from None
        self.client = await self._login()
        await self._setup_cross_signing()
        self._register_callbacks(self.client)
        return self.client

    def _new_client(self, device_id: str | None) -> AsyncClient:
        store = credentials.store_path(self.config.data_dir)
        store.mkdir(parents=True, exist_ok=True, mode=0o700)
        cfg = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=False,  # the bot keeps its own token in its database
            max_timeout_retry_wait_time=self.max_retry_wait,
        )
        client = TrustPolicyClient(
            self.config.homeserver,
            self.config.user_id,
            device_id=device_id,
            store_path=str(store),
            config=cfg,
        )
        client.only_cross_signed_devices = self.config.encryption.only_cross_signed_devices
        return client

    async def _login(self) -> AsyncClient:
        cfg = self.config
        saved = credentials.load(cfg.data_dir)
        if (
            saved is not None
            and saved.user_id == cfg.user_id
            and saved.homeserver == cfg.homeserver
            and credentials.store_matches(cfg.data_dir, saved)
        ):
            client = self._new_client(saved.device_id)
            client.restore_login(saved.user_id, saved.device_id, saved.access_token)
            log.info("resumed session of device %s", saved.device_id)
        elif cfg.password is not None:
            if saved is not None:
                log.warning(
                    "encryption store of device %s is gone: logging in as a new device",
                    saved.device_id,
                )
            client = self._new_client(None)
            resp = await client.login(cfg.password.get_secret_value(), device_name=cfg.device_name)
            if not isinstance(resp, LoginResponse):
                await client.close()
                raise BotStartError(f"login as {cfg.user_id} failed: {resp.message}")
            credentials.save(
                cfg.data_dir,
                credentials.Credentials(
                    cfg.user_id, resp.device_id, resp.access_token, cfg.homeserver
                ),
            )
            log.info("logged in as new device %s", resp.device_id)
        else:
            assert cfg.access_token is not None
            token = cfg.access_token.get_secret_value()
            client = self._new_client(None)
            client.access_token = token
            who = await client.whoami()
            if not isinstance(who, WhoamiResponse) or not who.device_id:
                await client.close()
                raise BotStartError("the access token was not accepted by the homeserver")
            client.restore_login(cfg.user_id, who.device_id, token)
        if client.should_upload_keys:
            await client.keys_upload()
        return client

    async def _setup_cross_signing(self) -> None:
        """Cross-sign this device with the account's identity (created on the first start).

        A failure is logged and leaves the bot running: unencrypted rooms and clients that
        share keys with unsigned devices still work, and `crypto status` shows the state.
        """
        assert self.client is not None
        client = self.client
        if isinstance(client, TrustPolicyClient):
            client.start_trust_policy()
        enc = self.config.encryption
        try:
            self.cross_signing = await crosssigning.ensure_cross_signing(
                crosssigning.MatrixApi(client),
                user_id=self.config.user_id,
                device_id=str(client.device_id),
                data_dir=self.config.data_dir,
                password=self.config.password.get_secret_value() if self.config.password else None,
                recovery_key=enc.recovery_key.get_secret_value() if enc.recovery_key else None,
                allow_reset=enc.allow_identity_reset,
            )
        except Exception as exc:  # network, homeserver refusal: never a secret in the text
            log.error("cross-signing could not be set up: %s", exc)
            return
        if self.cross_signing.ok:
            log.info("%s", self.cross_signing.message)
        else:
            log.error("cross-signing: %s", self.cross_signing.message)

    def _register_callbacks(self, client: AsyncClient) -> None:
        client.add_event_callback(self._guard(self._on_invite), InviteMemberEvent)
        client.add_event_callback(self._guard(self._on_text), RoomMessageText)
        client.add_event_callback(self._guard(self._on_undecryptable), MegolmEvent)
        client.add_event_callback(self._guard(self._on_reaction), ReactionEvent)
        client.add_to_device_callback(self._on_room_key, (RoomKeyEvent, ForwardedRoomKeyEvent))

    def _guard(self, handler: Callable[[MatrixRoom, Any], Any]) -> Callable[..., Any]:
        """One handler's failure is logged and never reaches the sync loop."""

        async def guarded(room: MatrixRoom, event: Any) -> None:
            try:
                await handler(room, event)
            except Exception:
                log.exception("handling %s in %s failed", type(event).__name__, room.room_id)

        return guarded

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """Run until stop() is called."""
        if self.client is None:
            await self.start()
        sender = asyncio.create_task(self._send_loop(), name="outbox-sender")
        await self.scheduler.start()
        try:
            await self._sync_loop()
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            await self.scheduler.stop()
            await self._shutdown()

    def stop(self) -> None:
        self._stop.set()
        self._outbox_wake.set()

    async def _shutdown(self) -> None:
        for waiting in list(self._key_waits):  # undecryptable events still waiting for a key
            waiting.cancel()
        if self.client is not None:
            await self.client.close()
        self.dbt.close()
        self.db.dispose()

    async def _sync_loop(self) -> None:
        assert self.client is not None
        client = self.client
        token = await self.dbt.run(self._load_token)
        # nio keeps no rooms across restarts: the first sync of a process carries the full
        # state of every joined room (and returns at once), or the bot could not post into
        # a room where nothing happened while it was down.
        first = True
        failures = 0
        while not self._stop.is_set():
            self.scheduler.sync_started()
            sync = asyncio.create_task(
                client.sync(
                    timeout=0 if first else self.sync_timeout_ms,
                    sync_filter=self._sync_filter,
                    since=token,
                    full_state=first,
                )
            )
            stop = asyncio.create_task(self._stop.wait())
            done, _ = await asyncio.wait({sync, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if sync not in done:
                sync.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sync
                break
            try:
                resp = sync.result()
            except Exception as exc:  # network loss: keep going, with backoff
                resp = None
                log.warning("sync failed: %s", exc)
            if not isinstance(resp, SyncResponse):
                if isinstance(resp, SyncError):
                    log.warning("sync error: %s", resp.message)
                failures += 1
                self.scheduler.set_online(False)
                await self._sleep(min(self.max_retry_wait, 0.5 * 2 ** min(failures, 6)))
                continue
            failures = 0
            first = False
            # Stored only after every event of the batch was handled (or found handled).
            token = resp.next_batch
            await self.dbt.run(self._save_token, token)
            await self._key_maintenance()
            self._outbox_wake.set()
            self.ready.set()
            self.scheduler.set_online(True)

    async def _key_maintenance(self) -> None:
        assert self.client is not None
        client = self.client
        try:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()
        except Exception:
            log.exception("key maintenance failed; retried after the next sync")

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    def _load_token(self) -> str | None:
        with self.db.session() as s:
            return events.get_state(s, events.SYNC_TOKEN)

    def _save_token(self, token: str) -> None:
        with self.db.session() as s:
            events.set_state(s, events.SYNC_TOKEN, token)

    # ------------------------------------------------------------------ events

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        assert self.client is not None
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        if not self.config.may_invite(event.sender):
            log.info(
                "declining invite to %s from %s (not an allowed inviter)",
                room.room_id,
                event.sender,
            )
            await self.client.room_leave(room.room_id)
            return
        # Recorded before joining: every message after this moment is the bot's business.
        await self.dbt.run(self._record_join, room.room_id)
        resp = await self.client.join(room.room_id)
        log.info(
            "joined %s on invitation by %s: %s", room.room_id, event.sender, type(resp).__name__
        )

    def _record_join(self, room_id: str) -> None:
        with self.db.session() as s:
            rooms.ensure_room(s, room_id, joined_at=self.clock())

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        assert self.client is not None
        if event.sender == self.client.user_id:
            return
        body = strip_reply_fallback(event.body or "")
        if not body.lstrip().startswith(self.config.command_prefix):
            return
        content = event.source.get("content", {})
        msg = IncomingMessage(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            timestamp=dt.datetime.fromtimestamp(event.server_timestamp / 1000, dt.UTC),
            body=body,
            html=event.formatted_body,
            mentions=mentioned_users(content),
            reply_to=replied_to(content),
            members={uid: (u.display_name or "") for uid, u in room.users.items()},
            power_levels=await self._power_levels(room),
        )
        queued = await self.dbt.run(handle_message, self.db, msg, self.settings, self.clock)
        if queued:
            self.scheduler.poke(room.room_id)  # the command may have changed what is due
            await self._answer_now()

    async def _on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        assert self.client is not None
        if event.sender == self.client.user_id:
            return
        reaction = IncomingReaction(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            timestamp=dt.datetime.fromtimestamp(event.server_timestamp / 1000, dt.UTC),
            key=event.key,
            target_event_id=event.reacts_to,
            members={uid: (u.display_name or "") for uid, u in room.users.items()},
            power_levels=await self._power_levels(room),
        )
        if await self.dbt.run(handle_reaction, self.db, reaction, self.settings, self.clock):
            self.scheduler.poke(room.room_id)
            await self._answer_now()

    async def _power_levels(self, room: MatrixRoom) -> dict[str, int]:
        levels = {uid: room.power_levels.get_user_level(uid) for uid in room.users}
        for creator in await self._privileged_creators(room):
            levels[creator] = CREATOR_POWER_LEVEL
        return levels

    async def _privileged_creators(self, room: MatrixRoom) -> frozenset[str]:
        """Room version 12 (MSC4289) gives creators unlimited power outside power_levels."""
        if room.room_version in _PRE_V12_ROOM_VERSIONS:
            return frozenset()
        cached = self._creators.get(room.room_id)
        if cached is not None:
            return cached
        assert self.client is not None
        # The create event's sender is not in its content, so read the full state once.
        resp = await self.client.room_get_state(room.room_id)
        if not isinstance(resp, RoomGetStateResponse):
            return frozenset()
        creators: set[str] = set()
        for ev in resp.events:
            if ev.get("type") == "m.room.create":
                creators.add(str(ev.get("sender", "")))
                creators.update(ev.get("content", {}).get("additional_creators") or [])
        found = frozenset(c for c in creators if c)
        self._creators[room.room_id] = found
        return found

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """Ask for the missing key, wait a little for it, else say so in the room."""
        assert self.client is not None
        if event.sender == self.client.user_id:
            return
        sent = dt.datetime.fromtimestamp(event.server_timestamp / 1000, dt.UTC)
        if not await self.dbt.run(self._is_unhandled, room.room_id, event.event_id, sent):
            return  # history from before the bot joined, or handled already
        log.warning(
            "could not decrypt %s from %s in %s; asking for the key",
            event.event_id,
            event.sender,
            room.room_id,
        )
        with contextlib.suppress(Exception):
            await self.client.request_room_key(event)  # m.room_key_request
        # Waiting here would hold up the sync that may bring the key: wait beside it.
        task = asyncio.create_task(self._await_room_key(room, event))
        self._key_waits.add(task)
        task.add_done_callback(self._key_waits.discard)

    def _is_unhandled(self, room_id: str, event_id: str, sent: dt.datetime) -> bool:
        with self.db.session() as s:
            if events.is_processed(s, event_id):
                return False
            room = rooms.get_room(s, room_id)
            return room is not None and sent >= room.joined_at

    async def _on_room_key(self, event: Any) -> None:
        """A room key (or a forwarded one) arrived: wake whoever waits for one."""
        arrived, self._room_key_arrived = self._room_key_arrived, asyncio.Event()
        arrived.set()

    def _try_decrypt(self, room_id: str, event: MegolmEvent) -> Any | None:
        assert self.client is not None and self.client.olm is not None
        try:
            decrypted = self.client.olm.decrypt_megolm_event(event, room_id)
        except Exception:
            return None
        return None if isinstance(decrypted, MegolmEvent) else decrypted

    async def _await_room_key(self, room: MatrixRoom, event: MegolmEvent) -> None:
        assert self.client is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.encryption.undecryptable_wait_seconds
        while True:
            arrived = self._room_key_arrived
            decrypted = self._try_decrypt(room.room_id, event)
            if decrypted is not None:
                log.info("the key of %s arrived; handling the message", event.event_id)
                # Every handler, as if the event had come decrypted (they are guarded).
                for callback in list(self.client.event_callbacks):
                    await callback.async_execute(decrypted, room)
                return
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), timeout=min(remaining, 1.0))
        if self._stop.is_set():
            return
        member = room.users.get(event.sender)
        name = (member.display_name if member else None) or event.sender
        try:
            queued = await self.dbt.run(self._answer_undecryptable, room.room_id, event, name)
        except Exception:
            log.exception("could not queue the answer to undecryptable %s", event.event_id)
            return
        if queued:
            self._outbox_wake.set()

    def _answer_undecryptable(self, room_id: str, event: MegolmEvent, name: str) -> int:
        """Count it and answer once per sender and megolm session ("could not read")."""
        with self.db.session() as s:
            if events.is_processed(s, event.event_id):
                return 0
            crypto_status.record_undecryptable(s, self.clock())
            lang = settings.room_language(s, room_id, self.settings.defaults.language)
            text = i18n.t(lang, "error.undecryptable", user=mention(event.sender, name))
            queue_replies(
                s,
                f"undecryptable:{room_id}:{event.sender}:{event.session_id}",
                room_id,
                [Reply(text, in_reply_to=event.event_id)],
            )
            events.mark_processed(s, event.event_id, room_id)
            return 1

    # ------------------------------------------------------------------ sending

    async def _send_loop(self) -> None:
        """Sends what the outbox holds; retries with backoff what the homeserver refused."""
        failures = 0
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox_wake.wait(), timeout=30)
            self._outbox_wake.clear()
            if self._stop.is_set() or not self.ready.is_set():
                continue
            if await self._flush_outbox():
                failures = 0
                continue
            failures += 1
            await self._sleep(min(self.max_retry_wait, 0.5 * 2 ** min(failures, 6)))
            self._outbox_wake.set()

    async def _flush_outbox(self) -> bool:
        """Send every pending message; False when one could not be sent.

        Each room's messages go out in order; a few rooms are served at once, because the
        round trip of one send, not the homeserver's rate limit, would otherwise cap a burst
        of reminders across many rooms.
        """
        async with self._send_lock:
            while rows := await self.dbt.run(self._pending):
                by_room: dict[str, list[OutboxMessage]] = {}
                for row in rows:
                    by_room.setdefault(row.room_id, []).append(row)
                slots = asyncio.Semaphore(_SEND_CONCURRENCY)
                sent = await asyncio.gather(
                    *(self._send_in_order(q, slots) for q in by_room.values())
                )
                if not all(sent):
                    return False
        return True

    async def _send_in_order(self, queue: list[OutboxMessage], slots: asyncio.Semaphore) -> bool:
        async with slots:
            for row in queue:
                if not await self._send_one(row):
                    return False
        return True

    async def _answer_now(self) -> None:
        """Send a command's replies before the next sync, as a plain bot would.

        Waits only briefly: a throttled or slow homeserver must not hold up the sync
        loop, so a longer send goes on in the background (the outbox keeps it safe).
        """
        flush = asyncio.ensure_future(self._flush_outbox())
        flush.add_done_callback(
            lambda f: (
                None if f.cancelled() or f.exception() or f.result() else self._outbox_wake.set()
            )
        )
        self._background.add(flush)
        flush.add_done_callback(self._background.discard)
        await asyncio.wait({flush}, timeout=_ANSWER_WAIT_SECONDS)

    def _pending(self) -> list[OutboxMessage]:
        with self.db.session() as s:
            return outbox.pending(s)

    async def _send_one(self, row: OutboxMessage) -> bool:
        assert self.client is not None and row.id is not None
        try:
            resp = await self.client.room_send(
                row.room_id,
                row.event_type,
                json.loads(row.content),
                tx_id=row.txn_id,
                ignore_unverified_devices=True,
            )
        except Exception as exc:
            log.warning("sending to %s failed: %s", row.room_id, exc)
            await self.dbt.run(self._failed, row.id, str(exc), False)
            return False
        if isinstance(resp, RoomSendResponse):
            await self.dbt.run(self._sent, row.id, resp.event_id)
            return True
        errcode = getattr(resp, "status_code", None) or ""
        give_up = errcode in _PERMANENT_SEND_ERRORS and row.attempts + 1 >= _MAX_SEND_ATTEMPTS
        log.warning("homeserver refused message to %s: %s", row.room_id, resp)
        await self.dbt.run(self._failed, row.id, str(resp), give_up)
        return False

    def _sent(self, msg_id: int, event_id: str) -> None:
        with self.db.session() as s:
            outbox.mark_sent(s, msg_id, event_id, at=self.clock())

    def _failed(self, msg_id: int, error: str, give_up: bool) -> None:
        with self.db.session() as s:
            outbox.mark_attempt_failed(s, msg_id, error, give_up=give_up)
