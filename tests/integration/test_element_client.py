"""Element's own client library against the bot: matrix-js-sdk with its Rust crypto on Node.

The member runs with "exclude insecure devices" (OnlySignedDevicesIsolationMode, MSC4153):
its client shares room keys only with devices their owner cross-signed, and decrypts only
messages from such devices. The check is made by the code Element users run, not by a
second copy of the bot's own library.

Needs Node.js ≥ 20 and `npm ci --prefix tests/js` (done here if node_modules is missing).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.crypto import crosssigning
from bot.crypto import status as crypto_status
from bot.devtools.synapse import LocalSynapse
from tests.integration.conftest import PASSWORD, BotFactory, unique
from tests.integration.js_client import JS_DIR, SCRIPT, node_or_skip

pytestmark = pytest.mark.synapse


@pytest.fixture(scope="session")
def node() -> str:
    return node_or_skip()


async def run_js(node: str, **opts: Any) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        json.dumps(opts),
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    lines = out.decode().strip().splitlines()
    assert lines, f"no output from node; stderr:\n{err.decode()[-3000:]}"
    result = json.loads(lines[-1])
    assert result.get("ok"), f"{result.get('error')}\nstderr:\n{err.decode()[-3000:]}"
    return dict(result)


def _member(synapse: LocalSynapse, name: str) -> str:
    return synapse.register(unique(name), PASSWORD)


async def test_element_client_that_excludes_insecure_devices_gets_the_bots_answer(
    make_bot: BotFactory, synapse: LocalSynapse, node: str
) -> None:
    # The bot keeps the strict policy too: the member's Element device is cross-signed.
    bot = await make_bot(encryption={"only_cross_signed_devices": True})
    user = _member(synapse, "elke")

    result = await run_js(
        node,
        mode="member",
        homeserver=synapse.url,
        user=user,
        password=PASSWORD,
        botUser=bot.user_id,
        command="!hilfe",
    )

    device = bot.client.device_id
    assert result["botDevices"][device]["signedByOwner"], result["botDevices"]
    assert result["ownDeviceCrossSigned"]["signedByOwner"]
    assert result["error"] is None, result
    answer = result["botMessages"][0]
    assert not answer["decryptionFailure"], answer
    assert "Gremienbot – Hilfe" in answer["body"]
    assert answer["inReplyTo"] == result["commandEventId"]


async def test_without_cross_signing_the_same_client_withholds_its_keys(
    make_bot: BotFactory, synapse: LocalSynapse, node: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: a bot whose device is not cross-signed cannot read this member at all."""

    async def no_cross_signing(*args: Any, **kwargs: Any) -> crosssigning.SetupResult:
        raise crosssigning.CrossSigningError("switched off for this test")

    monkeypatch.setattr(crosssigning, "ensure_cross_signing", no_cross_signing)
    bot = await make_bot(encryption={"undecryptable_wait_seconds": 1})
    user = _member(synapse, "elke")

    result = await run_js(
        node,
        mode="member",
        homeserver=synapse.url,
        user=user,
        password=PASSWORD,
        botUser=bot.user_id,
        command="!hilfe",
        timeoutMs=20000,
    )

    assert not result["botDevices"][bot.client.device_id]["signedByOwner"]
    # The bot got no key, said so, and the member's client refused even that answer.
    assert result["botMessages"], result
    assert all(m["decryptionFailure"] for m in result["botMessages"]), result["botMessages"]
    # The member's client may have returned on the bot's greeting (which it cannot read
    # either) before the bot has noted the command it could not decrypt.
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        with bot.bot.db.session() as s:
            noted = crypto_status.undecryptable_last_day(s, bot.bot.clock())
        if noted or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    assert noted == 1


async def test_operator_verifies_an_element_session_with_the_bots_recovery_key(
    make_bot: BotFactory, synapse: LocalSynapse, node: str
) -> None:
    bot = await make_bot()
    key_file = crosssigning.load_keys(Path(bot.config.data_dir))
    assert key_file is not None
    recovery = key_file.recovery_key()

    result = await run_js(
        node,
        mode="operator",
        homeserver=synapse.url,
        user=bot.user_id,
        password=PASSWORD,
        recoveryKey=recovery,
        deviceName="Element (operator)",
    )

    assert result["secretStorageKeyId"] == key_file.ssss_key_id
    status = result["crossSigningStatus"]
    assert status["privateKeysInSecretStorage"]
    assert all(status["privateKeysCachedLocally"].values()), status
    assert result["masterKey"] == key_file.keys.master.public
    own = result["ownDevices"]
    assert own[result["deviceId"]]["crossSigningVerified"], own
    assert own[bot.client.device_id]["crossSigningVerified"], own
