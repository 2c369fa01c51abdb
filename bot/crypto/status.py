"""What `gremienbot crypto status` shows, and the count of messages the bot could not read.

The count is kept per hour in the existing key/value table of the sync state (key
``crypto.undecryptable_hourly``, a small JSON object, pruned to two days), so no schema
change is needed; "in the last day" is the sum over the last 24 hourly buckets.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from dataclasses import dataclass
from urllib.parse import quote

from nio import AsyncClient, LoginResponse
from sqlmodel import Session

from bot.config import Config
from bot.crypto import crosssigning
from bot.runtime import credentials
from storage import events
from storage.db import Database

UNDECRYPTABLE_KEY = "crypto.undecryptable_hourly"
_KEEP_HOURS = 48


def _bucket(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H")


def _load(s: Session) -> dict[str, int]:
    raw = events.get_state(s, UNDECRYPTABLE_KEY)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}


def record_undecryptable(s: Session, now: dt.datetime) -> None:
    """Count one message that stayed undecryptable (call inside the handling transaction)."""
    buckets = _load(s)
    key = _bucket(now)
    buckets[key] = buckets.get(key, 0) + 1
    oldest = _bucket(now - dt.timedelta(hours=_KEEP_HOURS))
    buckets = {k: v for k, v in buckets.items() if k >= oldest}
    events.set_state(s, UNDECRYPTABLE_KEY, json.dumps(buckets, sort_keys=True))


def undecryptable_last_day(s: Session, now: dt.datetime) -> int:
    """Messages that could not be decrypted in the 24 hours up to `now` (hour resolution)."""
    first = _bucket(now - dt.timedelta(hours=23))
    last = _bucket(now)
    return sum(v for k, v in _load(s).items() if first <= k <= last)


@dataclass
class CryptoStatus:
    user_id: str
    device_id: str | None
    cross_signed: bool
    master_key: str | None
    local_keys: str  # "match", "missing", "differ"
    recovery_key_stored: bool
    encrypted_rooms: int | None
    joined_rooms: int | None
    undecryptable_last_day: int
    only_cross_signed_devices: bool
    problems: list[str]

    def lines(self) -> list[str]:
        yes_no = {True: "yes", False: "NO"}
        rooms = (
            f"{self.encrypted_rooms} of {self.joined_rooms} joined rooms"
            if self.encrypted_rooms is not None
            else "unknown (homeserver not reachable)"
        )
        out = [
            f"account:               {self.user_id}",
            f"device:                {self.device_id or 'none (the bot never logged in)'}",
            f"cross-signed:          {yes_no[self.cross_signed]} (checked with /keys/query)",
            f"master key:            {self.master_key or 'none published'}",
            f"private keys here:     {self.local_keys}",
            f"recovery key stored:   {'yes' if self.recovery_key_stored else 'no'}",
            f"encrypted rooms:       {rooms}",
            f"undecryptable (24 h):  {self.undecryptable_last_day}",
            "trust policy:          "
            + (
                "room keys only to devices cross-signed by their owner"
                if self.only_cross_signed_devices
                else "room keys to all devices of joined members"
            ),
        ]
        out.extend(f"problem:               {p}" for p in self.problems)
        return out


async def gather_status(
    api: crosssigning.MatrixApi | None,
    *,
    user_id: str,
    device_id: str | None,
    data_dir_keys: crosssigning.KeyFile | None,
    undecryptable: int,
    only_cross_signed_devices: bool,
) -> CryptoStatus:
    problems: list[str] = []
    cross_signed = False
    master: str | None = None
    encrypted: int | None = None
    joined: int | None = None
    if api is None:
        problems.append("no stored login: start the bot once (`gremienbot run`)")
    else:
        try:
            ident = crosssigning.parse_identity(await api.keys_query([user_id]), user_id)
            master = ident.master
            cross_signed = device_id is not None and ident.device_cross_signed(device_id)
            encrypted, joined = await _count_encrypted_rooms(api)
        except Exception as exc:
            problems.append(f"homeserver: {exc}")
    if data_dir_keys is None:
        local = "missing"
    elif master is not None and data_dir_keys.keys.master.public != master:
        local = "differ from the published identity"
    else:
        local = "present, 0600" if master is None else "present, match the published identity"
    if not cross_signed and api is not None and not problems:
        problems.append(
            "the device is not cross-signed: see the bot's log at start-up for the reason"
        )
    return CryptoStatus(
        user_id=user_id,
        device_id=device_id,
        cross_signed=cross_signed,
        master_key=master,
        local_keys=local,
        recovery_key_stored=bool(data_dir_keys and data_dir_keys.ssss_key),
        encrypted_rooms=encrypted,
        joined_rooms=joined,
        undecryptable_last_day=undecryptable,
        only_cross_signed_devices=only_cross_signed_devices,
        problems=problems,
    )


async def _count_encrypted_rooms(api: crosssigning.MatrixApi) -> tuple[int, int]:
    status, body = await api.request("GET", "/joined_rooms")
    if status != 200:
        raise crosssigning.CrossSigningError(f"/joined_rooms failed ({status})")
    rooms = [str(r) for r in body.get("joined_rooms") or []]
    encrypted = 0
    for room_id in rooms:
        st, _ = await api.request(
            "GET", f"/rooms/{quote(room_id, safe='')}/state/m.room.encryption/"
        )
        encrypted += st == 200
    return encrypted, len(rooms)


# --------------------------------------------------------------------------- CLI


EXPORT_EXPLANATION = """\
This is the recovery key of {user_id} (secret-storage key, standard Matrix format).
Keep it in the password safe: whoever has it can sign devices in the bot's name.

