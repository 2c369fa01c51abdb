"""What a committee says in a day: a room's commands, drawn from a realistic mix.

Agreement numbers are known in advance: the bot handles a room's commands in the order
sent and numbers its agreements from 1, so `!erledigt 3` can be scripted without reading
the answer first — as the load must not wait for the bot it measures.

Polls do not exist yet. When they do, give `Step.POLL` a weight in `MIX` and write it in
`RoomScript._poll`; the checks of committee_day count every answer by `m.in_reply_to`,
and native poll starts will have to be counted as answers there too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

from bot.devtools.member import pill
from tests.integration.load_rooms import Participant


class Step(StrEnum):
    AGREE = "verabredung"
    LIST = "liste"
    SHOW = "zeige"
    DONE = "erledigt"
    REDATE = "frist"
    NOTE = "notiz"
    HELP = "hilfe"
    REMIND = "erinnere"
    REMINDERS = "erinnerungen"
    SETTINGS = "einstellungen"
    POLL = "umfrage"  # the hook: no weight until polls exist


# Relative frequency of each kind of command in a committee's day.
MIX: dict[Step, float] = {
    Step.AGREE: 5,
    Step.LIST: 3,
    Step.SHOW: 1.5,
    Step.DONE: 2,
    Step.REDATE: 1,
    Step.NOTE: 1,
    Step.HELP: 1,
    Step.REMINDERS: 0.5,
    Step.SETTINGS: 0.3,
    Step.POLL: 0,
}

DEADLINES = (
    "bis Freitag",
    "bis morgen",
    "bis 20.3.",
    "bis nächste Woche",
    "bis Ende des Monats",
    "bis heute",
    "bis Mittwoch",
    "bis KW 14",
)
TOPICS = (
    "Bericht an das Schulamt",
    "Zahlen der Jugendhilfe einholen",
    "Raum für die Fachtagung buchen",
    "Protokoll verschicken",
    "Elternbefragung auswerten",
    "Haushaltsansatz prüfen",
    "Kooperationsvertrag entwerfen",
    "Schulentwicklungsplan abstimmen",
)


@dataclass
class Command:
    sender: Participant
    body: str
    step: Step
    html: str | None = None
    mentions: list[str] | None = None
    # Set for `!erinnere`: the reminder's text, to find it when it falls due.
    reminder: str | None = None


@dataclass
class _Agreement:
    number: int
    owner: Participant
    creator: Participant
    done: bool = False


@dataclass
class RoomScript:
    """The commands of one room, in the order they are sent."""

    index: int
    members: list[Participant]
    rng: random.Random = field(init=False)
    agreements: list[_Agreement] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(1000 + self.index)

    def commands(self, count: int, *, reminders: int = 1) -> list[Command]:
        """`count` commands; the first `reminders` of them set reminders due in a minute."""
        found = [self._remind(i) for i in range(min(reminders, count))]
        steps, weights = zip(*((s, w) for s, w in MIX.items() if w > 0), strict=True)
        while len(found) < count:
            step = self.rng.choices(steps, weights)[0]
            command = self._make(step, len(found))
            if command is not None:
                found.append(command)
        return found

    def _name(self, member: Participant) -> str:
        return member.user_id[1:].split(":", 1)[0]

    def _remind(self, i: int) -> Command:
        text = f"Unterlagen Gremium {self.index}-{i} prüfen"
        return Command(self.members[0], f"!erinnere in 1 Minute {text}", Step.REMIND, reminder=text)

    def _open(self) -> list[_Agreement]:
        return [a for a in self.agreements if not a.done]

    def _make(self, step: Step, i: int) -> Command | None:
        rng = self.rng
        sender = rng.choice(self.members)
        if step == Step.AGREE:
            return self._agree(sender, i)
        if step == Step.LIST:
            return Command(sender, rng.choice(["!liste", "!liste offen", "!liste meine"]), step)
        if step == Step.HELP:
            return Command(sender, rng.choice(["!hilfe", "!hilfe verabredung", "!help"]), step)
        if step == Step.REMINDERS:
            return Command(sender, "!erinnerungen", step)
        if step == Step.SETTINGS:
            return Command(sender, "!einstellungen", step)
        if step == Step.POLL:
            return self._poll(sender)
        candidates = self._open() if step in (Step.DONE, Step.REDATE) else self.agreements
        if not candidates:
            return None
        a = rng.choice(candidates)
        if step == Step.SHOW:
            return Command(sender, f"!zeige {a.number}", step)
        if step == Step.NOTE:
            return Command(sender, f"!notiz {a.number} Rückmeldung aus Sitzung {i}", step)
        if step == Step.DONE:
            a.done = True  # by its owner, who may
            return Command(a.owner, f"!erledigt {a.number}", step)
        return Command(a.owner, f"!frist {a.number} {rng.choice(DEADLINES)[4:]}", step)

    def _agree(self, sender: Participant, i: int) -> Command:
        rng = self.rng
        topic = f"{rng.choice(TOPICS)} ({self.index}-{i})"
        deadline = rng.choice(DEADLINES)
        self.agreements.append(_Agreement(len(self.agreements) + 1, sender, sender))
        others = [m for m in self.members if m is not sender]
        if not others or rng.random() < 0.5:
            return Command(sender, f"!verabredung {topic} {deadline}", Step.AGREE)
        owner = rng.choice(others)
        self.agreements[-1].owner = owner
        name = self._name(owner)
        return Command(
            sender,
            f"!verabredung {topic} {name} {deadline}",
            Step.AGREE,
            html=f"!verabredung {topic} {pill(owner.user_id, name)} {deadline}",
            mentions=[owner.user_id],
        )

    def _poll(self, sender: Participant) -> Command | None:
        return None  # polls do not exist yet (see the module's docstring)
