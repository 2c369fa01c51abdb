"""Cross-signing of the bot's own device, the recovery key, and the device trust policy.

matrix-nio has no cross-signing, so this module does what Element does for a new session:

- three Ed25519 keys (master, self-signing, user-signing) are created once per account and
  uploaded with ``POST /keys/device_signing/upload`` (user-interactive authentication with
  the bot's password where the homeserver asks for it);
- the bot's device is signed by the self-signing key (``POST /keys/signatures/upload``), so
  clients that exclude devices not cross-signed by their owner (MSC4153, Element's
  "exclude insecure devices") share their room keys with it;
- the private keys are kept in ``<data_dir>/cross-signing.json`` (0600) and also in the
  account's server-side secret storage (4S, ``m.secret_storage.v1.aes-hmac-sha2``),
  encrypted with a secret-storage key that is shown to the operator as a standard Matrix
  recovery key (base58, prefix 0x8B 0x01, parity byte). That is the same recovery key that
  Element asks for under "Verify with recovery key".

Signatures use the Ed25519 implementation of PyCryptodome; signed JSON is Matrix canonical
JSON from `canonicaljson`. Nothing here logs a private key, the recovery key or a password.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from nio import AsyncClient

from bot.crypto.primitives import (
    CrossSigningError,
    RecoveryKeyError,
    SigningKey,
    b64decode,
    b64encode,
    decode_recovery_key,
    decrypt_secret,
    encode_recovery_key,
    encrypt_secret,
    key_description,
    key_from_passphrase,
    key_matches,
    new_key_id,
    sign_json,
    single_key,
    verify_signature,
)

log = logging.getLogger(__name__)

KEYS_FILE = "cross-signing.json"
SECRET_NAMES = {
    "master": "m.cross_signing.master",
    "self_signing": "m.cross_signing.self_signing",
    "user_signing": "m.cross_signing.user_signing",
}
DEFAULT_KEY_TYPE = "m.secret_storage.default_key"
CLIENT_API = "/_matrix/client/v3"


# --------------------------------------------------------------------------- key material


@dataclass
class CrossSigningKeys:
    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(SigningKey.generate(), SigningKey.generate(), SigningKey.generate())

    def by_name(self) -> dict[str, SigningKey]:
        return {
            "master": self.master,
            "self_signing": self.self_signing,
            "user_signing": self.user_signing,
        }

    def upload_body(self, user_id: str) -> dict[str, Any]:
        """The body of /keys/device_signing/upload: sub-keys signed by the master key."""

        def key_obj(key: SigningKey, usage: str) -> dict[str, Any]:
            return {"user_id": user_id, "usage": [usage], "keys": {key.key_id: key.public}}

        return {
            "master_key": key_obj(self.master, "master"),
            "self_signing_key": sign_json(
                key_obj(self.self_signing, "self_signing"), user_id, self.master
            ),
            "user_signing_key": sign_json(
                key_obj(self.user_signing, "user_signing"), user_id, self.master
            ),
        }


@dataclass
class KeyFile:
    """What the bot keeps in <data_dir>/cross-signing.json."""

    user_id: str
    keys: CrossSigningKeys
    ssss_key_id: str | None = None
    ssss_key: bytes | None = None

    def recovery_key(self) -> str | None:
        return encode_recovery_key(self.ssss_key) if self.ssss_key is not None else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": 1,
            "user_id": self.user_id,
            "master_public": self.keys.master.public,
        }
        for name, key in self.keys.by_name().items():
            data[name] = b64encode(key.seed)
        if self.ssss_key is not None:
            data["secret_storage"] = {"key_id": self.ssss_key_id, "key": b64encode(self.ssss_key)}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyFile:
        keys = CrossSigningKeys(
            SigningKey(b64decode(data["master"])),
            SigningKey(b64decode(data["self_signing"])),
            SigningKey(b64decode(data["user_signing"])),
        )
        storage = data.get("secret_storage") or {}
        key = storage.get("key")
        return cls(
            user_id=str(data["user_id"]),
            keys=keys,
            ssss_key_id=storage.get("key_id"),
            ssss_key=b64decode(key) if key else None,
        )


def keys_path(data_dir: Path) -> Path:
    return data_dir / KEYS_FILE


def load_keys(data_dir: Path) -> KeyFile | None:
    path = keys_path(data_dir)
    if not path.exists():
        return None
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s is readable by others (mode %o); setting it to 0600", path, mode)
        path.chmod(0o600)
    return KeyFile.from_json(json.loads(path.read_text("utf-8")))


def save_keys(data_dir: Path, key_file: KeyFile) -> None:
    """Written 0600 from the first byte on, then moved into place."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys_path(data_dir)
    tmp = path.with_suffix(".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(key_file.to_json(), fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# --------------------------------------------------------------------------- server view


@dataclass
class Identity:
    """What /keys/query says about one user's cross-signing, with the signatures checked."""

    user_id: str
    master: str | None = None
    self_signing: str | None = None
    user_signing: str | None = None
    # The self-signing key carries a valid signature of the master key.
    self_signing_valid: bool = False
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)

    def device_cross_signed(self, device_id: str) -> bool:
        """Signed by its owner: device ← self-signing key ← master key, all valid."""
        device = self.devices.get(device_id)
        if device is None or not self.self_signing_valid or self.self_signing is None:
            return False
        return verify_signature(device, self.user_id, self.self_signing)


