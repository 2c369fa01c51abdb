"""The bot's commands as clients are told of them (commands/core/command_state.py): every
command of `!hilfe`, named in the room's language, with its input and its summary."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest

from commands.core import i18n
from commands.core.command_state import (
    MSC4332_TYPE,
    MSC4391_TYPE,
    TAIL_PARAMETER,
    command_events,
    msc4332_event,
    msc4391_events,
    msc4391_state_key,
    text,
)
from commands.core.registry import fold
from tests.dialog import BOT, REGISTRY

OFFERED = [c for c in REGISTRY.commands if not c.hidden]
# What Element Web's reader of MSC4332 accepts as a command (botCommands.ts): ASCII words.
ELEMENT_STEM = re.compile(r"^[\w-]+(?: [\w-]+)*$", re.ASCII)


def by_command(lang: str) -> dict[str, dict[str, Any]]:
    return {
        str(e.content["command"]): e.content
        for e in msc4391_events(REGISTRY, lang, prefix="!", bot_user=BOT)
    }


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_command_of_help_is_offered_once_in_help_order(lang: str) -> None:
    described = msc4391_events(REGISTRY, lang, prefix="!", bot_user=BOT)
    assert [e.content["command"] for e in described] == [c.display_name(lang) for c in OFFERED]
    syntaxes = msc4332_event(REGISTRY, lang, prefix="!", bot_user=BOT).content["commands"]
    assert [s["syntax"].split(" ")[0] for s in syntaxes] == [
        fold(c.display_name(lang)) for c in OFFERED
    ]


def test_the_same_registry_gives_the_same_events_every_time() -> None:
    # A restart must find the room's state equal, so nothing is sent again.
    first = command_events(REGISTRY, "de", prefix="!", bot_user=BOT)
    again = command_events(REGISTRY, "de", prefix="!", bot_user=BOT)
    assert first == again
    assert json.dumps([e.content for e in first]) == json.dumps([e.content for e in again])


def test_a_german_room_sees_german_names_and_can_still_type_english_ones() -> None:
    german = by_command("de")
    assert german["liste"]["description"] == {"m.text": [{"body": "offene Verabredungen anzeigen"}]}
    assert german["liste"]["aliases"] == ["list"]
    assert german["ändern"]["aliases"] == ["aendern", "edit"]
    assert "list" not in german


def test_an_english_room_sees_english_names_and_summaries() -> None:
    english = by_command("en")
    assert english["list"]["description"] == {"m.text": [{"body": "show open agreements"}]}
    assert english["list"]["aliases"] == ["liste"]
    assert english["edit"]["aliases"] == ["ändern", "aendern"]
    assert "liste" not in english


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_each_description_is_the_summary_help_shows(lang: str) -> None:
    described = by_command(lang)
    for cmd in OFFERED:
        summary = described[cmd.display_name(lang)]["description"]
        assert summary == {"m.text": [{"body": cmd.summary(lang)}]}


def test_a_command_with_input_takes_the_rest_of_the_line_shown_by_its_examples() -> None:
    agree = by_command("de")["verabredung"]
    [parameter] = agree["parameters"]
    assert parameter["key"] == "angaben"
    assert parameter["schema"] == {"schema_type": "primitive", "type": "string"}
    assert parameter["optional"] is False  # `!verabredung` alone records nothing
    assert agree[TAIL_PARAMETER] == "angaben"
    assert parameter["description"] == {
        "m.text": [
            {
                "body": "Zum Beispiel: !verabredung Entwurf an Schulamt @Anna bis Freitag"
                " · !verabredung Raum buchen"
            }
        ]
    }


def test_input_is_optional_where_the_command_also_stands_alone() -> None:
    [parameter] = by_command("en")["list"]["parameters"]
    assert parameter["key"] == "details"
    assert parameter["optional"] is True
    assert parameter["description"] == {
        "m.text": [{"body": "For example: !list mine · !list @Anna"}]
    }


def test_a_command_without_input_has_no_parameter() -> None:
    agenda = by_command("de")["tagesordnung"]
    assert "parameters" not in agenda
    assert TAIL_PARAMETER not in agenda
    syntaxes = msc4332_event(REGISTRY, "de", prefix="!", bot_user=BOT).content["commands"]
    assert {"syntax": "tagesordnung", "description": agenda["description"]} in syntaxes


def test_the_state_key_is_derived_as_msc4391_and_its_clients_check_it() -> None:
    for e in msc4391_events(REGISTRY, "de", prefix="!", bot_user=BOT):
        digest = hashlib.sha256((e.content["command"] + BOT).encode()).digest()
        assert e.state_key == base64.b64encode(digest).decode()
    assert msc4391_state_key("liste", BOT) != msc4391_state_key("list", BOT)
    assert msc4391_state_key("liste", BOT) != msc4391_state_key("liste", "@other:example.org")


def test_the_one_msc4332_event_belongs_to_the_bot_and_uses_its_prefix() -> None:
    event = msc4332_event(REGISTRY, "de", prefix="!", bot_user=BOT)
    assert (event.event_type, event.state_key) == (MSC4332_TYPE, BOT)
    assert event.content["sigil"] == "!"
    entry = next(c for c in event.content["commands"] if c["syntax"].startswith("liste "))
    assert entry == {
        "syntax": "liste {angaben}",
        "description": {"m.text": [{"body": "offene Verabredungen anzeigen"}]},
        "variables": {"angaben": text("Zum Beispiel: !liste meine · !liste @Anna")},
    }


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_element_can_show_every_command_whole(lang: str) -> None:
    # Element's MSC4332 reader: ASCII commands, 50 per bot, descriptions cut at 200.
    commands = msc4332_event(REGISTRY, lang, prefix="!", bot_user=BOT).content["commands"]
    assert len(commands) <= 50
    for entry in commands:
        assert ELEMENT_STEM.match(entry["syntax"].split(" {")[0]), entry["syntax"]
        assert len(entry["description"]["m.text"][0]["body"]) <= 200


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_event_fits_a_matrix_event(lang: str) -> None:
    events = command_events(REGISTRY, lang, prefix="!", bot_user=BOT)
    assert [e.event_type for e in events] == [MSC4332_TYPE] + [MSC4391_TYPE] * len(OFFERED)
    assert len({(e.event_type, e.state_key) for e in events}) == len(events)
    for e in events:
        assert len(json.dumps(e.content, ensure_ascii=False).encode()) < 48 * 1024


def test_another_prefix_is_the_sigil_and_in_the_examples() -> None:
    event = msc4332_event(REGISTRY, "de", prefix="?", bot_user=BOT)
    assert event.content["sigil"] == "?"
    [parameter] = by_command_with_prefix("?")["liste"]["parameters"]
    assert "?liste meine" in parameter["description"]["m.text"][0]["body"]


def by_command_with_prefix(prefix: str) -> dict[str, dict[str, Any]]:
    return {
        str(e.content["command"]): e.content
        for e in msc4391_events(REGISTRY, "de", prefix=prefix, bot_user=BOT)
    }
