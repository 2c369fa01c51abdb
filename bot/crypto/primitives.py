"""Cryptographic building blocks of cross-signing: encodings, signed JSON, secret storage.

Pure functions over bytes and dicts, no network: the Matrix recovery-key encoding (base58,
prefix 0x8B 0x01, parity byte), Ed25519 signing of Matrix canonical JSON (`canonicaljson`),
and the encryption of secrets for server-side secret storage
(`m.secret_storage.v1.aes-hmac-sha2`).

The primitives come from PyCryptodome, which matrix-nio loads anyway (its attachment
encryption): the `cryptography` package would add about 8 MB to the running bot's resident
memory for the same four algorithms (issue 21's memory budget).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
from collections.abc import Mapping
from typing import Any, cast

from canonicaljson import encode_canonical_json
from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

SSSS_ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2"
RECOVERY_KEY_PREFIX = b"\x8b\x01"


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
        pair = ECC.construct(curve="Ed25519", seed=seed)
        self._signer = eddsa.new(pair, "rfc8032")
        self.public = b64encode(pair.public_key().export_key(format="raw"))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(secrets.token_bytes(32))

    @property
    def key_id(self) -> str:
        return f"ed25519:{self.public}"

    def sign(self, message: bytes) -> str:
        return b64encode(self._signer.sign(message))

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
        verifier = eddsa.new(eddsa.import_public_key(b64decode(public_key)), "rfc8032")
        # A wrong signature raises ValueError too.
        verifier.verify(canonical_json(obj), b64decode(signature))
    except (KeyError, TypeError, ValueError):
        return False
    return True


def single_key(key_obj: Mapping[str, Any] | None, usage: str) -> str | None:
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


# --------------------------------------------------------------------------- secret storage


def _derive(key: bytes, name: str) -> tuple[bytes, bytes]:
    """HKDF-SHA-256 with a zero salt and the secret's name: AES key and HMAC key."""
    # One 64-byte output (num_keys=1 returns bytes), split as the specification splits it.
    okm = cast(bytes, HKDF(key, 64, bytes(32), SHA256, context=name.encode()))
    return okm[:32], okm[32:]


def _ctr(aes_key: bytes, iv: bytes) -> Any:
    """AES-256-CTR whose 16-byte IV is the whole initial counter block, as Matrix uses it."""
    if len(iv) != 16:
        raise ValueError("an AES-CTR IV has 16 bytes")
    return AES.new(aes_key, AES.MODE_CTR, nonce=b"", initial_value=iv)


def encrypt_secret(
    key: bytes, name: str, plaintext: str, iv: bytes | None = None
) -> dict[str, str]:
    """Encrypt one secret for 4S: AES-256-CTR and HMAC-SHA-256 over the ciphertext."""
    aes_key, mac_key = _derive(key, name)
    if iv is None:
        raw_iv = bytearray(secrets.token_bytes(16))
        raw_iv[8] &= 0x7F  # as every Matrix client does: keeps the 64-bit counter from wrapping
        iv = bytes(raw_iv)
    ciphertext = _ctr(aes_key, iv).encrypt(plaintext.encode())
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
    return _ctr(aes_key, iv).decrypt(ciphertext).decode()


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
    return hashlib.pbkdf2_hmac(
        "sha512",
        passphrase.encode(),
        str(info["salt"]).encode(),
        int(info["iterations"]),
        dklen=int(info.get("bits", 256)) // 8,
    )


def new_key_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))
