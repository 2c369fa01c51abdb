"""The guides people read (docs/de, docs/en) cannot go stale, and `!hilfe` leads to them.

Every chat command in a guide (each inline code span, and each line of a fenced block,
that starts with `!`) is typed into a committee room, in the guide's language, in the
order the guide tells it, and must be understood (CommandOutcome.OK): a command that does
not exist, or arguments its handler refuses, fail the test with the guide and the line.
The member guide's examples are typed by a member, the others by the coordinating office.
The room holds what the examples refer to: agreements #1–#5, a pulse and polls #2 and #3,
a reminder.

The member guide's text is the one `!hilfe anleitung` shows (the catalogue's
`guide.member`); docs/de/kurzanleitung.md and docs/en/quick-guide.md are written from it
by `python -m commands.general.guide_docs`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from commands.core.context import Role
from commands.core.defaults import Defaults, Limits
from commands.core.i18n import Language
from commands.core.registry import CommandOutcome
from commands.features import build_registry
from commands.general.guide import HelpSettings, help_settings
from commands.general.guide_docs import GUIDE_FILES, guide_markdown
from storage.db import Database
from storage.migrate import upgrade
from tests.dialog import ANNA, BEN, CHAIR, COORDINATOR, REGISTRY, Dialog
from tests.unit.test_catalogue_language import JARGON, TERMS, Banned

REPO = Path(__file__).resolve().parents[2]
FOLDERS: dict[Language, Path] = {"de": REPO / "docs" / "de", "en": REPO / "docs" / "en"}
MEMBER_GUIDES = {"de": "kurzanleitung.md", "en": "quick-guide.md"}
HANDBOOKS = {"de": "handbuch-koordination.md", "en": "coordination-handbook.md"}
# A guide is at most one printed page (A4, with its headings).
PAGE_WORDS = 480

# Examples that the room's state refuses, each with its reason; keep this short.
STATEFUL: dict[str, str] = {}

_FENCE = re.compile(r"^\s*```")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
# `!gremium:example.org` is a room's address, not a command.
_ROOM_ADDRESS = re.compile(r"^![\w.=-]+:[\w.-]+(:\d+)?$")


def guides() -> list[Path]:
    return sorted(path for folder in FOLDERS.values() for path in folder.glob("*.md"))


def language_of(path: Path) -> Language:
    return "de" if path.parent == FOLDERS["de"] else "en"


def chat_commands(markdown: str) -> Iterator[tuple[int, str]]:
    """(line number, command) for every chat command the text shows."""
    fenced = False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        candidates = [line.strip()] if fenced else _CODE_SPAN.findall(line)
        for candidate in candidates:
            command = candidate.strip()
            if len(command) > 1 and command.startswith("!") and not _ROOM_ADDRESS.match(command):
                yield number, command


def committee_room(path: Path, lang: Language) -> Dialog:
    """A committee room with what the guides' examples refer to."""
    db = Database(f"sqlite:///{path / 'guides.db'}")
    upgrade(db.engine)
    # No poll quota: the guides start more polls than one member may run at once.
    quotas = Limits(polls_per_member=0, polls_per_room=0)
    # A registry of its own: the test watches how each command ended.
    dialog = Dialog(
        db,
        defaults=Defaults(language=lang, features={"limits": quotas}),
        registry=build_registry(),
    )
    agree = "!verabredung" if lang == "de" else "!agree"
    for n in range(1, 6):
        dialog.say(ANNA, f"{agree} Punkt {n}")  # #1–#5, Anna's own
    dialog.say(CHAIR, "!puls" if lang == "de" else "!pulse")  # #1
    for question in ("Termin?", "Ort?"):  # #2, #3
        dialog.say(BEN, f"!umfrage {question} | Montag | Dienstag")
    dialog.say(ANNA, "!erinnere morgen 10 Uhr Raum buchen")
    return dialog


