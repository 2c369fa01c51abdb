"""`gremienbot demo`: the bot on a throwaway local homeserver, with a scripted member.

Needs no account and no configuration: starts Synapse (the `demo` extra), registers the
bot and a committee member, runs a short conversation in an encrypted room, prints it
as it happens, and removes everything again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import textwrap
from pathlib import Path

import yaml

PASSWORD = "demo-password-not-secret"

# What the simulated member types, in order. Each feature adds its lines here.
SCRIPT: list[str] = [
    "!hilfe",
    "!verabredung Entwurf Bildungsbericht an das Schulamt bis nächsten Freitag",
    "!verabredung Raum für die Fachtagung reservieren bis 15.12.",
    "!liste",
    "!frist 2 Ende des Monats",
    "!erledigt 1 an Frau Weber geschickt",
    "!zeige 1",
    "!erinnere morgen 9 Uhr Tagesordnung verschicken",
    "!erinnerungen",
    "!einstellungen",
]


def _say(who: str, text: str) -> None:
    lines = text.splitlines() or [""]
    print(f"{who:>11} │ {lines[0]}")
    for line in lines[1:]:
        print(f"{'':>11} │ {line}")


def _info(text: str) -> None:
    print(textwrap.indent(text, "  · "))


async def run_demo(*, keep: bool = False, script: list[str] | None = None) -> int:
    try:
        from bot.devtools.synapse import LocalSynapse
    except ImportError:  # pragma: no cover - depends on the installed extra
        print("The demo needs Synapse: pip install 'gremienbot[demo]'")
        return 1
    from bot.config import load_config
    from bot.devtools.member import Member
    from bot.runtime.app import GremienBot

    # The demo prints the conversation; library chatter would only hide it.
    logging.basicConfig(level=logging.ERROR)
    base = Path(tempfile.mkdtemp(prefix="gremienbot-demo-"))
    server = LocalSynapse(base / "synapse")
    bot: GremienBot | None = None
    member: Member | None = None
    task: asyncio.Task[None] | None = None
    try:
        _info("starting a throwaway Synapse homeserver on 127.0.0.1 …")
        await asyncio.to_thread(server.start)
        bot_id = await asyncio.to_thread(server.register, "gremienbot", PASSWORD)
        anna_id = await asyncio.to_thread(server.register, "anna", PASSWORD)
        _info(f"homeserver {server.url}; bot {bot_id}; member {anna_id}")

        config_path = base / "config.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "homeserver": server.url,
                    "user_id": bot_id,
                    "password": PASSWORD,
                    "data_dir": str(base / "bot-data"),
                    "allowed_inviters": {"servers": [server.server_name]},
                    "logging": {"level": "WARNING"},
                }
            ),
            "utf-8",
        )
        bot = GremienBot(load_config(config_path), sync_timeout_ms=2000)
        await bot.start()
        task = asyncio.create_task(bot.run())
        await asyncio.wait_for(bot.ready.wait(), timeout=30)

        member = Member(server.url, anna_id, PASSWORD, base / "anna-store")
        await member.login()
        room = await member.create_room(
            "Steuerungsgruppe Bildung", encrypted=True, invite=(bot_id,)
        )
        _info("anna creates the encrypted room “Steuerungsgruppe Bildung” and invites the bot")
        await member.wait_for_member(room, bot_id, timeout=30)
        _info("gremienbot accepted the invitation and joined")
        print()
        for answered, line in enumerate(script or SCRIPT):
            _say("anna", line)
            await member.send(room, line)
            reply = await member.wait_for_reply(room, bot_id, answered, timeout=30)
            _say("gremienbot", reply.body)
            print()
        _info("done; cleaning up")
        return 0
    finally:
        if member is not None:
            await member.close()
        if bot is not None:
            bot.stop()
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=30)
        await asyncio.to_thread(server.stop)
        if keep:
            _info(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
