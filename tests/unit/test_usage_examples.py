"""Every example a usage line promises works when a member types it: `!hilfe` and the
"So geht es" answer show `cmd.<name>.usage`, and people copy those lines literally.

A committee room with what the examples refer to (agreements #1–#5, a pulse and a poll,
a reminder, a meeting plan) hears each example of each command from the coordination,
which may use every command, in German and in English. An example passes when the bot
understood it: whatever it answers, it is not the usage answer, not "unknown command"
and not the internal error. (It may still refuse for a reason of the room's state, e.g.
`!sitzung ende` with no meeting running: that is an answer to a command it understood.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from commands.core.defaults import Defaults, Limits
from commands.core.i18n import Language
from commands.core.registry import Command, CommandOutcome
from commands.features import build_registry
from storage.db import Database
from storage.migrate import upgrade
from tests.dialog import ANNA, BEN, CHAIR, COORDINATOR, REGISTRY, Dialog

# Examples that the room's state refuses once another example ran, each for its reason.
STATEFUL = {
    # The first example of the command closed #3 already.
    "!erledigt 3 Entwurf ist verschickt": "#3 is done by `!erledigt 3` just before",
    "!done 3 draft has been sent": "#3 is done by `!done 3` just before",
    "!verwerfen 3 Termin entfällt": "#3 is cancelled by `!verwerfen 3` just before",
    "!cancel 3 meeting was called off": "#3 is cancelled by `!cancel 3` just before",
    # Reminder #3 was deleted by the example `!erinnerungen löschen 3` just before.
    "!pause 3": "reminder #3 is deleted by `!erinnerungen löschen 3` just before",
    "!weiter 3": "reminder #3 is deleted by `!erinnerungen löschen 3` just before",
    "!resume 3": "reminder #3 is deleted by `!reminders delete 3` just before",
    # A snooze without a number is a reply to a reminder (the help says so).
    "!später 3 tage": "only as a reply to one of the bot's reminders",
    "!snooze 3 days": "only as a reply to one of the bot's reminders",
    # Multiple choice: poll #3 of this room (from `!umfrage mehrfach`) is the one that
    # takes it, if it is #3; the room's earlier polls take the numbers before.
    "!stimme 3 1,4": "poll #3 of this room is a single-choice poll",
    "!vote 3 1,4": "poll #3 of this room is a single-choice poll",
    # A decision of a meeting needs a running meeting with nine voting members present
    # (the examples' room has five members); a follow-up needs Beschluss 2026/3.
    "!beschluss Sommerfest ja 6 nein 1 enthaltung 2": "needs a meeting with 9 present",
    "!decision Summer party yes 6 no 1 abstain 2": "needs a meeting with 9 present",
    "!beschluss 2026/3 folge Zelt anfragen @anna": "Beschluss 2026/3 is not in this room",
    "!decision 2026/3 follow-up Book a tent @anna": "Beschluss 2026/3 is not in this room",
    # The roll call and the quorum are of a running meeting: the examples' meeting (from
    # `!sitzung start` … `!sitzung ende`) has ended.
    "!anwesend": "needs a running meeting",
    "!anwesend @ben": "needs a running meeting",
    "!present": "needs a running meeting",
    "!present @ben": "needs a running meeting",
    "!entschuldigt": "needs a running meeting",
    "!entschuldigt @ben": "needs a running meeting",
    "!excused": "needs a running meeting",
    "!excused @ben": "needs a running meeting",
    "!beschlussfähig": "needs a running meeting",
    "!quorum": "needs a running meeting",
}


def _room(path: Path, lang: Language) -> Dialog:
    db = Database(f"sqlite:///{path / 'examples.db'}")
    upgrade(db.engine)
    # No poll quota: the examples start more polls than one member may run at once.
    quotas = Limits(polls_per_member=0, polls_per_room=0)
    # A registry of its own: the test watches how each command ended.
    dialog = Dialog(
        db,
        defaults=Defaults(language=lang, features={"limits": quotas}),
        registry=build_registry(),
    )
    agree = "!verabredung" if lang == "de" else "!agree"
    for n in range(1, 6):
        dialog.say(ANNA, f"{agree} Punkt {n} @ben")
    dialog.say(CHAIR, "!puls" if lang == "de" else "!pulse")
    poll = "!umfrage Termin? | Montag | Dienstag" if lang == "de" else "!poll Date? | Mon | Tue"
    dialog.say(BEN, poll)
    remind = "!erinnere morgen 10 Uhr Raum buchen"
    dialog.say(ANNA, remind if lang == "de" else "!remind tomorrow 10am Book a room")
    return dialog


def _examples(lang: str) -> list[tuple[str, str]]:
    commands: list[Command] = [c for c in REGISTRY.commands if not c.hidden]
    return [(c.name, example) for c in commands for example in c.examples(lang)]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_usage_example_is_understood_when_typed(tmp_path: Path, lang: Language) -> None:
    dialog = _room(tmp_path, lang)
    outcomes: list[CommandOutcome] = []
    dialog.registry.observe(lambda _name, outcome: outcomes.append(outcome))
    failed = []
    for name, example in _examples(lang):
        outcomes.clear()
        answers = dialog.say(COORDINATOR, example)
        if outcomes != [CommandOutcome.OK] and example not in STATEFUL:
            shown = answers[0].body[:200] if answers else "(no answer)"
            failed.append(f"{name}: {example!r} -> {outcomes} {shown!r}")
    assert not failed, "\n".join(failed)
    assert len(_examples(lang)) > 40  # every command has its examples
