"""Recording agreements from chat: `!verabredung` / `!agree` / `!action`, and ✅ on the answer."""

from __future__ import annotations

import itertools

import pytest
from sqlmodel import func, select

from storage.db import Database
from storage.models import Agreement, AgreementHistory, AgreementOwner
from tests.dialog import ANNA, BEN, CARLA, CHAIR, STRANGER, Dialog, Sent


def other_room(dialog: Dialog) -> Dialog:
    """A second room on the same database; its event IDs differ, as real ones do."""
    return Dialog(dialog.database, room_id="!andere:example.org", _ids=itertools.count(1000))


def pill(user_id: str, name: str) -> str:
    return f'<a href="https://matrix.to/#/{user_id}">{name}</a>'


def rows(db: Database) -> tuple[int, int, int]:
    """How many agreements, owners and history entries are stored."""
    with db.session() as s:
        return (
            s.exec(select(func.count()).select_from(Agreement)).one(),
            s.exec(select(func.count()).select_from(AgreementOwner)).one(),
            s.exec(select(func.count()).select_from(AgreementHistory)).one(),
        )


def record(
    dialog: Dialog,
    sender: str,
    body: str,
    *,
    html: str | None = None,
    mentions: tuple[str, ...] = (),
) -> Sent:
    [reply] = dialog.say(sender, body, html=html, mentions=mentions)
    return reply


# ------------------------------------------------------------------------------ recording


def test_member_records_agreement_with_two_owners_due_next_friday(dialog: Dialog) -> None:
    reply = record(
        dialog,
        CARLA,
        "!verabredung Entwurf Bildungsbericht an Schulamt @anna @ben bis nächsten Freitag",
    )
    assert "Verabredung #1 festgehalten: Entwurf Bildungsbericht an Schulamt" in reply.body
    assert "Verantwortlich: Anna Schmidt, Ben Okafor" in reply.body
    assert "Frist: Fr., 13. März 2026" in reply.body
    # Owners are pills and in m.mentions, so their clients notify them.
    assert reply.mentions == (ANNA, BEN)
    assert 'href="https://matrix.to/#/@anna:example.org">Anna Schmidt</a>' in reply.html
    # The answer carries the agreement: ✅ and replies to it act on #1.
    assert reply.ref_kind == "agreement"
    assert reply.ref_id is not None
    assert reply.in_reply_to == dialog.last_event_id


def test_element_pill_owner_is_read_and_its_name_is_not_part_of_the_text(dialog: Dialog) -> None:
    body = "!verabredung Raum für Fachtag buchen Ben Okafor bis 15.12."
    html = f"!verabredung Raum für Fachtag buchen {pill(BEN, 'Ben Okafor')} bis 15.12."
    reply = record(dialog, ANNA, body, html=html, mentions=(BEN,))
    assert "festgehalten: Raum für Fachtag buchen\n" in reply.body
    assert "Verantwortlich: Ben Okafor" in reply.body
    assert "Frist: Di., 15. Dezember 2026" in reply.body
    assert reply.mentions == (BEN,)


def test_numbers_count_per_room_from_one(dialog: Dialog) -> None:
    other = other_room(dialog)
    assert "#1" in dialog.text(ANNA, "!verabredung Protokoll verschicken")
    assert "#2" in dialog.text(ANNA, "!verabredung Einladung schreiben")
    assert "#1" in other.text(ANNA, "!verabredung Protokoll verschicken")
    assert "#3" in dialog.text(BEN, "!verabredung Raum buchen")


def test_agreement_without_owner_belongs_to_whoever_recorded_it(dialog: Dialog) -> None:
    reply = record(dialog, BEN, "!verabredung Raum buchen")
    assert "Verantwortlich: Ben Okafor" in reply.body
    assert reply.mentions == (BEN,)


def test_agreement_without_date_is_shown_without_due_date(dialog: Dialog) -> None:
    assert "Frist: keine" in dialog.text(BEN, "!verabredung Raum buchen @anna")