def not_understood(dialog: Dialog, sender: str, commands: list[tuple[int, str]]) -> list[str]:
    """Each command typed in turn; those that did not end OK, with their line and answer."""
    outcomes: list[CommandOutcome] = []
    dialog.registry.observe(lambda _name, outcome: outcomes.append(outcome))
    failed = []
    for number, command in commands:
        outcomes.clear()
        answers = dialog.say(sender, command)
        if outcomes != [CommandOutcome.OK] and command not in STATEFUL:
            shown = answers[0].body[:200] if answers else "(no answer)"
            failed.append(f"line {number}: {command!r} -> {outcomes} {shown!r}")
    return failed


def test_there_are_guides_for_members_and_for_the_coordination() -> None:
    names = {path.relative_to(REPO / "docs").as_posix() for path in guides()}
    for lang in FOLDERS:
        assert f"{lang}/{MEMBER_GUIDES[lang]}" in names
        assert f"{lang}/{HANDBOOKS[lang]}" in names


@pytest.mark.parametrize("guide", guides(), ids=lambda p: p.relative_to(REPO / "docs").as_posix())
def test_every_command_in_a_guide_is_understood_when_typed(tmp_path: Path, guide: Path) -> None:
    lang = language_of(guide)
    commands = list(chat_commands(guide.read_text("utf-8")))
    sender = ANNA if guide.name == MEMBER_GUIDES[lang] else COORDINATOR
    failed = not_understood(committee_room(tmp_path, lang), sender, commands)
    assert not failed, f"{guide.name}:\n" + "\n".join(failed)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_guide_naming_a_wrong_command_or_wrong_arguments_fails(
    tmp_path: Path, lang: Language
) -> None:
    text = "Tippen Sie `!erledigt drei` oder:\n```\n!gibtsnicht 3\n!liste\n```\nund `!liste`.\n"
    commands = list(chat_commands(text))
    assert [c for _, c in commands] == ["!erledigt drei", "!gibtsnicht 3", "!liste", "!liste"]
    failed = not_understood(committee_room(tmp_path, lang), ANNA, commands)
    assert [line.split(" -> ")[0] for line in failed] == [
        "line 1: '!erledigt drei'",
        "line 3: '!gibtsnicht 3'",
    ]


def test_a_room_address_or_a_lone_prefix_is_no_command() -> None:
    text = "Der Bericht geht in `!leitung:example.org`; Befehle beginnen mit `!`."
    assert list(chat_commands(text)) == []


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_member_guide_in_docs_is_the_text_the_bot_shows(lang: Language) -> None:
    assert GUIDE_FILES[lang] == FOLDERS[lang] / MEMBER_GUIDES[lang]
    assert GUIDE_FILES[lang].read_text("utf-8") == guide_markdown(lang), (
        f"{GUIDE_FILES[lang]} is out of date: edit commands/locales/{lang}/guide.yaml "
        "and run `python -m commands.general.guide_docs`"
    )


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_member_guide_fits_one_printed_page(lang: Language) -> None:
    words = len(guide_markdown(lang).split("-->", 1)[1].split())
    assert words <= PAGE_WORDS, f"{MEMBER_GUIDES[lang]}: {words} words"


def _names(path: Path) -> list[str]:
    """The commands a guide shows, by their German name, in order."""
    found = []
    for _, command in chat_commands(path.read_text("utf-8")):
        cmd = REGISTRY.find(command[1:].split()[0])
        found.append(cmd.name if cmd else command)
    return found


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_member_guide_shows_the_commands_a_member_needs(lang: Language) -> None:
    shown = set(_names(FOLDERS[lang] / MEMBER_GUIDES[lang]))
    assert {"verabredung", "liste", "erledigt", "erinnere", "hilfe", "stimme"} <= shown


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_handbook_shows_every_command_of_the_chair_and_the_coordination(
    lang: Language,
) -> None:
    shown = set(_names(FOLDERS[lang] / HANDBOOKS[lang]))
    restricted = {c.name for c in REGISTRY.commands if c.role > Role.MEMBER}
    wanted = {"amt", "grund", "auswertung", "sitzung", "geschäftsordnung", "top"}
    wanted |= {"tagesordnung", "einspruch", "beschlüsse", "anwesend", "rolle"}
    missing = (restricted | wanted) - shown
    assert not missing, f"{HANDBOOKS[lang]} does not show {sorted(missing)}"


