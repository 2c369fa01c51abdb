"""Logging in: reuse the saved device while its encryption store exists, else a new device."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse
from nio.store import DefaultStore

from bot.config import Config
from bot.crypto.trust_policy import TrustPolicyClient
from bot.runtime import credentials

log = logging.getLogger(__name__)


class BotStartError(Exception):
    pass


class CryptoStore(DefaultStore):
    """nio's store, minus a write per sync: nio saves the rooms a sync found encrypted after
    every sync, also when it found none, and that empty save is a transaction on nio's
    SQLite file, on the event loop, before the sync's events are handed on (0.4 ms of
    every command's answer: tests/benchmarks/bench_command_latency.py)."""

    def save_encrypted_rooms(self, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        if rooms:
            super().save_encrypted_rooms(rooms)


def new_client(config: Config, device_id: str | None, *, max_retry_wait: float) -> AsyncClient:
    credentials.secure_dir(config.data_dir)
    store = credentials.store_path(config.data_dir)
    credentials.secure_dir(store)
    cfg = AsyncClientConfig(
        store=CryptoStore,
        encryption_enabled=True,
        store_sync_tokens=False,  # the bot keeps its own token in its database
        max_timeout_retry_wait_time=max_retry_wait,
    )
    client = TrustPolicyClient(
        config.homeserver,
        config.user_id,
        device_id=device_id,
        store_path=str(store),
        config=cfg,
    )
    client.only_cross_signed_devices = config.encryption.only_cross_signed_devices
    return client


async def login(config: Config, *, max_retry_wait: float) -> AsyncClient:
    saved = credentials.load(config.data_dir)
    if saved is not None and (saved.user_id, saved.homeserver) != (
        config.user_id,
        config.homeserver,
    ):
        saved = None  # another account or homeserver: nothing to resume
    damage: str | None = None
    if saved is not None and credentials.store_matches(config.data_dir, saved):
        damage = _store_damage(config, saved)
        if damage is None:
            client = new_client(config, saved.device_id, max_retry_wait=max_retry_wait)
            client.restore_login(saved.user_id, saved.device_id, saved.access_token)
            log.info("resumed session of device %s", saved.device_id)
            return await _keys_uploaded(client)
    if config.password is not None:
        if saved is not None:
            _say_why_a_new_device(config, saved.device_id, damage)
        client = new_client(config, None, max_retry_wait=max_retry_wait)
        resp = await client.login(
            config.password.get_secret_value(), device_name=config.device_name
        )
        if not isinstance(resp, LoginResponse):
            await client.close()
            raise BotStartError(f"login as {config.user_id} failed: {resp.message}")
        credentials.save(
            config.data_dir,
            credentials.Credentials(
                config.user_id, resp.device_id, resp.access_token, config.homeserver
            ),
        )
        log.info("logged in as new device %s", resp.device_id)
        return await _keys_uploaded(client)
    assert config.access_token is not None
    token = config.access_token.get_secret_value()
    client = new_client(config, None, max_retry_wait=max_retry_wait)
    client.access_token = token
    who = await client.whoami()
    if not isinstance(who, WhoamiResponse) or not who.device_id:
        await client.close()
        raise BotStartError("the access token was not accepted by the homeserver")
    ours = credentials.Credentials(config.user_id, who.device_id, token, config.homeserver)
    if credentials.store_matches(config.data_dir, ours):
        damage = _store_damage(config, ours)
        if damage is not None:
            await client.close()
            raise BotStartError(
                f"the encryption store of device {who.device_id} is damaged ({damage}). "
                "With an access token the bot cannot log in as a new device by itself: "
                f"move {credentials.store_path(config.data_dir)} aside and configure a new "
                "access token (a new login, i.e. a new device) or the password, then start "
                "again. See docs/encryption.md, 'A lost or damaged encryption store'."
            )
    client.restore_login(config.user_id, who.device_id, token)
    return await _keys_uploaded(client)


async def _keys_uploaded(client: AsyncClient) -> AsyncClient:
    if client.should_upload_keys:
        await client.keys_upload()
    # nio has created its store's files by now, with the process's umask.
    if client.store_path:
        credentials.secure_store(Path(client.store_path).parent)
    return client


def _store_damage(config: Config, creds: credentials.Credentials) -> str | None:
    try:
        return credentials.store_damage(config.data_dir, creds)
    except credentials.StoreUnreadable as exc:
        raise BotStartError(
            f"cannot read the encryption store of device {creds.device_id} ({exc}). It is not "
            "replaced, since it is not damaged: check that the bot's user may read and write "
            "it, that the disk is not full and that no other process uses it, then start again."
        ) from None


def _say_why_a_new_device(config: Config, old_device: str, damage: str | None) -> None:
    """The operator's log: what happened to the old device, and what (not) to do."""
    store = credentials.store_path(config.data_dir)
    if damage is None:
        log.warning("encryption store of device %s is gone (%s)", old_device, store)
    else:
        aside = credentials.set_store_aside(config.data_dir)
        log.error(
            "encryption store of device %s is damaged (%s); moved it to %s",
            old_device,
            damage,
            aside,
        )
    log.warning(
        "logging in as a new device; the bot cross-signs it with its identity (see below), "
        "and members' clients share room keys with it once they see it. Messages sent to "
        "device %s "
        "before now cannot be read: the bot answers them that it could not read them. "
        "Nothing else to do; device %s can be removed from the bot's sessions (Element, "
        "logged in as the bot: Settings > Sessions). See docs/encryption.md, "
        "'A lost or damaged encryption store'.",
        old_device,
        old_device,
    )
