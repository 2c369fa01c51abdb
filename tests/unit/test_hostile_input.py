"""Hostile input: the messages that used to freeze or break the bot now get a clear answer
at once, and nothing stored is damaged (issue 13).

Each worst case found by reading the code is sent exactly as it was reproduced. No test
here measures wall-clock time (the machine is shared): instead each asserts that the size
check refuses before any parsing, or counts the parser's calls.
`tests/benchmarks/bench_hostile_input.py` times the same cases.
"""

from __future__ import annotations

import pytest
from nio import MatrixRoom
from sqlmodel import col, select

import commands.parsing.dates as dates
import commands.parsing.mentions as mentions
import commands.parsing.recurrence as recurrence
from bot.runtime.events import display_names
from bot.runtime.matrix_content import mentioned_users, strip_reply_fallback
from commands.core.errors import CommandError
from commands.core.text_input import (
    MAX_BODY_CHARS,
    MAX_DATE_CHARS,
    MAX_HTML_CHARS,
    MAX_MENTIONS,
    MAX_TEXT_WITH_NAMES,
    check_command,
    clean,
)
from commands.parsing.date_words import language_set, tokenize
from storage.db import Database
from storage.models import Agreement, AgreementHistory, AgreementOwner
from tests.dialog import ANNA, BEN, BOT, CHAIR, NOW_FOR_TESTS, ROOM, Dialog


def snapshot(db: Database) -> list[tuple[object, ...]]:
    """Everything stored about agreements, to compare before and after."""
    with db.session() as s:
        agreements = s.exec(select(Agreement).order_by(col(Agreement.id))).all()
        owners = s.exec(select(AgreementOwner).order_by(col(AgreementOwner.user_id))).all()
        history = s.exec(select(AgreementHistory).order_by(col(AgreementHistory.id))).all()
        return (
            [(a.number, a.text, a.status, a.due_date, a.due_time) for a in agreements]
            + [(o.agreement_id, o.user_id) for o in owners]
            + [(h.id, h.action, h.old_value, h.new_value, h.note) for h in history]
        )


@pytest.fixture
def recorded(dialog: Dialog) -> list[tuple[object, ...]]:
    """Two agreements recorded before the hostile messages."""
    dialog.say(ANNA, "!verabredung Bericht an Schulamt @ben bis Freitag")
    dialog.say(BEN, "!verabredung Raum buchen")
    return snapshot(dialog.database)