@pytest.mark.parametrize("files", [MEMBER_GUIDES, HANDBOOKS], ids=["member guide", "handbook"])
def test_the_english_guide_shows_the_same_commands_as_the_german(files: dict[str, str]) -> None:
    german, english = _names(FOLDERS["de"] / files["de"]), _names(FOLDERS["en"] / files["en"])
    assert english == german


def _offenders(rule: Banned, text: str) -> list[str]:
    flags = 0 if rule.case_sensitive else re.IGNORECASE
    prose = _CODE_SPAN.sub("``", text)
    if rule.unless and re.search(rule.unless, prose, flags):
        return []
    return [m[0] for m in re.finditer(rule.pattern, prose, flags)]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_handbook_uses_the_glossarys_words(lang: Language) -> None:
    """The catalogue's rules (tests/unit/test_catalogue_language.py) that hold for every
    text, applied to the handbook; the member guide is a catalogue text and checked there."""
    text = (FOLDERS[lang] / HANDBOOKS[lang]).read_text("utf-8")
    found = {
        rule.name: hits
        for rule in (*JARGON, *TERMS)
        if rule.lang == lang and not rule.keys
        for hits in [_offenders(rule, text)]
        if hits
    }
    assert not found, found


# ------------------------------------------------------------------ !hilfe and the guide

GUIDE_URL = "https://intranet.example.org/gremien/kurzanleitung.pdf"


def test_help_ends_with_the_command_that_shows_the_guide(dialog: Dialog) -> None:
    answer = dialog.say(ANNA, "!hilfe")
    assert answer[-1].body.splitlines()[-1] == "Kurzanleitung für Mitglieder: `!hilfe anleitung`"


def test_help_guide_shows_the_member_guide_in_the_room(dialog: Dialog) -> None:
    answers = dialog.say(ANNA, "!hilfe anleitung")
    body = "\n".join(a.body for a in answers)
    assert body.startswith("Gremienbot – Kurzanleitung für Mitglieder\n")
    assert "Niemand sieht, wer was geantwortet hat" in body
    assert "`!stimme 3 2`" in body
    assert "#" not in body.splitlines()[0]  # headings in bold, not Markdown
    assert "<b>Die Jahresbefragung</b>" in answers[0].html
    assert "<code>!erledigt 3</code>" in answers[0].html


def test_an_english_room_gets_the_quick_guide(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    assert dialog.say(ANNA, "!help")[-1].body.endswith("Quick guide for members: `!help guide`")
    body = dialog.text(ANNA, "!help guide")
    assert body.startswith("Gremienbot – quick guide for members\n")
    assert "Nobody sees who answered what" in body


def test_help_links_the_guide_the_municipality_publishes(sqlite_db: Database) -> None:
    dialog = Dialog(
        sqlite_db, defaults=Defaults(features={"help": HelpSettings(guide_url=GUIDE_URL)})
    )
    answer = dialog.say(ANNA, "!hilfe")[-1]
    assert answer.body.splitlines()[-1] == f"Kurzanleitung: {GUIDE_URL}"
    assert f'<a href="{GUIDE_URL}">{GUIDE_URL}</a>' in answer.html
    # The guide's text is still there, with the link at its end.
    guide = dialog.say(ANNA, "!hilfe anleitung")
    assert "Niemand sieht, wer was geantwortet hat" in guide[0].body
    assert guide[-1].body.endswith(f"Kurzanleitung: {GUIDE_URL}")


def _config(tmp_path: Path, section: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: x\n" + section,
        "utf-8",
    )
    return path


def test_the_guides_address_comes_from_the_config(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, f"help:\n  guide_url: {GUIDE_URL}\n"), environ={})
    assert help_settings(config.build_defaults()) == HelpSettings(guide_url=GUIDE_URL)
    empty = load_config(_config(tmp_path, ""), environ={})
    assert help_settings(empty.build_defaults()) == HelpSettings()


def test_a_guide_address_that_is_no_web_address_is_named_with_its_line(tmp_path: Path) -> None:
    path = _config(tmp_path, "help:\n  guide_url: 'javascript:alert(1)'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert f"{path}:5: help.guide_url:" in "\n".join(err.value.problems)
