"""Logging in: reuse the saved device while its encryption store exists, else a new device."""

from __future__ import annotations

import logging

from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.config import Config
from bot.crypto.trust_policy import TrustPolicyClient
from bot.runtime import credentials

log = logging.getLogger(__name__)


class BotStartError(Exception):
    pass


def new_client(config: Config, device_id: str | None, *, max_retry_wait: float) -> AsyncClient:
    store = credentials.store_path(config.data_dir)
    store.mkdir(parents=True, exist_ok=True, mode=0o700)
    cfg = AsyncClientConfig(
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
    if (
        saved is not None
        and saved.user_id == config.user_id
        and saved.homeserver == config.homeserver
        and credentials.store_matches(config.data_dir, saved)
    ):
        client = new_client(config, saved.device_id, max_retry_wait=max_retry_wait)
        client.restore_login(saved.user_id, saved.device_id, saved.access_token)
        log.info("resumed session of device %s", saved.device_id)
    elif config.password is not None:
        if saved is not None:
            log.warning(
                "encryption store of device %s is gone: logging in as a new device",
                saved.device_id,
            )
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
    else:
        assert config.access_token is not None
        token = config.access_token.get_secret_value()
        client = new_client(config, None, max_retry_wait=max_retry_wait)
        client.access_token = token
        who = await client.whoami()
        if not isinstance(who, WhoamiResponse) or not who.device_id:
            await client.close()
            raise BotStartError("the access token was not accepted by the homeserver")
        client.restore_login(config.user_id, who.device_id, token)
    if client.should_upload_keys:
        await client.keys_upload()
    return client
