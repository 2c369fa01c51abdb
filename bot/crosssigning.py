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

Signatures use the Ed25519 implementation of `cryptography`; signed JSON is Matrix canonical
JSON from `canonicaljson`. Nothing here logs a private key, the recovery key or a password.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from canonicaljson import encode_canonical_json
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from nio import AsyncClient, KeysQueryResponse

log = logging.getLogger(__name__)

KEYS_FILE = "cross-signing.json"
SSSS_ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2"
SECRET_NAMES = {
    "master": "m.cross_signing.master",
    "self_signing": "m.cross_signing.self_signing",
    "user_signing": "m.cross_signing.user_signing",
}
DEFAULT_KEY_TYPE = "m.secret_storage.default_key"
RECOVERY_KEY_PREFIX = b"\x8b\x01"
CLIENT_API = "/_matrix/client/v3"


class CrossSigningError(Exception):
    """Cross-signing could not be set up; the message tells the operator what to do."""


class RecoveryKeyError(ValueError):
    """The text is not a (valid) Matrix recovery key."""


# --------------------------------------------------------------------------- encodings


def b64encode(data: bytes) -> str:
    """Unpadded standard base64, as Matrix writes keys and signatures."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64decode(text: str) -> bytes:
    """Standard base64, padded or not."""
    text = text.strip()
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}


def b58encode(data: bytes) -> str:
    """Base58 with the Bitcoin alphabet (the encoding of Matrix recovery keys)."""
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rest = divmod(number, 58)
        out.append(_B58_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        try:
            number = number * 58 + _B58_INDEX[char]
        except KeyError:
            raise RecoveryKeyError(
                f"the character {char!r} does not occur in recovery keys"
            ) from None
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode_recovery_key(key: bytes) -> str:
    """The Matrix recovery key of a 32-byte secret-storage key, in groups of four."""
    if len(key) != 32:
        raise ValueError("a recovery key encodes exactly 32 bytes")
    raw = RECOVERY_KEY_PREFIX + key
    parity = 0
    for byte in raw:
        parity ^= byte
    encoded = b58encode(raw + bytes([parity]))
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def decode_recovery_key(text: str) -> bytes:
    """The 32-byte key of a recovery key; spaces and line breaks are ignored."""
    compact = "".join(text.split())
    if not compact:
        raise RecoveryKeyError("the recovery key is empty")
    raw = b58decode(compact)
    parity = 0
    for byte in raw:
        parity ^= byte
    if parity != 0:
        raise RecoveryKeyError("the recovery key has a typo (its check byte does not match)")
    if raw[:2] != RECOVERY_KEY_PREFIX:
        raise RecoveryKeyError("this is not a Matrix recovery key (wrong prefix)")
    if len(raw) != len(RECOVERY_KEY_PREFIX) + 32 + 1:
        raise RecoveryKeyError("the recovery key has the wrong length")
    return raw[2:-1]


def recovery_key_fingerprint(key: bytes) -> str:
    """A short, non-secret name for a secret-storage key (for logs and status output)."""
    return hashlib.sha256(b"gremienbot recovery key id" + key).hexdigest()[:12]


# --------------------------------------------------------------------------- Ed25519 / JSON


class SigningKey:
    """An Ed25519 key pair from its 32-byte seed (the form Matrix exports private keys in)."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed has 32 bytes")
        self.seed = seed
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public = b64encode(public)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(secrets.token_bytes(32))

    @property
    def key_id(self) -> str:
        return f"ed25519:{self.public}"

    def sign(self, message: bytes) -> str:
        return b64encode(self._private.sign(message))

    def __repr__(self) -> str:  # never show the seed
        return f"<SigningKey {self.public}>"


def canonical_json(obj: Mapping[str, Any]) -> bytes:
    """The bytes a Matrix signature covers: the object without signatures and unsigned."""
    stripped = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    return bytes(encode_canonical_json(stripped))


def sign_json(obj: Mapping[str, Any], user_id: str, key: SigningKey) -> dict[str, Any]:
    """A copy of `obj` with `key`'s signature added (existing signatures are kept)."""
    signed = json.loads(json.dumps(obj))
    signed.pop("unsigned", None)
    signature = key.sign(canonical_json(signed))
    signed.setdefault("signatures", {}).setdefault(user_id, {})[key.key_id] = signature
    return signed


