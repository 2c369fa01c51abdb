"""The bot process: wires login, sync loop, event handlers, outbox sender and scheduler.

- `bot.runtime.login`: the login and the nio client;
- `bot.runtime.sync`: the sync loop and the sync token;
- `bot.runtime.pipeline`: each room's events in order, gaps filled by paging back;
- `bot.runtime.events`: invitations, commands, reactions, undecryptable messages;
- `bot.runtime.incoming`: one event's handling in one database transaction;
- `bot.runtime.sender`: the outbox sender;
- `bot.runtime.renderer`: files made later (an export), off the database thread;
- `bot.runtime.scheduler`: reminders and digests;
- `bot.dashboard`: the coordination's dashboard (an Element widget), when configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Mapping

from nio import AsyncClient, MatrixRoom, PowerLevelsEvent, SyncResponse

from bot.config import Config
from bot.crypto import crosssigning
from bot.crypto.trust_policy import TrustPolicyClient
from bot.dashboard.access import plain_levels
from bot.dashboard.server import DashboardServer, options_of
from bot.runtime import voter_key
from bot.runtime.command_state import CommandState
from bot.runtime.dbthread import DbThread
from bot.runtime.events import (
    EventHandlers,
    Runtime,
    display_names,
    store_room_names,
    synced_room_names,
)
from bot.runtime.incoming import BotSettings
from bot.runtime.login import BotStartError, login
from bot.runtime.metrics import Metrics
from bot.runtime.monitoring import Health, MonitoringServer, SyncHealth
from bot.runtime.pipeline import Pipeline, Watermark
from bot.runtime.renderer import Renderer
from bot.runtime.scheduler import LeaseHeld
from bot.runtime.scheduler import for_bot as reminder_scheduler
from bot.runtime.sender import OutboxSender
from bot.runtime.sync import SyncLoop
from commands.features import build_registry, file_job_config
from storage import outbox, rooms
from storage.db import Database
from storage.migrate import upgrade
from storage.types import utcnow

log = logging.getLogger(__name__)

__all__ = ["BotStartError", "GremienBot"]


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
        # The secret behind the voters' hashes keys the database's other hashes too
        # (outbox transaction IDs, handled events of direct-message rooms).
        key = voter_key.load_or_create(config.data_dir, config.voter_key_path)
        self.db = Database(config.database_url, secret=key)
        self.dbt = DbThread(max_retry_wait=max_retry_wait)
        self.client: AsyncClient | None = None
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self.cross_signing: crosssigning.SetupResult | None = None
        # What the operator watches (bot.runtime.metrics, bot.runtime.monitoring).
        self.metrics = Metrics()
        self.sync_health = SyncHealth()
        self.monitoring: MonitoringServer | None = None
        # The coordination's dashboard (bot.dashboard), once started.
        self.dashboard: DashboardServer | None = None
        registry = build_registry()
        defaults = config.build_defaults(voter_key=key)
        # The commands offered to clients as room state (bot.runtime.command_state).
        self.command_state = CommandState(
            self.db,
            self.dbt,
            registry=registry,
            prefix=config.command_prefix,
            bot_user=config.user_id,
            default_language=defaults.language,
        )
        self.settings = BotSettings(
            server_name=config.server_name,
            prefix=config.command_prefix,
            coordinators=frozenset(config.coordination),
            registry=registry,
            defaults=defaults,
            catchup_horizon=dt.timedelta(days=config.catchup.horizon_days),
            bot_user=config.user_id,
            room_members=self.room_members,
            language_changed=self.command_state.language_changed,
        )
        self.renderer = Renderer(
            self.db,
            self.dbt,
            self.settings.registry.file_jobs,
            language=self.settings.defaults.language,
            on_made=lambda queue: self.sender.file_made(queue),
            max_retry_wait=max_retry_wait,
            config=file_job_config(self.settings.defaults),
        )
        self.sender = OutboxSender(
            self.db,
            self.dbt,
            client=lambda: self.client,
            clock=clock,
            max_retry_wait=max_retry_wait,
            on_sent=self.metrics.sent,
            file_wanted=self.renderer.wake,
        )
        self.settings.registry.observe(self.metrics.command_handled)
        self.handlers: EventHandlers | None = None
        self.pipeline: Pipeline | None = None
        self._going_online: asyncio.Task[None] | None = None
        self._sync: SyncLoop | None = None
        # Reminders and digests: wakes the bot when something is due (bot/runtime/scheduler.py).
        self.scheduler = reminder_scheduler(self)

    def room_members(self, room_id: str) -> Mapping[str, str]:
        """A room's members now (joined or invited; none for a room the bot is not in),
        as every members mapping is built. Called in the database thread."""
        room = self.client.rooms.get(room_id) if self.client is not None else None
        if room is None:
            return {}
        return display_names(room)

    def creators(self, room_id: str) -> frozenset[str]:
        return self.handlers.creators(room_id) if self.handlers is not None else frozenset()

    # ------------------------------------------------------------------ start-up

    async def start(self) -> AsyncClient:
        self.config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        await self.dbt.run(upgrade, self.db.engine)
        self._start_monitoring()
        try:  # a second process on the same database must not post reminders twice
            await self.scheduler.acquire()
        except LeaseHeld as exc:
            raise BotStartError(str(exc)) from None
        self.client = client = await login(self.config, max_retry_wait=self.max_retry_wait)
        self.command_state.bind(client)
        await self._setup_cross_signing()
        runtime = Runtime(
            config=self.config,
            settings=self.settings,
            db=self.db,
            dbt=self.dbt,
            clock=self.clock,
            sender=self.sender,
            poke=self.scheduler.poke,
            stopping=self._stop.is_set,
            metrics=self.metrics,
            command_state=self.command_state,
        )
        self.handlers = handlers = EventHandlers(runtime, client)
        handlers.register()
        self._sync = sync = SyncLoop(
            client,
            self.db,
            self.dbt,
            user_id=self.config.user_id,
            timeout_ms=self.sync_timeout_ms,
            max_retry_wait=self.max_retry_wait,
            pipeline=lambda: pipeline,
            on_synced=self._synced,
            on_failed=self._sync_failed,
            on_request=self.scheduler.sync_started,
        )
        self.pipeline = pipeline = Pipeline(
            client,
            handle=handlers.handle,
            prepare=handlers.prepare,
            joined_at=handlers.joined_at,
            watermark=Watermark(sync.save_token),
            user_id=self.config.user_id,
            max_retry_wait=self.max_retry_wait,
        )
        await self._start_dashboard()
        return client

    def _start_monitoring(self) -> None:
        """From now on `/healthz` answers (503 until the first sync) and `/metrics` counts."""
        address = self.config.metrics.address
        if address is None or self.monitoring is not None:
            return
        self.metrics.watch(self.db)
        health = Health(
            self.db, self.sync_health, max_sync_age=self.config.metrics.max_sync_age_seconds
        )
        try:
            self.monitoring = MonitoringServer(*address, health, self.metrics)
        except OSError as exc:
            raise BotStartError(f"metrics.listen {self.config.metrics.listen}: {exc}") from None
        self.monitoring.start()

    async def _start_dashboard(self) -> None:
        """From now on the dashboard answers; its rights are read from the client's rooms,
        which fill with the first sync."""
        options = options_of(self.config)
        if options is None or self.dashboard is not None:
            return
        defaults = self.settings.defaults
        server = DashboardServer(
            options,
            db=self.db,
            defaults=defaults,
            makers=self.settings.registry.file_jobs,
            file_config=file_job_config(defaults),
            client=lambda: self.client,
            room_levels=self._room_levels,
            clock=self.clock,
        )
        try:
            await server.start()
        except OSError as exc:
            raise BotStartError(f"dashboard.listen {self.config.dashboard.listen}: {exc}") from None
        self.dashboard = server

    async def _room_levels(self, room: MatrixRoom) -> Mapping[str, int]:
        """Each member's power level as commands count it (creators of newer rooms too)."""
        if self.handlers is None:
            return await plain_levels(room)
        return await self.handlers.power_levels(room)

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

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """Run until stop() is called."""
        if self.client is None:
            await self.start()
        assert self._sync is not None
        sender = asyncio.create_task(self.sender.run(), name="outbox-sender")
        renderer = asyncio.create_task(self.renderer.run(), name="file-renderer")
        await self.scheduler.start()
        try:
            await self._sync.run()
        finally:
            await self.renderer.close()
            renderer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renderer
            await self.sender.close()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            await self.scheduler.stop()
            await self.command_state.close()
            await self._shutdown()

    def stop(self) -> None:
        self._stop.set()
        if self._sync is not None:
            self._sync.stop()
        self.sender.stop()

    def _sync_failed(self, reason: str) -> None:
        self.metrics.sync_failed()
        self.sync_health.failed(reason)
        self.scheduler.set_online(False)

    async def _synced(self, resp: SyncResponse, seq: int) -> None:
        self.metrics.synced()
        self.sync_health.synced()
        left = list(resp.rooms.leave)
        if left:
            await self.dbt.run_until_answered(self._record_left, left)
        if self.client is not None:
            names = synced_room_names(self.client, resp, full_state=not self.ready.is_set())
            if names:
                await self.dbt.run_until_answered(store_room_names, self.db, names)
            self._publish_commands(resp)
        # The outbox is read on the first sync; after that only for a queue waiting for what
        # a sync may bring (its room, a member's join): a read on every sync held up the
        # database thread just when the sync's command was handled (bench_command_latency).
        first = not self.sender.enabled
        self.sender.enabled = True
        if first or self.sender.waiting:
            self.sender.wake()
        if not self.ready.is_set():
            # Operators and the start-up benchmark read this line: the bot answers from now on.
            log.info(
                "ready: first sync done, %d room(s) joined",
                len(self.client.rooms) if self.client else 0,
            )
            self.ready.set()
        if not self.scheduler.online and self._going_online is None:
            # Reminders wait until the commands sent meanwhile are handled: a reminder of an
            # agreement completed meanwhile (`!erledigt 4`) must not be posted.
            self._going_online = asyncio.create_task(self._online_after(seq))

    def _publish_commands(self, resp: SyncResponse) -> None:
        """The commands as room state: in every room on the first sync (an upgrade may
        have changed them), later where the power levels changed (the bot may now send
        state where it could not). In the background; rooms that are no committee are
        left out there."""
        if not self.ready.is_set():
            assert self.client is not None
            self.command_state.refresh_all(list(self.client.rooms))
            return
        self.command_state.refresh_all(
            room_id
            for room_id, info in resp.rooms.join.items()
            if any(isinstance(e, PowerLevelsEvent) for e in (*info.state, *info.timeline.events))
        )

    async def _online_after(self, seq: int) -> None:
        assert self.pipeline is not None
        try:
            await self.pipeline.watermark.handled(seq)
            self.scheduler.set_online(True)
        finally:
            self._going_online = None

    def _record_left(self, room_ids: list[str]) -> None:
        """Left, kicked or banned: nothing more is queued there, what is queued is dropped."""
        with self.db.session() as s:
            for room_id in room_ids:
                room = rooms.get_room(s, room_id)
                if room is None or room.left_at is not None:
                    continue
                rooms.mark_left(s, room_id, at=self.clock())
                dropped = outbox.drop_pending(s, room_id)
                log.warning(
                    "no longer in %s; dropped %d message(s) still queued for it", room_id, dropped
                )

    async def _shutdown(self) -> None:
        if self.pipeline is not None:  # rooms still working (e.g. waiting for a room key)
            await self.pipeline.stop()
        if self.client is not None:
            await self.client.close()
        if self.dashboard is not None:
            await self.dashboard.stop()
            self.dashboard = None
        if self.monitoring is not None:
            self.monitoring.stop()
            self.monitoring = None
        self.dbt.close()
        self.db.dispose()