class Calls:
    """Counts the calls of a function, and still calls it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
        self.count = 0
        real = getattr(module, name)

        def counted(*args: object, **kwargs: object) -> object:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


# --------------------------------------------------------------------- people, text, HTML


def test_a_list_naming_2000_ids_of_one_local_part_is_refused_before_parsing(
    dialog: Dialog, recorded: list[tuple[object, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 41 kB, 2,000 IDs sharing the local part "x": matching them took 41 s. Over every
    # command's bound, it is refused by the dispatcher; 400 of them (8 kB) by the bound of
    # a command whose text is searched for people.
    searched = Calls(monkeypatch, mentions, "_search")
    for count, bound in ((2000, MAX_BODY_CHARS), (400, MAX_TEXT_WITH_NAMES)):
        ids = tuple(f"@x:s{i}.example.org" for i in range(count))
        answer = dialog.text(ANNA, "!liste " + " ".join(ids), mentions=ids)
        assert "Die Nachricht ist zu lang für diesen Befehl" in answer
        assert f"höchstens {bound})" in answer
    assert searched.count == 0
    assert snapshot(dialog.database) == recorded


def test_many_ids_within_the_text_bound_are_refused_by_their_number(
    dialog: Dialog, recorded: list[tuple[object, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = tuple(f"@x:s{i}" for i in range(300))  # 2,400 characters
    searched = Calls(monkeypatch, mentions, "_search")
    answer = dialog.text(ANNA, "!liste " + " ".join(ids), mentions=ids)
    assert f"mehr Personen, als ein Befehl aufnimmt (höchstens {MAX_MENTIONS})" in answer
    assert searched.count == 0
    # Typed without m.mentions: refused once the 51st spelling turns up.
    answer = dialog.text(ANNA, "!zuweisen 1 " + " ".join(ids))
    assert f"höchstens {MAX_MENTIONS}" in answer
    assert snapshot(dialog.database) == recorded


def test_the_most_people_allowed_cost_a_bounded_number_of_searches(
    dialog: Dialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog.members.update({f"@x:s{i}": f"X {i}" for i in range(MAX_MENTIONS)})
    ids = tuple(f"@x:s{i}" for i in range(MAX_MENTIONS))
    searched = Calls(monkeypatch, mentions, "_search")
    answer = dialog.text(ANNA, "!verabredung Protokoll " + " ".join(ids), mentions=ids)
    assert "Verabredung #1 festgehalten: Protokoll" in answer
    # At most three ways to find each person (ID, @localpart, name).
    assert searched.count <= 3 * MAX_MENTIONS


def test_1500_pills_are_refused_by_the_html_bound(
    dialog: Dialog, recorded: list[tuple[object, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The 4,000-character check of !verabredung did not cover the HTML: this took 8 s.
    # Unquoted links: the event's mentions (bot.runtime.matrix_content) pass them by, so
    # no bound on the people named stops the message before the HTML's own bound.
    names = [f"u{i}" for i in range(1500)]
    html = "!verabredung x " + "".join(
        f"<a href=https://matrix.to/#/@{n}:example.org>{n}</a> " for n in names
    )
    parsed = Calls(monkeypatch, mentions, "pills")
    answer = dialog.text(ANNA, ("!verabredung x " + " ".join(names))[:3900], html=html)
    assert "Die formatierte Fassung der Nachricht ist zu lang" in answer
    assert f"höchstens {MAX_HTML_CHARS}" in answer
    assert parsed.count == 0
    assert snapshot(dialog.database) == recorded


def test_malformed_html_is_read_in_one_pass(dialog: Dialog) -> None:
    # "<a <a <a …" made the standard library's HTMLParser take seconds.
    html = "!verabredung Plan " + "<a " * 6000 + pill(BEN, "Ben Okafor")
    answer = dialog.text(ANNA, "!verabredung Plan Ben Okafor", html=html)
    assert "Verabredung #1 festgehalten: Plan" in answer
    assert "Verantwortlich: Ben Okafor" in answer
    found, _text = mentions.pills("<a " * 6000 + pill(BEN, "Ben"))
    assert [p.user_id for p in found] == [BEN]


def pill(user_id: str, name: str) -> str:
    return f'<a href="https://matrix.to/#/{user_id}">{name}</a>'


def test_the_bot_side_reads_at_most_one_more_mention_than_allowed() -> None:
    content = {
        "m.mentions": {"user_ids": [f"@x:s{i}" for i in range(3000)]},
        "formatted_body": pill("@y:example.org", "Y") * 3000,
    }
    assert len(mentioned_users(content)) == MAX_MENTIONS + 1


# ----------------------------------------------------------------------------------- dates


def test_400_deadline_markers_parse_a_bounded_number_of_dates(
    dialog: Dialog, recorded: list[tuple[object, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each "bis" went to the date parser (and dateparser) with the whole rest: 18 s.
    parsed = Calls(monkeypatch, dates, "parse_when")
    body = "!verabredung x " + "bis 1/2/2026 " * 300
    answer = dialog.text(ANNA, body[:3995])
    assert "Der Text ist zu lang" in answer
    # Only the markers whose rest is no longer than a date are tried.
    assert parsed.count <= MAX_DATE_CHARS // len("bis 1/2/2026 ") + 2
    assert snapshot(dialog.database) == recorded


def test_a_short_text_with_many_markers_still_finds_its_date(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!verabredung " + "bis auf " * 100 + "Plan bis Freitag")
    assert "Frist: Fr., 13. März 2026" in answer


def test_a_chain_of_1400_weekdays_is_no_date_and_no_internal_error(
    dialog: Dialog, recorded: list[tuple[object, ...]]
) -> None:
    # Raised RecursionError ("interner Fehler").
    answer = dialog.text(ANNA, "!frist 1 " + "Mo " * 1400 + "2026")
    assert "verstehe ich nicht sicher genug" in answer
    assert "Fehlercode" not in answer
    answer = dialog.text(ANNA, "!verabredung x bis " + "Mo " * 1300 + "2026")
    assert "Fehlercode" not in answer
    assert dates.parse_when("Montag " * 1400 + "2026", now=NOW_FOR_TESTS) is None
    assert snapshot(dialog.database) == recorded


def test_a_recurrence_reads_only_the_first_words(monkeypatch: pytest.MonkeyPatch) -> None:
    folded = Calls(monkeypatch, recurrence, "fold")
    found = recurrence.parse_recurrence("jeden Montag 9:00 Bericht " + "x " * 30_000)
    assert found is not None
    assert found[0].weekdays == (0,)
    assert found[1] == ("Bericht " + "x " * 30_000).strip()
    assert folded.count <= 40
    prefixed = Calls(monkeypatch, dates, "parse_when")
    assert dates.split_when_prefix("x " * 30_000, now=NOW_FOR_TESTS) is None
    assert prefixed.count <= 8


def test_the_date_tokenizer_refuses_texts_longer_than_a_date() -> None:
    langs = language_set(("de", "en"))
    assert tokenize("Freitag, den 4. Dezember 2026 um 10:30 Uhr", langs)
    assert tokenize("Mo " * 13, langs) is None
    assert tokenize("1" * (MAX_DATE_CHARS + 1), langs) is None
    assert dates.parse_duration("1" + " " * 50_000 + "x") is None


# ------------------------------------------------------------------------- reply fallback


def test_the_reply_fallback_is_stripped_in_one_pass() -> None:
    # A 60 kB body of quote lines: the old regex took 5 s, for every text message.
    quote = "> " + "> x\n" * 15_000
    assert strip_reply_fallback(quote + "\n!liste") == "!liste"
    assert strip_reply_fallback(quote + "!liste") == quote + "!liste"  # no blank line: kept
    assert strip_reply_fallback(quote) == quote
    assert strip_reply_fallback("> <@bot:x> #3\n> mehr\n\n!erledigt") == "!erledigt"
    assert strip_reply_fallback("!liste\n> x\n\n") == "!liste\n> x\n\n"


# ---------------------------------------------------------------------- control characters


def test_control_and_bidi_characters_are_removed_before_storing(dialog_both: Dialog) -> None:
    typed = "!verabredung Be\x00richt\u202e an\u2066 Schul\ufeffamt\x1b[31m\u200b neu\r\nfassen"
    reply = dialog_both.say(ANNA, typed)[0]
    assert "Verabredung #1 festgehalten: Bericht an Schulamt[31m neu\nfassen" in reply.body
    with dialog_both.database.session() as s:
        [agreement] = s.exec(select(Agreement)).all()
    assert agreement.text == "Bericht an Schulamt[31m neu\nfassen"
    for char in "\x00\u202e\u2066\ufeff\x1b\u200b\r":
        assert char not in reply.body
        assert char not in reply.html


def test_display_names_are_cleaned_too() -> None:
    room = MatrixRoom(ROOM, BOT)
    room.add_member(ANNA, "Anna\u202e tdimhcS\x00", None)
    room.add_member(BEN, None, None)
    assert display_names(room) == {ANNA: "Anna tdimhcS", BEN: ""}


def test_clean_keeps_what_text_needs() -> None:
    assert clean("Zeile 1\nZeile 2\tTab") == "Zeile 1\nZeile 2\tTab"
    assert clean("👩\u200d💻 und عربي\u200f") == "👩\u200d💻 und عربي\u200f"
    assert clean("a\u2028b\u2029c\rd") == "a\nb\nc\nd"
    assert clean("kaputt\ud800") == "kaputt"
    assert clean("\u00adweich\u2060") == "weich"


def test_an_english_room_gets_the_bounds_in_english(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    ids = tuple(f"@x:s{i}" for i in range(300))
    answer = dialog.text(ANNA, "!list " + " ".join(ids), mentions=ids)
    assert f"The message names more people than one command takes (at most {MAX_MENTIONS})" in (
        answer
    )
    answer = dialog.text(ANNA, "!list " + "x" * 6000)
    assert "The message is too long for this command (6000 characters" in answer


def test_the_bound_of_every_command() -> None:
    check_command("x" * MAX_BODY_CHARS)
    with pytest.raises(CommandError) as refused:
        check_command("x" * (MAX_BODY_CHARS + 1))
    assert refused.value.key == "input.too_long"
    assert refused.value.values == {"length": MAX_BODY_CHARS + 1, "limit": MAX_BODY_CHARS}


def test_mentions_that_are_no_user_ids_name_nobody(dialog: Dialog) -> None:
    # Found by the fuzzing: an empty ID matched everywhere and grew the text.
    html = '!verabredung Plan <a href="https://matrix.to/#/@">x</a>'
    answer = dialog.text(ANNA, "!verabredung Plan 0:/", mentions=("", "anna", "@ben"), html=html)
    assert "Verabredung #1 festgehalten: Plan 0:/" in answer
    assert "Verantwortlich: Anna Schmidt" in answer


@pytest.mark.parametrize("junk", ["\x00", "\ud800", "\u202e", "x" * 10_000])
def test_poll_answers_and_reactions_with_junk_on_both_databases(
    dialog_both: Dialog, junk: str
) -> None:
    [recorded] = dialog_both.say(ANNA, "!verabredung Bericht @ben bis Freitag")
    sent = dialog_both.say(ANNA, "!umfrage Termin? | Montag | Dienstag")
    [poll] = [s for s in sent if s.event_type == "org.matrix.msc3381.poll.start"]
    before = snapshot(dialog_both.database)
    dialog_both.answer_poll(BEN, poll.event_id, (junk,))
    dialog_both.answer_poll(BEN, poll.event_id, (junk, junk))
    dialog_both.react(BEN, junk, poll.event_id)
    dialog_both.react(CHAIR, junk, recorded.event_id)
    assert snapshot(dialog_both.database) == before
    assert "Termin?" in dialog_both.text(ANNA, "!ergebnis 1")