def parse_identity(query: Mapping[str, Any], user_id: str) -> Identity:
    ident = Identity(user_id)
    master_obj = (query.get("master_keys") or {}).get(user_id)
    ssk_obj = (query.get("self_signing_keys") or {}).get(user_id)
    usk_obj = (query.get("user_signing_keys") or {}).get(user_id)
    ident.master = single_key(master_obj, "master")
    ident.self_signing = single_key(ssk_obj, "self_signing")
    ident.user_signing = single_key(usk_obj, "user_signing")
    if ident.master and ident.self_signing and isinstance(ssk_obj, Mapping):
        ident.self_signing_valid = verify_signature(ssk_obj, user_id, ident.master)
    devices = (query.get("device_keys") or {}).get(user_id) or {}
    ident.devices = {str(k): v for k, v in devices.items() if isinstance(v, dict)}
    return ident


# --------------------------------------------------------------------------- HTTP


class MatrixApi:
    """The few client-server calls this module needs, as JSON, over nio's HTTP session."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        if self.client.client_session is None:
            # What nio's own request methods do first (their decorator is not public).
            self.client.client_session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.client.config.request_timeout)
            )
        resp = await self.client.send(method, CLIENT_API + path, data, headers)
        try:
            decoded = await resp.json(content_type=None)
        except ValueError:
            decoded = {}
        finally:
            resp.release()
        return resp.status, decoded if isinstance(decoded, dict) else {}

    async def keys_query(self, user_ids: Iterable[str]) -> dict[str, Any]:
        status, body = await self.request(
            "POST", "/keys/query", {"device_keys": {u: [] for u in user_ids}}
        )
        if status != 200:
            raise CrossSigningError(f"/keys/query failed ({status}): {_errtext(body)}")
        return body

    def _account_data_path(self, user_id: str, event_type: str) -> str:
        return f"/user/{quote(user_id, safe='')}/account_data/{quote(event_type, safe='')}"

    async def get_account_data(self, user_id: str, event_type: str) -> dict[str, Any] | None:
        status, body = await self.request("GET", self._account_data_path(user_id, event_type))
        if status == 404:
            return None
        if status != 200:
            raise CrossSigningError(f"reading {event_type} failed ({status}): {_errtext(body)}")
        return body

    async def put_account_data(
        self, user_id: str, event_type: str, content: Mapping[str, Any]
    ) -> None:
        status, body = await self.request(
            "PUT", self._account_data_path(user_id, event_type), content
        )
        if status != 200:
            raise CrossSigningError(f"storing {event_type} failed ({status}): {_errtext(body)}")


def _errtext(body: Mapping[str, Any]) -> str:
    return f"{body.get('errcode', '')} {body.get('error', '')}".strip() or "no details"


async def upload_signing_keys(
    api: MatrixApi, user_id: str, body: Mapping[str, Any], password: str | None
) -> None:
    """POST /keys/device_signing/upload, answering user-interactive auth with the password."""
    status, resp = await api.request("POST", "/keys/device_signing/upload", body)
    if status == 200:
        return
    if status == 401 and "flows" in resp:
        flows = [f.get("stages") or [] for f in resp.get("flows") or []]
        if password is None:
            raise CrossSigningError(
                "the homeserver wants the account password to publish the cross-signing keys; "
                "set `password` (or GREMIENBOT_PASSWORD) for one start, or give the recovery "
                "key of keys set up elsewhere (encryption.recovery_key / GREMIENBOT_RECOVERY_KEY)"
            )
        if ["m.login.password"] not in flows:
            raise CrossSigningError(
                f"the homeserver offers no password step to publish the keys (flows: {flows})"
            )
        authed = dict(body)
        authed["auth"] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
            "session": resp.get("session"),
        }
        status, resp = await api.request("POST", "/keys/device_signing/upload", authed)
        if status == 200:
            return
    raise CrossSigningError(
        f"the homeserver refused the cross-signing keys ({status}): {_errtext(resp)}"
    )


async def sign_device(
    api: MatrixApi, user_id: str, keys: CrossSigningKeys, device: Mapping[str, Any]
) -> None:
    """Sign the device keys (as the server has them) with the self-signing key and upload."""
    device_id = str(device["device_id"])
    signed = sign_json(device, user_id, keys.self_signing)
    status, resp = await api.request(
        "POST", "/keys/signatures/upload", {user_id: {device_id: signed}}
    )
    failures = (resp.get("failures") or {}).get(user_id, {}) if status == 200 else {}
    if status != 200 or device_id in failures:
        detail = failures.get(device_id) if failures else resp
        raise CrossSigningError(f"signing device {device_id} was refused: {detail}")


# --------------------------------------------------------------------------- secret storage I/O


async def store_in_secret_storage(api: MatrixApi, key_file: KeyFile) -> None:
    """Put the three private keys into the account's 4S under the key file's 4S key."""
    assert key_file.ssss_key is not None
    assert key_file.ssss_key_id is not None
    user_id, key, key_id = key_file.user_id, key_file.ssss_key, key_file.ssss_key_id
    await api.put_account_data(
        user_id, f"m.secret_storage.key.{key_id}", key_description(key, "gremienbot recovery key")
    )
    for name, signing_key in key_file.keys.by_name().items():
        secret = b64encode(signing_key.seed)
        await api.put_account_data(
            user_id,
            SECRET_NAMES[name],
            {"encrypted": {key_id: encrypt_secret(key, SECRET_NAMES[name], secret)}},
        )
    await api.put_account_data(user_id, DEFAULT_KEY_TYPE, {"key": key_id})


async def read_secret_storage_key(api: MatrixApi, user_id: str, recovery: str) -> tuple[str, bytes]:
    """Find the account's default 4S key and check that `recovery` opens it."""
    default = await api.get_account_data(user_id, DEFAULT_KEY_TYPE)
    key_id = (default or {}).get("key")
    if not key_id:
        raise CrossSigningError(
            f"{user_id} has no secret storage (no {DEFAULT_KEY_TYPE}): nothing to restore from"
        )
    description = await api.get_account_data(user_id, f"m.secret_storage.key.{key_id}") or {}
    try:
        key = decode_recovery_key(recovery)
    except RecoveryKeyError as exc:
        from_passphrase = key_from_passphrase(recovery, description)
        if from_passphrase is None:
            raise CrossSigningError(f"not a valid recovery key: {exc}") from None
        key = from_passphrase
    if not key_matches(key, description):
        raise CrossSigningError(
            f"this recovery key does not open the account's secret storage (default key {key_id})"
        )
    return str(key_id), key