def test_due_date_with_time_of_day(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!verabredung Unterlagen hochladen bis morgen 10 Uhr")
    assert "Frist: Di., 10. März 2026, 10:00 Uhr" in answer


@pytest.mark.parametrize("name", ["agree", "action", "VERABREDUNG"])
def test_english_names_record_with_by_and_an_english_date(dialog: Dialog, name: str) -> None:
    answer = dialog.text(ANNA, f"!{name} Send the draft @ben by next friday")
    assert "festgehalten: Send the draft\n" in answer
    assert "Fr., 13. März 2026" in answer


def test_room_in_english_confirms_in_english(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    answer = dialog.text(ANNA, "!agree Send the draft @ben by next friday")
    assert "Agreement #1 recorded: Send the draft" in answer
    assert "Owners: Ben Okafor" in answer
    assert "Due: Fri, 13 March 2026" in answer
    assert "`!done 1`" in answer


def test_html_and_markdown_in_the_text_are_shown_literally_and_escaped(dialog: Dialog) -> None:
    reply = record(dialog, ANNA, "!verabredung <b>Budget</b> **klären** <script>x</script>")
    assert "<b>Budget</b> **klären** <script>x</script>" in reply.body
    assert "&lt;b&gt;Budget&lt;/b&gt; **klären** &lt;script&gt;" in reply.html
    assert "<script>" not in reply.html
    assert "<strong>" not in reply.html
    assert "**klären**" in dialog.text(ANNA, "!zeige 1")


def test_text_of_exactly_2000_characters_is_accepted(dialog: Dialog) -> None:
    assert "#1" in dialog.text(ANNA, "!verabredung " + "x" * 2000)


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!verabredung", "Was wurde verabredet?"),
        ("!verabredung   ", "Was wurde verabredet?"),
        ("!verabredung @ben bis Freitag", "Was wurde verabredet?"),
        ("!verabredung " + "x" * 2001, "zu lang (2001 Zeichen, höchstens 2000)"),
        ("!verabredung " + "x" * 70000, "zu lang"),
        ("!verabredung Raum buchen bis Sankt Nimmerlein", "„Sankt Nimmerlein“ verstehe ich nicht"),
        ("!verabredung Raum buchen bis 31.02.", "„31.02.“ verstehe ich nicht"),
        ("!verabredung Raum buchen bis 01.03.2026", "So., 1. März 2026 liegt in der Vergangenheit"),
        ("!verabredung Raum buchen bis heute 8 Uhr", "liegt in der Vergangenheit"),
        ("!verabredung Raum buchen @fremd", "@fremd:example.org ist nicht in diesem Raum"),
        (
            "!verabredung Raum buchen @fremd @niemand:elsewhere.org",
            "@fremd:example.org, @niemand:elsewhere.org sind nicht in diesem Raum",
        ),
    ],
)
def test_bad_input_is_answered_clearly_and_nothing_is_stored(
    dialog: Dialog, body: str, expected: str
) -> None:
    answer = dialog.text(ANNA, body)
    assert expected in answer
    assert "Traceback" not in answer
    assert rows(dialog.database) == (0, 0, 0)


def test_unclear_date_says_nothing_was_stored_and_how_to_write_it(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!verabredung Raum buchen bis irgendwann mal")
    assert "nichts gespeichert" in answer
    assert "bis Freitag nächste Woche" in answer


def test_empty_text_shows_how_to_use_the_command(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!verabredung")
    assert "`!verabredung Entwurf an Schulamt @Anna bis Freitag`" in answer


def test_bad_input_leaves_earlier_agreements_alone(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Protokoll verschicken @ben bis Freitag")
    dialog.say(ANNA, "!verabredung Raum buchen @fremd")
    assert rows(dialog.database) == (1, 1, 1)
    assert "#2" in dialog.text(ANNA, "!verabredung Raum buchen")


def test_a_stranger_outside_the_member_list_is_refused_in_english_too(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!settings language en")
    answer = dialog.text(ANNA, f"!agree Book the room {STRANGER}")
    assert f"{STRANGER} is not in this room. I haven't saved anything." in answer


# -------------------------------------------------------------------------- reactions


def _confirmation(dialog: Dialog, body: str) -> tuple[str, int]:
    reply = record(dialog, CARLA, body)
    assert reply.ref_kind is not None
    assert reply.ref_id is not None
    return reply.ref_kind, reply.ref_id


def test_owner_marks_agreement_done_with_a_checkmark_reaction(dialog: Dialog) -> None:
    ref = _confirmation(dialog, "!verabredung Raum buchen @ben")
    [answer] = dialog.react(BEN, "✅", ref)
    assert "✅ #1 ist erledigt (Ben Okafor per Reaktion): Raum buchen" in answer.body
    assert answer.ref_kind == "agreement"
    assert "Status: erledigt" in dialog.text(ANNA, "!zeige 1")


@pytest.mark.parametrize("key", ["👍", "✔️", "✔", "👍🏽", "✅\ufe0f"])
def test_thumbs_up_and_other_checkmarks_also_mark_done(dialog: Dialog, key: str) -> None:
    ref = _confirmation(dialog, "!verabredung Raum buchen @ben")
    assert dialog.react(BEN, key, ref)
    assert "Status: erledigt" in dialog.text(ANNA, "!zeige 1")


def test_reaction_by_someone_who_is_no_owner_changes_nothing(dialog: Dialog) -> None:
    ref = _confirmation(dialog, "!verabredung Raum buchen @ben")
    assert dialog.react(ANNA, "✅", ref) == []
    assert dialog.react(CHAIR, "👍", ref) == []
    assert "Status: offen" in dialog.text(ANNA, "!zeige 1")


def test_other_reactions_are_just_reactions(dialog: Dialog) -> None:
    ref = _confirmation(dialog, "!verabredung Raum buchen @ben")
    assert dialog.react(BEN, "🎉", ref) == []
    assert "Status: offen" in dialog.text(ANNA, "!zeige 1")


def test_second_checkmark_on_a_done_agreement_is_silent(dialog: Dialog) -> None:
    ref = _confirmation(dialog, "!verabredung Raum buchen @ben @anna")
    assert dialog.react(BEN, "✅", ref)
    assert dialog.react(ANNA, "✅", ref) == []
    assert dialog.text(ANNA, "!zeige 1").count("als erledigt markiert") == 1


def test_reaction_on_another_rooms_agreement_does_nothing_here(dialog: Dialog) -> None:
    other = other_room(dialog)
    [reply] = other.say(CARLA, "!verabredung Raum buchen @ben")
    assert reply.ref_id is not None
    assert dialog.react(BEN, "✅", ("agreement", reply.ref_id)) == []
    assert "Status: offen" in other.text(BEN, "!zeige 1")


def test_help_explains_recording(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!hilfe verabredung")
    assert "`!verabredung Entwurf an Schulamt @Anna bis Freitag`" in answer
    assert "!agree" in answer
    assert "!action" in answer
    assert "bis nächsten Freitag" in answer
