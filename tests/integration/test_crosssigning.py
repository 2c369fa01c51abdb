"""The bot cross-signs its own device, keeps its identity, and says when it cannot read.

Signatures are checked here with PyNaCl (libsodium) over canonical JSON written out with
the standard library, independently of the bot, which signs with `cryptography` and
`canonicaljson`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nacl.exceptions
import nacl.signing
import pytest
import vodozemac
from nio.event_builders import ToDeviceMessage

from bot.crypto import status as crypto_status
from bot.crypto.primitives import decode_recovery_key
from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from tests.integration.conftest import BotFactory, MemberFactory, RunningBot

pytestmark = pytest.mark.synapse

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _api(
    synapse: LocalSynapse, token: str, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        synapse.url + "/_matrix/client/v3" + path, data=data, method=method
    )
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    with _OPENER.open(req, timeout=10) as resp:
        return dict(json.loads(resp.read()))


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _canonical(obj: dict[str, Any]) -> bytes:
    stripped = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    return json.dumps(stripped, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def nacl_verified(obj: dict[str, Any], user_id: str, public_key: str) -> bool:
    try:
        signature = obj["signatures"][user_id][f"ed25519:{public_key}"]
        nacl.signing.VerifyKey(_unb64(public_key)).verify(_canonical(obj), _unb64(signature))
    except (KeyError, nacl.exceptions.BadSignatureError):
        return False
    return True


def _only_key(key_obj: dict[str, Any]) -> str:
    ((key_id, public),) = key_obj["keys"].items()
    assert key_id == f"ed25519:{public}"
    return str(public)


def published_identity(synapse: LocalSynapse, token: str, user_id: str) -> dict[str, Any]:
    """/keys/query for `user_id`, with every signature of the chain checked by PyNaCl."""
    query = _api(synapse, token, "POST", "/keys/query", {"device_keys": {user_id: []}})
    master_obj = query["master_keys"][user_id]
    ssk_obj = query["self_signing_keys"][user_id]
    assert master_obj["usage"] == ["master"]
    assert ssk_obj["usage"] == ["self_signing"]
    master, ssk = _only_key(master_obj), _only_key(ssk_obj)
    assert nacl_verified(ssk_obj, user_id, master), "self-signing key not signed by master"
    devices = query["device_keys"][user_id]
    return {
        "master": master,
        "self_signing": ssk,
        "signed_devices": {d for d, obj in devices.items() if nacl_verified(obj, user_id, ssk)},
        "devices": set(devices),
        "query": query,
    }


def _data_dir(bot: RunningBot) -> Path:
    return Path(bot.config.data_dir)


def _cli(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "crypto", *args, "--config", str(config)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("GREMIENBOT")},
    )


async def test_bot_publishes_a_verifiable_identity_and_signs_its_device(
    make_bot: BotFactory, synapse: LocalSynapse
) -> None:
    bot = await make_bot()
    client = bot.client
    ident = published_identity(synapse, client.access_token, bot.user_id)

    assert client.device_id in ident["signed_devices"], "device not signed by self-signing key"
    usk_obj = ident["query"].get("user_signing_keys", {}).get(bot.user_id)
    if usk_obj is not None:  # only shown to the owner
        assert nacl_verified(usk_obj, bot.user_id, ident["master"])
    assert bot.bot.cross_signing is not None
    assert bot.bot.cross_signing.ok
    assert bot.bot.cross_signing.created

    key_file = _data_dir(bot) / "cross-signing.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(key_file.read_text())["master_public"] == ident["master"]

    # The private keys are also in the account's secret storage, as Element keeps them.
    user = quote(bot.user_id, safe="")
    default = _api(
        synapse,
        client.access_token,
        "GET",
        f"/user/{user}/account_data/m.secret_storage.default_key",
    )
    stored = _api(
        synapse, client.access_token, "GET", f"/user/{user}/account_data/m.cross_signing.master"
    )
    assert default["key"] in stored["encrypted"]


async def test_restart_and_lost_store_keep_the_identity_and_sign_the_new_device(
    make_bot: BotFactory, synapse: LocalSynapse
) -> None:
    bot = await make_bot()
    first_device = bot.client.device_id
    token = bot.client.access_token
    master = published_identity(synapse, token, bot.user_id)["master"]
    await bot.stop()

    again = await make_bot()  # same configuration and data directory
    assert again.client.device_id == first_device
    ident = published_identity(synapse, token, bot.user_id)
    assert ident["master"] == master
    assert first_device in ident["signed_devices"]
    assert again.bot.cross_signing is not None
    assert not again.bot.cross_signing.created
    await again.stop()

    shutil.rmtree(_data_dir(bot) / "crypto-store")
    renewed = await make_bot()
    new_device = renewed.client.device_id
    assert new_device != first_device, "a lost store must mean a new device"
    ident = published_identity(synapse, renewed.client.access_token, bot.user_id)
    assert ident["master"] == master, "no new identity after the store was lost"
    assert new_device in ident["signed_devices"]


async def test_recovery_key_restores_the_identity_after_the_data_directory_is_lost(
    make_bot: BotFactory, synapse: LocalSynapse
) -> None:
    bot = await make_bot()
    config = Path(bot.config.data_dir).parent / "config.yaml"
    master = published_identity(synapse, bot.client.access_token, bot.user_id)["master"]
    await bot.stop()

    exported = _cli(config, "export-recovery-key")
    assert exported.returncode == 0, exported.stderr
    recovery = exported.stdout.strip()
    assert len(decode_recovery_key(recovery)) == 32
    assert "Verify with recovery key" in exported.stderr

    shutil.rmtree(_data_dir(bot))
    # Without its keys the bot must not make itself a new identity behind the operator's back.
    lost = await make_bot()
    assert lost.bot.cross_signing is not None
    assert not lost.bot.cross_signing.ok
    assert "recovery key" in lost.bot.cross_signing.message
    ident = published_identity(synapse, lost.client.access_token, bot.user_id)
    assert ident["master"] == master
    assert lost.client.device_id not in ident["signed_devices"]
    await lost.stop()

    # The operator restores the keys with the recovery key into an empty data directory
    # (the import logs in with a temporary device and removes it again).
    shutil.rmtree(_data_dir(bot))
    imported = _cli(config, "import-recovery-key", "--key-file", "-", stdin=recovery + "\n")
    assert imported.returncode == 0, imported.stderr
    assert master in imported.stdout

    restored = await make_bot()
    device = restored.client.device_id
    token = restored.client.access_token
    ident = published_identity(synapse, token, bot.user_id)
    assert ident["master"] == master
    assert device in ident["signed_devices"]
    devices = _api(synapse, token, "GET", "/devices")["devices"]
    assert not [d for d in devices if d.get("display_name") == "gremienbot key import"]

    status = _cli(config, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"device:                {device}" in status.stdout
    assert "cross-signed:          yes" in status.stdout
    assert "undecryptable (24 h):  0" in status.stdout


async def test_identity_reset_is_explicit_and_authenticated_with_the_password(
    make_bot: BotFactory, synapse: LocalSynapse
) -> None:
    bot = await make_bot()
    old_master = published_identity(synapse, bot.client.access_token, bot.user_id)["master"]
    await bot.stop()
    shutil.rmtree(_data_dir(bot))

    # Replacing an existing identity needs user-interactive auth (m.login.password) on Synapse.
    reset = await make_bot(encryption={"allow_identity_reset": True})
    assert reset.bot.cross_signing is not None
    assert reset.bot.cross_signing.reset
    ident = published_identity(synapse, reset.client.access_token, bot.user_id)
    assert ident["master"] != old_master
    assert reset.client.device_id in ident["signed_devices"]


# --------------------------------------------------------------------------- undecryptable


async def _encrypted_room_with_bot(member: Member, bot: RunningBot) -> str:
    room = await member.create_room("Steuerungsgruppe", encrypted=True, invite=(bot.user_id,))
    await member.wait_for_member(room, bot.user_id)
    await member.send(room, "!hilfe")  # a normal exchange first: Olm sessions both ways
    answer = await member.wait_for_reply(room, bot.user_id, 0)
    assert answer.decrypted
    return room


def _send_with_unshared_session(
    member: Member, room_id: str, body: str
) -> tuple[dict[str, Any], vodozemac.GroupSession, str, str]:
    """A megolm message from `member`'s device whose session key nobody was given."""
    client = member.client
    group = vodozemac.GroupSession()
    session_key = group.session_key.to_base64()
    payload = {
        "type": "m.room.message",
        "room_id": room_id,
        "content": {"msgtype": "m.text", "body": body},
    }
    ciphertext = group.encrypt(json.dumps(payload).encode()).to_base64()
    content = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "sender_key": client.olm.account.identity_keys["curve25519"],
        "device_id": client.device_id,
        "session_id": group.session_id,
        "ciphertext": ciphertext,
    }
    path = f"/rooms/{quote(room_id, safe='')}/send/m.room.encrypted/{uuid.uuid4().hex}"
    return content, group, session_key, path