With it you can:
  - restore the bot's identity after its data directory was lost:
    `gremienbot crypto import-recovery-key` (or GREMIENBOT_RECOVERY_KEY) before the next start;
  - log in as {user_id} in Element and choose "Verify with recovery key": that session
    becomes a verified session of the bot account (the cross-signing keys are read from the
    account's secret storage on the homeserver, where the bot stored them encrypted).
You cannot:
  - read the bot's earlier encrypted messages in Element with it: the bot keeps no
    server-side key backup, so old room keys stay on the bot's own device;
  - use it without the homeserver: it unlocks the copy in the account's secret storage."""


def _api_for(config: Config) -> tuple[crosssigning.MatrixApi | None, str | None]:
    """An API session from the bot's stored login (or the configured token); no new device."""
    saved = credentials.load(config.data_dir)
    client = AsyncClient(config.homeserver, config.user_id)
    if saved is not None and saved.user_id == config.user_id:
        client.access_token = saved.access_token
        return crosssigning.MatrixApi(client), saved.device_id
    if config.access_token is not None:
        client.access_token = config.access_token.get_secret_value()
        return crosssigning.MatrixApi(client), None
    return None, None


def _undecryptable_count(config: Config) -> int | None:
    db = Database(config.database_url)
    try:
        with db.session(write=False) as s:
            return undecryptable_last_day(s, dt.datetime.now(dt.UTC))
    except Exception:
        return None
    finally:
        db.dispose()


async def cli_status(config: Config) -> int:
    """Print the state; exit code 0 when the device is cross-signed, 1 otherwise."""
    api, device_id = _api_for(config)
    try:
        if api is not None and device_id is None:
            status, who = await api.request("GET", "/account/whoami")
            device_id = who.get("device_id") if status == 200 else None
        count = _undecryptable_count(config)
        result = await gather_status(
            api,
            user_id=config.user_id,
            device_id=device_id,
            data_dir_keys=crosssigning.load_keys(config.data_dir),
            undecryptable=count or 0,
            only_cross_signed_devices=config.encryption.only_cross_signed_devices,
        )
        if count is None:
            result.problems.append("database not readable: undecryptable count unknown")
    finally:
        if api is not None:
            await api.client.close()
    print("\n".join(result.lines()))
    return 0 if result.cross_signed else 1


def cli_export(config: Config) -> int:
    key_file = crosssigning.load_keys(config.data_dir)
    if key_file is None or key_file.ssss_key is None:
        print(
            f"No cross-signing keys in {config.data_dir}: start the bot once "
            "(`gremienbot run`), it creates them and the recovery key.",
            file=sys.stderr,
        )
        return 1
    recovery = key_file.recovery_key()
    print(recovery)
    print(EXPORT_EXPLANATION.format(user_id=config.user_id), file=sys.stderr)
    print(f"Master key (public): {key_file.keys.master.public}", file=sys.stderr)
    return 0


async def cli_import(config: Config, recovery: str) -> int:
    """Restore the keys from the account's secret storage with the recovery key."""
    try:
        crosssigning.decode_recovery_key(recovery)
    except crosssigning.RecoveryKeyError as exc:
        print(f"Not a valid recovery key: {exc}.", file=sys.stderr)
        return 2
    api, _ = _api_for(config)
    temporary: AsyncClient | None = None
    if api is None:
        if config.password is None:
            print(
                "No login to reach the homeserver: set password or access_token.", file=sys.stderr
            )
            return 1
        temporary = AsyncClient(config.homeserver, config.user_id)
        resp = await temporary.login(
            config.password.get_secret_value(), device_name="gremienbot key import"
        )
        if not isinstance(resp, LoginResponse):
            await temporary.close()
            print(f"Login as {config.user_id} failed: {resp.message}", file=sys.stderr)
            return 1
        api = crosssigning.MatrixApi(temporary)
    try:
        key_file = await crosssigning.import_recovery_key(
            api, config.user_id, config.data_dir, recovery
        )
    except crosssigning.CrossSigningError as exc:
        print(f"Import failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if temporary is not None:
            with contextlib.suppress(Exception):
                await temporary.logout()  # removes the temporary device again
        await api.client.close()
    print(
        f"Restored the cross-signing keys of {config.user_id} (master key "
        f"{key_file.keys.master.public}) into {crosssigning.keys_path(config.data_dir)}.\n"
        "Restart the bot: it signs its device with them at start-up."
    )
    return 0
