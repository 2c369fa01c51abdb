"""`!hilfe` starts people off, errors say what to do next, and the bot introduces itself.

A member reads "Das Wichtigste" first and is offered only the commands they may use;
`!hilfe alle` shows everything, marked; `!hilfe einstellungen` explains every room
setting with its value now and an example that works; every command's help fits a phone
screen; an internal error gives a reference code that the log line names too; a refusal
names the command and who to ask; the bot says once who it is when it joins a room.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from bot.runtime.events import greeting_key
from bot.runtime.matrix_render import GREETING_MARK
from commands.core import i18n
from commands.core.context import Role
from commands.core.registry import USAGE_SEPARATOR, Registry, Router
from commands.features import build_registry
from commands.general import help as help_feature
from storage import outbox
from tests.dialog import ANNA, BOT, CHAIR, COORDINATOR, ROOM, Dialog

# A help that fills more than one phone screen is not read (finding 5.5).
HELP_LIMIT = 600
REGISTRY = build_registry()
# Programmer notation: brackets, `<wann>`, backticks, and "|" for alternatives. A "|"
# between spaces is real input (`!umfrage Frage? | Ja | Nein` separates the options).
_NOTATION = r"[\[\]<>`]|\|(?! )|(?<! )\|"


# ------------------------------------------------------------------ the overview


def test_a_member_reads_the_essentials_first_with_one_example_each(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!hilfe")
    essentials = answer.index("Das Wichtigste")
    for example in (
        "`!verabredung Entwurf an Schulamt @Anna bis Freitag`",
        "`!liste`",
        "`!erledigt 3`",
        "`!erinnere morgen 10 Uhr Raum buchen`",
        "`!puls`",
    ):
        assert essentials < answer.index(example), example
    # The topics come after the essentials.
    assert essentials < answer.index("\nVerabredungen\n")


def test_a_member_is_not_offered_coordination_only_commands(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!hilfe")
    for restricted in ("!export", "!bericht", "!übersicht", "!dashboard"):
        assert restricted not in answer, restricted
    assert "6 weitere Befehle sind nur für Vorsitz oder Koordination: `!hilfe alle`" in answer


def test_the_coordinating_office_is_offered_its_commands(dialog: Dialog) -> None:
    answer = dialog.text(COORDINATOR, "!hilfe")
    for restricted in ("`!export", "`!bericht", "`!übersicht`"):
        assert restricted in answer, restricted
    assert "weitere Befehle" not in answer


def test_help_all_shows_every_command_and_marks_the_restricted_ones(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!hilfe alle")
    for cmd in REGISTRY.commands:
        if not cmd.hidden:
            assert f"`!{cmd.name}" in answer, cmd.name
    export_line = next(line for line in answer.splitlines() if line.startswith("`!export"))
    assert export_line.endswith("(nur Koordination)")
    assert dialog.text(ANNA, "!help all") == answer


def test_the_overview_uses_no_programmer_notation(dialog: Dialog) -> None:
    for lang, command in (("de", "!hilfe alle"), ("en", "!help all")):
        if lang == "en":
            dialog.say(CHAIR, "!einstellungen sprache en")
        answer = dialog.text(COORDINATOR, command)
        lines = [line for line in answer.splitlines() if line.startswith("`!")]
        assert lines
        for line in lines:
            usage = line.split(" – ", 1)[0].strip("`")
            assert not re.search(_NOTATION, usage), (lang, line)


def test_english_help_has_the_essentials_too(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    answer = dialog.text(ANNA, "!help")
    assert answer.index("The essentials") < answer.index("`!list`")
    assert "`!done 3`" in answer
    assert "!export" not in answer


# ------------------------------------------------------------------ usage lines


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_usage_line_holds_real_examples_of_its_own_command(lang: str) -> None:
    """`cmd.*.usage`: 1–3 examples separated by " · ", each starting with a name of the
    command, no brackets, no `<wann>`, no `|` (the notation of /work/notes)."""
    wrong: list[str] = []
    for cmd in REGISTRY.commands:
        raw = i18n.raw(lang, f"cmd.{cmd.name}.usage")
        examples = raw.split(USAGE_SEPARATOR)
        if re.search(_NOTATION, raw) or raw.startswith("!") or not 1 <= len(examples) <= 3:
            wrong.append(f"cmd.{cmd.name}.usage: {raw}")
            continue
        for example in examples:
            head = example.split(" ", 1)[0]
            if REGISTRY.find(head) is not cmd:
                wrong.append(f"cmd.{cmd.name}.usage: {example!r} is not this command")
    assert not wrong, "usage lines in programmer notation or wrong:\n" + "\n".join(wrong)


def test_a_usage_error_shows_the_examples_to_type(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!erinnere")
    assert "So geht es: `!erinnere" in answer
    usage_line = answer.split("So geht es: ", 1)[1]
    assert not re.search(r"[\[\]<>]", usage_line), usage_line


# ------------------------------------------------------------------ each command's help


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_commands_help_fits_a_phone_screen(lang: str) -> None:
    too_long = {
        key: len(text)
        for key, text in i18n.catalogue(lang).items()
        if key.startswith("cmd.") and key.endswith(".help") and len(text) > HELP_LIMIT
    }
    assert not too_long, f"{lang}: help texts over {HELP_LIMIT} characters: {too_long}"


def test_every_commands_help_names_who_may_use_it(dialog: Dialog) -> None:
    for cmd in REGISTRY.commands:
        answer = dialog.text(ANNA, f"!hilfe {cmd.name}")
        assert "Wer darf: " in answer, cmd.name


def test_help_for_an_unknown_command_suggests_the_nearest(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!hilfe listee")
    assert "Einen Befehl `listee` gibt es nicht. Meinten Sie `!hilfe liste`?" in answer


# ------------------------------------------------------------------ settings (finding 5.4)


def test_help_settings_explains_every_setting_with_its_value_and_an_example(
    dialog: Dialog,
) -> None:
    answer = dialog.text(ANNA, "!hilfe einstellungen")
    for label, value, example in (
        ("Sprache", "Deutsch", "`!einstellungen sprache en`"),
        ("Zeitzone", "Europe/Berlin", "`!einstellungen zeitzone Europe/Berlin`"),
        ("Erinnerung vor der Frist", "vorher", "`!einstellungen erinnerung 2 tage vorher`"),
        ("Uhrzeit der Erinnerungen", "09:00", "`!einstellungen erinnerungszeit 8:30`"),
        ("Erinnerung bei Überfälligkeit", "alle", "`!einstellungen überfällig alle 7 tage 3 mal`"),
        ("Wochenüberblick", "montags", "`!einstellungen wochenüberblick montag 9:00`"),
        ("Bundesland (Feiertage)", "NW", "`!einstellungen bundesland NW`"),
    ):
        line = next((ln for ln in answer.splitlines() if ln.startswith(label + ":")), None)
        assert line is not None, label
        assert value in line, line
        assert line.endswith(example), line
    assert len(list(REGISTRY.settings)) == 7


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_settings_example_in_the_help_works_for_the_chair(dialog: Dialog, lang: str) -> None:
    """What the help promises, done: each example changes its setting, no refusal."""
    if lang == "en":
        dialog.say(CHAIR, "!einstellungen sprache en")
    for setting in REGISTRY.settings:
        example = i18n.plain(lang, f"settings.example.{setting.key}", prefix="!")
        if setting.key == "language":
            continue  # would switch the language under the test
        answer = dialog.text(CHAIR, example)
        changed = "Einstellung geändert" if lang == "de" else "Setting changed"
        assert changed in answer, (example, answer)


def test_settings_list_shows_the_word_to_type(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!einstellungen")
    assert "Uhrzeit der Erinnerungen: 09:00 Uhr (`!einstellungen erinnerungszeit`)" in answer
    assert "`!hilfe einstellungen`" in answer


# ------------------------------------------------------------------ refusals and errors


def test_a_refusal_names_the_command_and_whom_to_ask(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!einstellungen sprache en")
    assert "`!einstellungen sprache` dürfen nur der Vorsitz und die Koordination" in answer
    assert "`!rolle`" in answer
    answer = dialog.text(ANNA, "!export")
    assert "`!export` ist der Koordination (Bildungsbüro) vorbehalten" in answer


def test_a_refusal_in_english_says_coordinating_office(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    answer = dialog.text(ANNA, "!settings timezone UTC")
    assert "Only the chair or the coordinating office" in answer
    assert "`!settings timezone`" in answer


def _broken_registry() -> Registry:
    boom = Router(group="general")

    @boom.command("kaputt", role=Role.MEMBER)
    def broken(ctx: Any, args: str) -> Any:
        raise RuntimeError("a bug")

    return Registry([Router(group="general").include(help_feature.router), boom])


def test_an_internal_error_gives_a_reference_code_that_the_log_names_too(
    dialog: Dialog, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Dialog(dialog.database, registry=_broken_registry())
    with caplog.at_level(logging.ERROR, logger="commands.core.registry"):
        answer = broken.text(ANNA, "!kaputt")
    match = re.search(r"Fehlercode (F-[2-9A-Z]{6})", answer)
    assert match, answer
    assert "interner Fehler" not in answer
    assert "Protokoll" not in answer
    assert "Es wurde nichts geändert" in answer
    assert "IT" in answer
    logged = [r.getMessage() for r in caplog.records if "kaputt" in r.getMessage()]
    assert logged
    assert match[1] in logged[0]
    # Each failure has its own code.
    again = re.search(r"F-[2-9A-Z]{6}", broken.text(ANNA, "!kaputt"))
    assert again
    assert again[0] != match[1]


def test_an_edited_command_says_the_first_version_stands() -> None:
    for lang in ("de", "en"):
        text = i18n.plain(lang, "input.edit_not_run")
        assert ("zuerst geschickt" if lang == "de" else "sent first stands") in text
        assert ("`!frist 3 Montag`" if lang == "de" else "`!due 3 Monday`") in text


# ------------------------------------------------------------------ the greeting


def _greetings(dialog: Dialog, room_id: str) -> list[dict[str, Any]]:
    import json

    with dialog.database.session() as s:
        row = outbox.by_key(s, greeting_key(room_id))
        return [] if row is None else [json.loads(row.content)]


def test_the_bot_introduces_itself_once_when_it_joins_a_committee_room(dialog: Dialog) -> None:
    room_id = "!neu:example.org"
    woken = dialog.bot.sender.woken
    dialog.invite(CHAIR, room_id)
    [hello] = _greetings(dialog, room_id)
    assert hello[GREETING_MARK] is True
    body = hello["body"]
    assert body.startswith("Hallo, ich bin der Gremienbot.")
    for command in ("`!verabredung Entwurf an Schulamt @Anna bis Freitag`", "`!liste`", "`!hilfe`"):
        assert command in body, command
    assert "m.relates_to" not in hello  # not an answer to anything
    assert woken == [room_id]
    # Invited again (after leaving, or the invite seen twice): no second greeting.
    dialog.invite(CHAIR, room_id)
    assert len(_greetings(dialog, room_id)) == 1
    assert woken == [room_id]


def test_the_greeting_is_in_the_rooms_language(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")  # a room the bot knew before
    dialog.invite(CHAIR, ROOM)
    [hello] = _greetings(dialog, ROOM)
    assert hello["body"].startswith("Hello, I'm Gremienbot.")
    for command in ("`!agree ", "`!list`", "`!help`"):
        assert command in hello["body"]


def test_no_greeting_for_a_direct_chat_or_a_declined_invite(dialog: Dialog) -> None:
    woken, left = dialog.bot.sender.woken, dialog.bot.client.left
    dialog.invite(ANNA, "!dm:example.org", direct=True)
    assert _greetings(dialog, "!dm:example.org") == []
    dialog.invite("@mallory:evil.example", "!fremd:example.org")
    assert _greetings(dialog, "!fremd:example.org") == []
    assert left == ["!fremd:example.org"]
    assert woken == []


def test_the_greeting_is_not_counted_as_an_answer_by_the_test_member() -> None:
    """bot.devtools.member leaves the greeting out of `messages_from` (index-based waits
    in the integration tests count answers) and has it in `greetings`."""
    from bot.devtools.member import Member, SeenMessage

    member = Member.__new__(Member)
    member.seen = [
        SeenMessage(ROOM, "$g", BOT, "Hallo", None, {GREETING_MARK: True}),
        SeenMessage(ROOM, "$a", BOT, "Antwort", None, {}),
    ]
    assert [m.event_id for m in member.messages_from(BOT, ROOM)] == ["$a"]
    assert [m.event_id for m in member.greetings(BOT, ROOM)] == ["$g"]
