"""Device trust policy: share room keys only with devices their owner cross-signed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from nio import AsyncClient, KeysQueryResponse

from bot.crypto.crosssigning import parse_identity

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- trust policy


class TrustPolicyClient(AsyncClient):
    """nio's client, plus the policy "share room keys only with cross-signed devices".

    nio shares room keys with every device that is not blacklisted (the bot sends with
    ``ignore_unverified_devices=True``). With ``only_cross_signed_devices`` on, every
    /keys/query answer is read once more for its cross-signing keys, and each device that
    its owner has not cross-signed is blacklisted — before any room key is shared, because
    nio queries keys before it shares. A device that becomes cross-signed later is taken off
    the blacklist. Changing a device's state makes nio start a new outbound session, so no
    key shared before a change reaches a device the policy excludes. The bot uses nio's
    blacklist for nothing else.
    """

    only_cross_signed_devices: bool = False

    async def receive_response(self, response: Any) -> None:
        await super().receive_response(response)
        if not (self.only_cross_signed_devices and isinstance(response, KeysQueryResponse)):
            return
        transport = getattr(response, "transport_response", None)
        if transport is None:
            return
        try:
            raw = await transport.json(content_type=None)
        except Exception:
            log.warning("could not read cross-signing keys from /keys/query")
            return
        if isinstance(raw, dict):
            self.apply_trust_policy(raw)

    def apply_trust_policy(self, query: Mapping[str, Any]) -> None:
        if self.olm is None:
            return
        for user_id in query.get("device_keys") or {}:
            ident = parse_identity(query, user_id)
            for device in list(self.device_store.active_user_devices(user_id)):
                if user_id == self.user_id and device.id == self.device_id:
                    continue
                signed = ident.device_cross_signed(device.id)
                if signed and device.blacklisted:
                    self.unblacklist_device(device)
                    log.info("device %s of %s is cross-signed: sharing keys", device.id, user_id)
                elif not signed and not device.blacklisted:
                    self.blacklist_device(device)
                    log.info(
                        "device %s of %s is not cross-signed by its owner: no room keys",
                        device.id,
                        user_id,
                    )

    def start_trust_policy(self) -> None:
        """At start-up: re-check every known device (policy on) or lift the blacklist (off)."""
        if self.olm is None:
            return
        if self.only_cross_signed_devices:
            self.olm.users_for_key_query.update(self.olm.tracked_users)
            return
        for device in list(self.device_store):
            if device.blacklisted:
                self.unblacklist_device(device)