async def restore_from_secret_storage(api: MatrixApi, user_id: str, recovery: str) -> KeyFile:
    """The cross-signing private keys from 4S, checked against the published public keys."""
    key_id, key = await read_secret_storage_key(api, user_id, recovery)
    seeds: dict[str, SigningKey] = {}
    for name, secret_name in SECRET_NAMES.items():
        stored = await api.get_account_data(user_id, secret_name)
        payload = ((stored or {}).get("encrypted") or {}).get(key_id)
        if payload is None:
            raise CrossSigningError(f"secret storage holds no {secret_name} for this key")
        seeds[name] = SigningKey(b64decode(decrypt_secret(key, secret_name, payload)))
    keys = CrossSigningKeys(seeds["master"], seeds["self_signing"], seeds["user_signing"])
    ident = parse_identity(await api.keys_query([user_id]), user_id)
    published = {
        "master": ident.master,
        "self_signing": ident.self_signing,
        "user_signing": ident.user_signing,
    }
    for name, signing_key in keys.by_name().items():
        if published[name] != signing_key.public:
            raise CrossSigningError(
                f"the {name} key in secret storage is not the one the homeserver publishes "
                "(the identity was reset after these keys were stored)"
            )
    return KeyFile(user_id=user_id, keys=keys, ssss_key_id=key_id, ssss_key=key)


# --------------------------------------------------------------------------- set-up


@dataclass
class SetupResult:
    ok: bool
    message: str
    master_key: str | None = None
    created: bool = False
    restored: bool = False
    reset: bool = False
    device_signed: bool = False