def verify_signature(obj: Mapping[str, Any], user_id: str, public_key: str) -> bool:
    """Whether `obj` carries a valid signature of `user_id` made by the Ed25519 `public_key`."""
    try:
        signature = obj["signatures"][user_id][f"ed25519:{public_key}"]
        verifier = Ed25519PublicKey.from_public_bytes(b64decode(public_key))
        verifier.verify(b64decode(signature), canonical_json(obj))
    except (KeyError, TypeError, ValueError, InvalidSignature):
        return False
    return True


def _single_key(key_obj: Mapping[str, Any] | None, usage: str) -> str | None:
    """The public key of a cross-signing key object, if it is well-formed for `usage`."""
    if not isinstance(key_obj, Mapping) or usage not in (key_obj.get("usage") or []):
        return None
    keys = key_obj.get("keys") or {}
    if len(keys) != 1:
        return None
    ((key_id, public),) = keys.items()
    if not isinstance(public, str) or key_id != f"ed25519:{public}":
        return None
    return public


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


# --------------------------------------------------------------------------- secret storage


def _derive(key: bytes, name: str) -> tuple[bytes, bytes]:
    """HKDF-SHA-256 with a zero salt and the secret's name: AES key and HMAC key."""
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=bytes(32), info=name.encode()).derive(key)
    return okm[:32], okm[32:]


def encrypt_secret(
    key: bytes, name: str, plaintext: str, iv: bytes | None = None
) -> dict[str, str]:
    """Encrypt one secret for 4S: AES-256-CTR and HMAC-SHA-256 over the ciphertext."""
    aes_key, mac_key = _derive(key, name)
    if iv is None:
        raw_iv = bytearray(secrets.token_bytes(16))
        raw_iv[8] &= 0x7F  # as every Matrix client does: keeps the 64-bit counter from wrapping
        iv = bytes(raw_iv)
    encryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(plaintext.encode()) + encryptor.finalize()
    mac = hmac.new(mac_key, ciphertext, hashlib.sha256).digest()
    return {
        "iv": base64.b64encode(iv).decode(),
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "mac": base64.b64encode(mac).decode(),
    }


def decrypt_secret(key: bytes, name: str, payload: Mapping[str, Any]) -> str:
    aes_key, mac_key = _derive(key, name)
    try:
        iv = b64decode(str(payload["iv"]))
        ciphertext = b64decode(str(payload["ciphertext"]))
        mac = b64decode(str(payload["mac"]))
    except (KeyError, ValueError) as exc:
        raise CrossSigningError(f"secret {name} in secret storage is malformed") from exc
    expected = hmac.new(mac_key, ciphertext, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise CrossSigningError(f"secret {name} does not belong to this recovery key")
    decryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).decryptor()
    return (decryptor.update(ciphertext) + decryptor.finalize()).decode()


def key_description(key: bytes, name: str = "gremienbot") -> dict[str, Any]:
    """The public description of a secret-storage key, with the check value clients verify."""
    check = encrypt_secret(key, "", "\0" * 32)
    return {"name": name, "algorithm": SSSS_ALGORITHM, "iv": check["iv"], "mac": check["mac"]}


def key_matches(key: bytes, description: Mapping[str, Any]) -> bool:
    if description.get("algorithm") != SSSS_ALGORITHM:
        return False
    if "iv" not in description or "mac" not in description:
        return True  # no check value published: nothing to compare with
    check = encrypt_secret(key, "", "\0" * 32, iv=b64decode(str(description["iv"])))
    return check["mac"].rstrip("=") == str(description["mac"]).rstrip("=")


def key_from_passphrase(passphrase: str, description: Mapping[str, Any]) -> bytes | None:
    """The key of a secret-storage key defined by a passphrase (m.pbkdf2), if it is one."""
    info = description.get("passphrase")
    if not isinstance(info, Mapping) or info.get("algorithm") != "m.pbkdf2":
        return None
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA512(),
        length=int(info.get("bits", 256)) // 8,
        salt=str(info["salt"]).encode(),
        iterations=int(info["iterations"]),
    )
    return kdf.derive(passphrase.encode())


def new_key_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


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
    ident.master = _single_key(master_obj, "master")
    ident.self_signing = _single_key(ssk_obj, "self_signing")
    ident.user_signing = _single_key(usk_obj, "user_signing")
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
    assert key_file.ssss_key is not None and key_file.ssss_key_id is not None
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
