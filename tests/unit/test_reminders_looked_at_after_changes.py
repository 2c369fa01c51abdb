"""After a member's command, reaction or poll answer, the bot looks at the room's reminders
again only when something due may have changed: a command that only read (`!liste`) costs
no look at the timers, which would hold up the database thread for the next command.

`DialogBot.poked` lists the rooms the bot asked its scheduler to look at again.
"""

from __future__ import annotations

from tests.dialog import ANNA, BEN, CHAIR, ROOM, Dialog
from tests.unit.decision_helpers import VOTING, name_voting_members, start, vote

READING = (
    "!hilfe",
    "!liste",
    "!liste meine",
    "!zeige 1",
    "!einstellungen",
    "!verlauf 1",
    "!gibtsnicht",
    "!frist 99 Freitag",
)


def test_commands_that_only_read_leave_the_reminders_alone(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Raumplan klären @ben bis Freitag", mentions=(BEN,))
    dialog.bot.poked.clear()
    for command in READING:
        assert dialog.say(ANNA, command), f"{command} got no answer"
    assert dialog.bot.poked == []


def test_recording_and_changing_an_agreement_has_the_rooms_reminders_looked_at(
    dialog: Dialog,
) -> None:
    [confirmation] = dialog.say(ANNA, "!verabredung Raumplan klären @ben bis Freitag")
    assert dialog.bot.poked == [ROOM]
    dialog.say(ANNA, "!frist 1 30.4.")
    dialog.say(BEN, "!notiz 1 Rückfrage beim Jugendamt")
    assert dialog.bot.poked == [ROOM] * 3
    # Ticked off with ✅ on the confirmation: no answer in the chat, and yet due no more.
    assert confirmation.ref_id is not None
    assert dialog.react(BEN, "✅", ("agreement", confirmation.ref_id))
    assert dialog.bot.poked == [ROOM] * 4
    assert "erledigt" in dialog.text(ANNA, "!zeige 1")
    assert dialog.bot.poked == [ROOM] * 4


def test_a_changed_setting_has_the_rooms_reminders_looked_at(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen zeitzone America/New_York")
    assert dialog.bot.poked == [ROOM]
    # Refused for a member: nothing changed.
    dialog.say(ANNA, "!einstellungen zeitzone Europe/Berlin")
    assert dialog.bot.poked == [ROOM]


def test_a_reaction_that_changes_nothing_leaves_the_reminders_alone(dialog: Dialog) -> None:
    [confirmation] = dialog.say(ANNA, "!verabredung Raumplan klären @ben bis Freitag")
    dialog.bot.poked.clear()
    assert confirmation.ref_id is not None
    assert dialog.react(BEN, "🎉", ("agreement", confirmation.ref_id)) == []
    assert dialog.bot.poked == []


def test_a_deciding_vote_is_sent_at_once_and_has_the_rooms_reminders_looked_at(
    dialog: Dialog,
) -> None:
    name_voting_members(dialog, *VOTING)
    poll, _told = start(dialog, "!umlauf Zuschuss für das Sommerfest")
    for who in VOTING[:-1]:
        assert vote(dialog, who, poll, "yes") == []
    dialog.bot.poked.clear()
    dialog.bot.sender.woken.clear()
    _end, result = vote(dialog, VOTING[-1], poll, "yes")
    assert "angenommen" in result.body
    # The result is handed to the sender at once, not left for its next look.
    assert dialog.bot.sender.woken
    # The circulation ended: its deadline's timer has nothing left to do.
    assert dialog.bot.poked == [ROOM]