async def ensure_cross_signing(
    api: MatrixApi,
    *,
    user_id: str,
    device_id: str,
    data_dir: Path,
    password: str | None,
    recovery_key: str | None = None,
    allow_reset: bool = False,
) -> SetupResult:
    """Make the account's cross-signing identity the bot's own and sign the current device.

    Never replaces an identity the bot has no keys for unless `allow_reset` is set.
    """
    ident = parse_identity(await api.keys_query([user_id]), user_id)
    local = load_keys(data_dir)
    if local is not None and local.user_id != user_id:
        raise CrossSigningError(
            f"{keys_path(data_dir)} holds the keys of {local.user_id}, not of {user_id}"
        )
    created = restored = reset = False

    if local is not None and ident.master == local.keys.master.public:
        key_file = local
    elif ident.master is None:
        # First set-up (or the keys were created here but never reached the server).
        key_file = local or KeyFile(user_id, CrossSigningKeys.generate())
        if key_file.ssss_key is None:
            key_file.ssss_key, key_file.ssss_key_id = secrets.token_bytes(32), new_key_id()
        save_keys(data_dir, key_file)  # before the upload: never a published key we lack
        await upload_signing_keys(api, user_id, key_file.keys.upload_body(user_id), password)
        await store_in_secret_storage(api, key_file)
        created = local is None
        log.info("created cross-signing identity %s", key_file.keys.master.public)
    elif recovery_key:
        key_file = await restore_from_secret_storage(api, user_id, recovery_key)
        save_keys(data_dir, key_file)
        restored = True
        log.info("restored cross-signing identity %s from secret storage", ident.master)
    elif allow_reset:
        if password is None:
            raise CrossSigningError(
                "replacing the cross-signing identity needs the account password"
            )
        key_file = KeyFile(
            user_id, CrossSigningKeys.generate(), new_key_id(), secrets.token_bytes(32)
        )
        save_keys(data_dir, key_file)
        await upload_signing_keys(api, user_id, key_file.keys.upload_body(user_id), password)
        await store_in_secret_storage(api, key_file)
        reset = True
        log.warning(
            "replaced the cross-signing identity %s by %s (encryption.allow_identity_reset)",
            ident.master,
            key_file.keys.master.public,
        )
    else:
        where = "differ from" if local is not None else "are missing for"
        return SetupResult(
            ok=False,
            master_key=ident.master,
            message=(
                f"{user_id} already has a cross-signing identity (master key {ident.master}) "
                f"and the bot's private keys {where} it. Give its recovery key "
                "(`gremienbot crypto import-recovery-key`, encryption.recovery_key or "
                "GREMIENBOT_RECOVERY_KEY), or set encryption.allow_identity_reset: true once "
                "to replace it (members' clients will then show that the bot's identity "
                "changed). The device stays unsigned until then."
            ),
        )

    if not (created or reset):
        await _repair_secret_storage(api, key_file, data_dir)

    if created or reset:
        ident = parse_identity(await api.keys_query([user_id]), user_id)
    device = ident.devices.get(device_id)
    if device is None:
        raise CrossSigningError(f"the homeserver has no keys for device {device_id} yet")
    if not ident.device_cross_signed(device_id):
        await sign_device(api, user_id, key_file.keys, device)
        ident = parse_identity(await api.keys_query([user_id]), user_id)
    signed = ident.device_cross_signed(device_id)
    return SetupResult(
        ok=signed,
        master_key=key_file.keys.master.public,
        created=created,
        restored=restored,
        reset=reset,
        device_signed=signed,
        message=(
            f"device {device_id} is cross-signed by {user_id} (master key "
            f"{key_file.keys.master.public})"
            if signed
            else f"device {device_id} is still not cross-signed after signing it"
        ),
    )


async def _repair_secret_storage(api: MatrixApi, key_file: KeyFile, data_dir: Path) -> None:
    """Keys the bot has but 4S lacks (e.g. an interrupted first start) are stored again."""
    default = await api.get_account_data(key_file.user_id, DEFAULT_KEY_TYPE)
    if default and default.get("key"):
        return  # 4S exists (the bot's or the operator's): leave it as it is
    if key_file.ssss_key is None:
        key_file.ssss_key, key_file.ssss_key_id = secrets.token_bytes(32), new_key_id()
        save_keys(data_dir, key_file)
    await store_in_secret_storage(api, key_file)
    log.info("stored the cross-signing keys in the account's secret storage")


async def import_recovery_key(
    api: MatrixApi, user_id: str, data_dir: Path, recovery: str
) -> KeyFile:
    """Restore the keys from 4S with `recovery` and keep them in the data directory."""
    key_file = await restore_from_secret_storage(api, user_id, recovery)
    save_keys(data_dir, key_file)
    return key_file
