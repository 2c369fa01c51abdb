"""Recovery keys, secret storage and signed JSON, checked against values from matrix-js-sdk.

The expected values were produced by matrix-js-sdk 43 (encodeRecoveryKey,
encryptAESSecretStorageItem, calculateKeyCheck) — the code Element runs — so these
tests pin the bot's formats to Element's, not to themselves.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import nacl.signing
import pytest

from bot.crypto import crosssigning as cs
from bot.crypto import primitives as cp

KEY = bytes(i * 7 % 256 for i in range(32))
IV = bytes(range(16))


def _x(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


def test_recovery_key_is_encoded_as_element_does() -> None:
    assert (
        cp.encode_recovery_key(KEY) == "EsSz z9tE P7v3 2x3J pej9 kEu3 wFRg Cohn LtKd CcAP Gyjg nnbj"
    )
    assert (
        cp.encode_recovery_key(bytes(32))
        == "EsSz ygLv VP1b xF1C v7kE eBQx MxDP buG5 w25T L3b6 hfyG Kkrd"
    )


def test_recovery_key_round_trip_ignores_spacing() -> None:
    text = cp.encode_recovery_key(KEY)
    assert cp.decode_recovery_key(text) == KEY
    assert cp.decode_recovery_key(text.replace(" ", "")) == KEY
    assert cp.decode_recovery_key("  " + text.replace(" ", "\n") + " ") == KEY


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("EsSz z9tE P7v3 2x3J pej9 kEu3 wFRg Cohn LtKd CcAP Gyjg nnbk", "typo"),
        ("EsSz z9tE P7v3 0x3J", "does not occur"),
        (cp.b58encode(b"\x8b\x02" + KEY + bytes([0x8B ^ 0x02 ^ _x(KEY)])), "prefix"),
    ],
)
def test_broken_recovery_keys_are_refused_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(cp.RecoveryKeyError, match=problem):
        cp.decode_recovery_key(text)


def test_wrong_length_is_refused() -> None:
    raw = b"\x8b\x01" + KEY[:31]
    with pytest.raises(cp.RecoveryKeyError, match="length"):
        cp.decode_recovery_key(cp.b58encode(raw + bytes([_x(raw)])))


def test_base58_keeps_leading_zero_bytes() -> None:
    for data in (b"", b"\0", b"\0\0\x01", b"\xff" * 5, bytes(range(40))):
        assert cp.b58decode(cp.b58encode(data)) == data


def test_secret_storage_encryption_matches_element() -> None:
    encrypted = cp.encrypt_secret(KEY, "m.cross_signing.master", "c2VjcmV0IHNlZWQ", iv=IV)
    assert encrypted == {
        "iv": "AAECAwQFBgcICQoLDA0ODw==",
        "ciphertext": "GJhygvMNQK9vCnxufTMG",
        "mac": "NgcazyRFwGyqBdNs3hrbHHkoVu7aJd5bBAsKhTkw/C4=",
    }
    assert cp.decrypt_secret(KEY, "m.cross_signing.master", encrypted) == "c2VjcmV0IHNlZWQ"


def test_secret_storage_key_check_matches_element() -> None:
    description = {
        "algorithm": cp.SSSS_ALGORITHM,
        "iv": "AAECAwQFBgcICQoLDA0ODw==",
        "mac": "YbPO5C9nCzgZDxxedCxSqGSN9SrskNCFfpHaJbtwx2I=",
    }
    assert cp.key_matches(KEY, description)
    assert not cp.key_matches(bytes(32), description)
    fresh = cp.key_description(KEY)
    assert cp.key_matches(KEY, fresh)
    assert not cp.key_matches(bytes(32), fresh)
    assert base64_bit63_clear(fresh["iv"])


def base64_bit63_clear(iv_b64: str) -> bool:
    return cp.b64decode(iv_b64)[8] & 0x80 == 0


def test_a_secret_opened_with_the_wrong_key_is_refused() -> None:
    encrypted = cp.encrypt_secret(KEY, "m.cross_signing.master", "x")
    with pytest.raises(cs.CrossSigningError, match="does not belong"):
        cp.decrypt_secret(bytes(32), "m.cross_signing.master", encrypted)
    with pytest.raises(cs.CrossSigningError):
        cp.decrypt_secret(KEY, "m.cross_signing.self_signing", encrypted)


def test_signatures_verify_with_pynacl_over_canonical_json() -> None:
    key = cp.SigningKey(bytes(range(32)))
    obj = {"user_id": "@b:x", "usage": ["self_signing"], "keys": {"ed25519:k": "k"}, "ä": 1}
    signed = cp.sign_json(dict(obj, unsigned={"x": 1}), "@b:x", key)
    assert "unsigned" not in signed
    sig = signed["signatures"]["@b:x"][key.key_id]
    # Canonical JSON written out independently: sorted keys, no spaces, UTF-8.
    message = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    nacl.signing.VerifyKey(cp.b64decode(key.public)).verify(message, cp.b64decode(sig))
    assert cp.verify_signature(signed, "@b:x", key.public)
    tampered = dict(signed, usage=["master"])
    assert not cp.verify_signature(tampered, "@b:x", key.public)
    assert not cp.verify_signature(signed, "@other:x", key.public)


def test_upload_body_has_sub_keys_signed_by_the_master_key() -> None:
    keys = cs.CrossSigningKeys.generate()
    body = keys.upload_body("@bot:x")
    assert body["master_key"]["keys"] == {keys.master.key_id: keys.master.public}
    for name in ("self_signing_key", "user_signing_key"):
        assert cp.verify_signature(body[name], "@bot:x", keys.master.public)
    query = {
        "master_keys": {"@bot:x": body["master_key"]},
        "self_signing_keys": {"@bot:x": body["self_signing_key"]},
        "device_keys": {
            "@bot:x": {"DEV": cp.sign_json({"device_id": "DEV"}, "@bot:x", keys.self_signing)}
        },
    }
    ident = cs.parse_identity(query, "@bot:x")
    assert ident.self_signing_valid
    assert ident.device_cross_signed("DEV")
    assert not ident.device_cross_signed("OTHER")
    query["self_signing_keys"]["@bot:x"] = {
        "user_id": "@bot:x",
        "usage": ["self_signing"],
        "keys": {keys.self_signing.key_id: keys.self_signing.public},
    }
    assert not cs.parse_identity(query, "@bot:x").device_cross_signed("DEV"), (
        "a self-signing key without the master key's signature vouches for nothing"
    )


def test_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    key_file = cs.KeyFile("@bot:x", cs.CrossSigningKeys.generate(), "KID", KEY)
    cs.save_keys(tmp_path, key_file)
    path = cs.keys_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = cs.load_keys(tmp_path)
    assert loaded is not None
    assert loaded.keys.master.public == key_file.keys.master.public
    assert loaded.keys.self_signing.seed == key_file.keys.self_signing.seed
    assert loaded.recovery_key() == cp.encode_recovery_key(KEY)
    assert "seed" not in repr(loaded.keys.master)
    assert key_file.keys.master.public in repr(loaded.keys.master)


def test_key_file_readable_by_others_is_tightened(tmp_path: Path) -> None:
    cs.save_keys(tmp_path, cs.KeyFile("@bot:x", cs.CrossSigningKeys.generate()))
    path = cs.keys_path(tmp_path)
    path.chmod(0o644)
    assert cs.load_keys(tmp_path) is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_passphrase_keys_are_derived_with_pbkdf2() -> None:
    info = {"algorithm": "m.pbkdf2", "salt": "salt", "iterations": 10, "bits": 256}
    key = cp.key_from_passphrase("geheim", {"passphrase": info})
    assert key is not None
    assert len(key) == 32
    assert cp.key_from_passphrase("geheim", {}) is None
