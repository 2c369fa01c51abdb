"""Editing a command (Element's "Edit", an m.replace event) never runs it a second time.

The rule (docs/editing.md): an edit is not carried out, whatever its text; when the
edited message was a command, or the edit turns a message into one, the bot answers once
per edited message, in the room's language, that the corrected command must be sent as
a new message. Edits of other messages are ignored. The original command ran once, as
first sent.

Every dialog runs the bot's real event handler (bot.runtime.events.EventHandlers.on_text):
`dialog.edit(sender, original, new_text)` sends the m.replace event Element sends.
"""

from __future__ import annotations

from sqlmodel import col, select

from commands.core.defaults import Defaults, Limits
from storage.models import Agreement
from tests.dialog import ANNA, BEN, CHAIR, Dialog
from tests.dialog_bot import text_event


def _send(dialog: Dialog, original: str, new_body: str, *, star: bool = True) -> list[str]:
    return [sent.body for sent in dialog.edit(ANNA, original, new_body, fallback_star=star)]


def _agreements(dialog: Dialog) -> list[tuple[int, str]]:
    with dialog.database.session() as s:
        rows = s.exec(select(Agreement).order_by(col(Agreement.number)))
        return [(a.number, a.text) for a in rows]


def test_an_edit_of_a_handled_command_is_answered_once_and_not_run(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Bericht schrieben bis Freitag")
    original = dialog.last_event_id
    before = _agreements(dialog)

    # Element's form ("* " fallback) and a client without it: neither runs the command.
    first = _send(dialog, original, "!verabredung Bericht schreiben bis Freitag")
    second = _send(dialog, original, "!verabredung Bericht schreiben", star=False)

    assert len(first) == 1
    assert "Änderungen an einem Befehl führe ich nicht aus" in first[0]
    assert "es gilt, was Sie zuerst geschickt haben" in first[0]  # the first version stands
    assert "`!frist 3 Montag`" in first[0]  # and how to correct it
    assert second == []  # one answer per edited message, however often it is edited
    assert _agreements(dialog) == before  # nothing recorded twice, nothing changed


def test_an_edit_that_turns_chat_into_a_command_is_not_run(dialog: Dialog) -> None:
    dialog.chat(BEN, "Bericht bis Freitag?")
    chat = "$ev1"
    replies = _send(dialog, chat, "!verabredung Bericht bis Freitag")
    assert len(replies) == 1
    assert "mit einem neuen Befehl" in replies[0]
    assert _agreements(dialog) == []


def test_an_edit_of_chat_is_none_of_the_bots_business(dialog: Dialog) -> None:
    dialog.chat(BEN, "Bericht bis Freitag?")
    assert _send(dialog, "$ev1", "Bericht bis Donnerstag?") == []


def test_the_answer_is_in_the_rooms_language(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    dialog.say(ANNA, "!agree Write the report by Friday")
    original = dialog.last_event_id
    replies = _send(dialog, original, "!agree Write the final report by Friday")
    assert len(replies) == 1
    assert "I don't carry out changes to a command" in replies[0]
    assert _agreements(dialog) == [(1, "Write the report")]


def test_a_new_message_after_the_answer_runs_as_usual(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Bericht schrieben")
    _send(dialog, dialog.last_event_id, "!verabredung Bericht schreiben")
    assert "#2" in dialog.text(ANNA, "!verabredung Bericht schreiben")
    assert _agreements(dialog) == [(1, "Bericht schrieben"), (2, "Bericht schreiben")]


def test_a_replayed_edit_is_answered_once(dialog: Dialog) -> None:
    dialog.say(ANNA, "!liste")
    edit = text_event("$edit1", ANNA, dialog.now, "!liste alle", replaces=dialog.last_event_id)
    assert len(dialog.receive(edit)) == 1
    assert dialog.receive(edit) == []


def test_editing_many_messages_into_commands_is_flood_controlled(dialog: Dialog) -> None:
    dialog.defaults = Defaults(features={"limits": Limits(command_burst=5)})
    for _ in range(8):
        dialog.chat(BEN, "Bericht bis Freitag?")
    before = dialog._last_row()
    for n in range(1, 9):
        dialog.edit(ANNA, f"$ev{n}", "!liste")
    # As many answers as commands in a row (limits.command_burst), then none.
    assert len(dialog.sent_since(before)) == 5
    assert _agreements(dialog) == []
