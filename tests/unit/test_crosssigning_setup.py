"""Set-up decisions, user-interactive auth, the undecryptable count and the config section."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.crypto import crosssigning as cs
from bot.crypto import status as crypto_status
from storage.db import Database
from storage.migrate import upgrade

USER = "@bot:example.org"


class FakeApi(cs.MatrixApi):
    """Answers like a homeserver that wants UIA for device_signing/upload.

    Its own `request` stands in for the HTTP calls: the account data methods are
    MatrixApi's and go through it, and no client is needed.
    """

    def __init__(self, *, uia: bool = True) -> None:
        self.uia = uia
        self.calls: list[tuple[str, str, Any]] = []
        self.account_data: dict[str, Any] = {}
        self.published: dict[str, Any] = {}
        self.device = {
            "user_id": USER,
            "device_id": "DEV",
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": {"ed25519:DEV": "x", "curve25519:DEV": "y"},
        }

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        self.calls.append((method, path, body))
        if path == "/keys/query":
            out: dict[str, Any] = {"device_keys": {USER: {"DEV": self.device}}}
            if self.published:
                out["master_keys"] = {USER: self.published["master_key"]}
                out["self_signing_keys"] = {USER: self.published["self_signing_key"]}
                out["user_signing_keys"] = {USER: self.published["user_signing_key"]}
            return 200, out
        if path == "/keys/device_signing/upload":
            if self.uia and "auth" not in body:
                return 401, {"session": "S", "flows": [{"stages": ["m.login.password"]}]}
            if self.uia and body["auth"]["password"] != "secret":
                return 401, {"errcode": "M_FORBIDDEN", "flows": []}
            self.published = {k: v for k, v in body.items() if k != "auth"}
            return 200, {}
        if path == "/keys/signatures/upload":
            self.device = body[USER]["DEV"]
            return 200, {"failures": {}}
        if "/account_data/" in path:
            key = path.rsplit("/", 1)[1]
            if method == "PUT":
                self.account_data[key] = body
                return 200, {}
            return (200, self.account_data[key]) if key in self.account_data else (404, {})
        raise AssertionError(path)

    async def keys_query(self, user_ids: Any) -> dict[str, Any]:
        return (await self.request("POST", "/keys/query", {}))[1]


async def _setup(api: FakeApi, tmp_path: Path, password: str | None, **kw: Any) -> cs.SetupResult:
    return await cs.ensure_cross_signing(
        api,
        user_id=USER,
        device_id="DEV",
        data_dir=tmp_path,
        password=password,
        **kw,
    )


async def test_first_start_answers_uia_with_the_password_and_signs_the_device(
    tmp_path: Path,
) -> None:
    api = FakeApi()
    result = await _setup(api, tmp_path, "secret")
    assert result.ok
    assert result.created
    assert result.device_signed
    uploads = [c for c in api.calls if c[1] == "/keys/device_signing/upload"]
    assert len(uploads) == 2
    assert uploads[1][2]["auth"] == {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": USER},
        "password": "secret",
        "session": "S",
    }
    assert "m.secret_storage.default_key" in api.account_data
    assert "secret" not in repr(cs.load_keys(tmp_path))


async def test_without_password_the_operator_is_told_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(cs.CrossSigningError, match="password") as err:
        await _setup(FakeApi(), tmp_path, None)
    assert "GREMIENBOT_RECOVERY_KEY" in str(err.value)
    # The keys were kept before the upload: the next start with a password reuses them.
    assert cs.load_keys(tmp_path) is not None


async def test_homeserver_without_uia_for_first_upload_needs_no_password(tmp_path: Path) -> None:
    result = await _setup(FakeApi(uia=False), tmp_path, None)
    assert result.ok
    assert result.created


async def test_wrong_password_is_reported_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(cs.CrossSigningError) as err:
        await _setup(FakeApi(), tmp_path, "wrong")
    assert "wrong" not in str(err.value)


async def test_foreign_identity_is_neither_replaced_nor_used_without_its_keys(
    tmp_path: Path,
) -> None:
    api = FakeApi(uia=False)
    await _setup(api, tmp_path / "elsewhere", None)  # someone else set the account up
    result = await _setup(api, tmp_path / "bot", "secret")
    assert not result.ok
    assert "recovery key" in result.message
    assert not (tmp_path / "bot" / cs.KEYS_FILE).exists()


async def test_recovery_key_of_the_foreign_identity_is_accepted(tmp_path: Path) -> None:
    api = FakeApi(uia=False)
    await _setup(api, tmp_path / "elsewhere", None)
    first = cs.load_keys(tmp_path / "elsewhere")
    assert first is not None
    result = await _setup(api, tmp_path / "bot", None, recovery_key=first.recovery_key())
    assert result.ok
    assert result.restored
    assert result.master_key == first.keys.master.public


def test_undecryptable_count_covers_the_last_24_hours(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(db.engine)
    now = dt.datetime(2026, 3, 2, 12, 30, tzinfo=dt.UTC)
    with db.session() as s:
        crypto_status.record_undecryptable(s, now - dt.timedelta(hours=30))
        crypto_status.record_undecryptable(s, now - dt.timedelta(hours=5))
        crypto_status.record_undecryptable(s, now)
        crypto_status.record_undecryptable(s, now)
    with db.session() as s:
        assert crypto_status.undecryptable_last_day(s, now) == 3
        assert crypto_status.undecryptable_last_day(s, now + dt.timedelta(days=2)) == 0
        crypto_status.record_undecryptable(s, now + dt.timedelta(days=3))
    with db.session() as s:
        # Old hours are pruned; the value stays small.
        assert len(crypto_status._load(s)) == 1
    db.dispose()


def test_encryption_section_and_recovery_key_from_the_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        'homeserver: "https://m.example.org"\nuser_id: "@bot:example.org"\npassword: "p"\n'
        "encryption:\n  only_cross_signed_devices: true\n  undecryptable_wait_seconds: 2\n"
    )
    config = load_config(cfg, environ={"GREMIENBOT_RECOVERY_KEY": "EsT1 abcd"})
    assert config.encryption.only_cross_signed_devices
    assert config.encryption.undecryptable_wait_seconds == 2
    assert config.encryption.recovery_key is not None
    assert config.encryption.recovery_key.get_secret_value() == "EsT1 abcd"
    assert "EsT1" not in repr(config)
    defaults = load_config(cfg, environ={})
    assert defaults.encryption.recovery_key is None
    assert not defaults.encryption.allow_identity_reset
