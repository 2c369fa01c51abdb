"""The bot's encryption store is deleted or damaged while it is stopped.

The store (`data_dir/crypto-store`, nio's Olm/Megolm keys of the bot's device) is gone,
or its SQLite file is overwritten with garbage. The bot starts by itself as a new device
(a damaged store is moved aside, not deleted), says in its log what happened and what
to do, cross-signs the new device with the identity it kept (`cross-signing.json`), and
works in the encrypted room again once the members' clients have seen the new device.
What was written to the old device alone gets a "could not read" answer, not silence.
(docs/encryption.md, "A lost or damaged encryption store".)
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from bot.devtools.synapse import LocalSynapse
from bot.runtime import credentials
from storage.models import Agreement
from tests.integration.conftest import PASSWORD, MemberFactory, unique, write_config
from tests.integration.fault_helpers import (
    assert_answered_once_in_order,
    committee,
    send,
    settled,
    wait_for_answers,
)
from tests.integration.reminder_helpers import database, start_bot, stop_bot

pytestmark = pytest.mark.synapse

COULD_NOT_READ = "Ich konnte eine verschlüsselte Nachricht"


def _harm(store: Path, harm: str) -> None:
    if harm == "deleted":
        shutil.rmtree(store)
        return
    [db_file] = store.glob("*.db")
    db_file.write_bytes(b"\x00garbage after a disk failure\x00" * 500)


@pytest.mark.parametrize("harm", ["deleted", "corrupted"])
async def test_with_its_encryption_store_lost_the_bot_comes_back_as_a_new_cross_signed_device(
    harm: str,
    synapse: LocalSynapse,
    make_member: MemberFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Afterwards: the bot runs as a new device, cross-signed; its log says what happened
    to the old device and what to do; the command written to the old device alone is
    answered "could not read" once; commands written after the members' clients saw the
    new device are carried out and answered readably, in order."""
    caplog.set_level(logging.INFO, logger="bot.runtime.login")
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(
        tmp_path, synapse, localpart, encryption={"undecryptable_wait_seconds": 1}
    )
    bot, task = await start_bot(config)
    bot_user = bot.config.user_id
    assert bot.client is not None
    old_device = str(bot.client.device_id)
    anna = await make_member("anna")
    room = await committee([anna], bot_user, "Schulentwicklungsplanung", encrypted=True)
    sent = [await send(anna, room, "!verabredung Vorher: Raumbedarf melden")]
    await wait_for_answers(anna, bot_user, {room: sent}, timeout=30)
    await stop_bot(bot, task)

    store = credentials.store_path(tmp_path / "data")
    _harm(store, harm)
    # Written while the bot is down: encrypted for the old device only.
    sent.append(await send(anna, room, "!verabredung Während: Schülerzahlen prüfen"))

    bot, task = await start_bot(config)
    try:
        assert bot.client is not None
        new_device = str(bot.client.device_id)
        assert new_device != old_device, "a lost store must mean a new device"
        assert bot.cross_signing is not None
        assert bot.cross_signing.ok, bot.cross_signing
        log = [r.getMessage() for r in caplog.records if r.name == "bot.runtime.login"]
        if harm == "deleted":
            assert any(f"store of device {old_device} is gone" in m for m in log), log
        else:
            assert any(f"store of device {old_device} is damaged" in m for m in log), log
            [aside] = store.parent.glob("crypto-store.damaged-*")
            assert list(aside.glob("*.db")), "the damaged store is kept, not deleted"
        assert any("logging in as a new device" in m and "Nothing else to do" in m for m in log)

        # The members' clients see the new device (a device list change), then share
        # their room keys with it.
        def seen() -> bool:
            devices = anna.client.device_store.active_user_devices(bot_user)
            return any(d.id == new_device for d in devices)

        await anna.wait_until(seen, timeout=30)
        sent.append(await send(anna, room, "!verabredung Danach: Raumbedarf prüfen"))
        sent.append(await send(anna, room, "!liste"))
        await wait_for_answers(anna, bot_user, {room: sent}, timeout=60)
        said = (await settled(anna, [room]))[room]
    finally:
        await stop_bot(bot, task)

    expected = [
        "Verabredung #1 festgehalten: Vorher",
        COULD_NOT_READ,
        "Verabredung #2 festgehalten: Danach",
        "Offene Verabredungen (2)",
    ]
    assert_answered_once_in_order(
        said, bot_user, sent, expect=lambda i, answer: expected[i] in answer.body
    )
    db = database(config)
    try:
        with db.session() as s:
            texts = sorted(a.text for a in s.exec(select(Agreement)).all())
        assert texts == ["Danach: Raumbedarf prüfen", "Vorher: Raumbedarf melden"]
    finally:
        db.dispose()