async def _put(member: Member, path: str, content: dict[str, Any]) -> str:
    client = member.client
    resp = await client.send(
        "PUT",
        "/_matrix/client/v3" + path,
        json.dumps(content),
        {"Authorization": f"Bearer {client.access_token}", "Content-Type": "application/json"},
    )
    body = await resp.json()
    assert resp.status == 200, body
    return str(body["event_id"])


async def _give_room_key(
    member: Member, bot: RunningBot, room_id: str, session_id: str, session_key: str
) -> None:
    """Send the missing room key late, Olm-encrypted to the bot's device, as a client would."""
    client = member.client
    device = client.device_store[bot.user_id][bot.client.device_id]
    session = client.olm.session_store.get(device.curve25519)
    assert session is not None, "the first exchange must have left an Olm session"
    content = client.olm._olm_encrypt(
        session,
        device,
        "m.room_key",
        {
            "algorithm": "m.megolm.v1.aes-sha2",
            "room_id": room_id,
            "session_id": session_id,
            "session_key": session_key,
        },
    )
    await client.to_device(ToDeviceMessage("m.room.encrypted", bot.user_id, device.id, content))


async def test_message_the_bot_cannot_decrypt_gets_the_could_not_read_answer(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot(encryption={"undecryptable_wait_seconds": 1.5})
    anna = await make_member("anna")
    room = await _encrypted_room_with_bot(anna, bot)

    content, _group, _key, path = _send_with_unshared_session(anna, room, "!hilfe")
    lost = await _put(anna, path, content)
    answer = await anna.wait_for_reply(room, bot.user_id, 1, timeout=20)
    assert answer.decrypted
    assert "konnte eine verschlüsselte Nachricht von" in answer.body
    assert answer.content["m.relates_to"]["m.in_reply_to"]["event_id"] == lost
    assert anna.user_id in answer.content["m.mentions"]["user_ids"]

    # A second message of the same unreadable session is not answered again…
    content2 = dict(content, ciphertext=_group.encrypt(b'{"type":"m.room.message"}').to_base64())
    path2 = path.rsplit("/", 1)[0] + "/" + uuid.uuid4().hex
    await _put(anna, path2, content2)
    # …and the bot is still alive and answers the next readable command.
    await asyncio.sleep(2.0)
    await anna.send(room, "!help hilfe")
    after = await anna.wait_for_reply(room, bot.user_id, 2, timeout=20)
    assert "`!hilfe alle`" in after.body
    assert len(anna.messages_from(bot.user_id, room)) == 3

    for _ in range(50):
        with bot.bot.db.session() as s:
            counted = crypto_status.undecryptable_last_day(s, bot.bot.clock())
        if counted == 2:
            break
        await asyncio.sleep(0.2)
    assert counted == 2


async def test_message_whose_key_arrives_late_is_handled_when_it_arrives(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot(encryption={"undecryptable_wait_seconds": 8})
    anna = await make_member("anna")
    room = await _encrypted_room_with_bot(anna, bot)

    content, group, session_key, path = _send_with_unshared_session(anna, room, "!help hilfe")
    late = await _put(anna, path, content)
    handlers = bot.bot.handlers
    assert handlers is not None
    for _ in range(100):  # until the bot has seen it, failed, asked for the key and waits
        if handlers.waiting_for_keys:
            break
        await asyncio.sleep(0.1)
    assert handlers.waiting_for_keys, "the bot should be waiting for the missing key"
    await _give_room_key(anna, bot, room, group.session_id, session_key)

    answer = await anna.wait_for_reply(room, bot.user_id, 1, timeout=20)
    assert "`!hilfe alle`" in answer.body, answer.body
    assert answer.content["m.relates_to"]["m.in_reply_to"]["event_id"] == late
    await asyncio.sleep(0.5)
    assert len(anna.messages_from(bot.user_id, room)) == 2, "no 'could not read' as well"
    with bot.bot.db.session() as s:
        assert crypto_status.undecryptable_last_day(s, bot.bot.clock()) == 0


# --------------------------------------------------------------------------- trust policy


async def test_strict_policy_gives_no_room_keys_to_devices_their_owner_did_not_cross_sign(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    """nio members have no cross-signing: with the switch on, they cannot read the answers.

    The bot still reads them (the policy is about whom the bot shares its keys with), and
    tests/integration/test_element_client.py shows a cross-signed Element device can.
    """
    bot = await make_bot(encryption={"only_cross_signed_devices": True})
    anna = await make_member("anna")
    room = await anna.create_room("Steuerungsgruppe", encrypted=True, invite=(bot.user_id,))
    await anna.wait_for_member(room, bot.user_id)

    await anna.send(room, "!hilfe")
    # The greeting on joining and the answer: unreadable, so neither can be told apart.
    await anna.wait_until(lambda: len(anna.messages_from(bot.user_id, room)) >= 2)
    said = anna.messages_from(bot.user_id, room)
    assert not any(m.decrypted for m in said), "an unsigned device must not get the room key"
    device = bot.client.device_store[anna.user_id][anna.client.device_id]
    assert device.blacklisted
