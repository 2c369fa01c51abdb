"""What happens in `gremienbot demo`: the people, their room and the script, as data.

A committee meeting in an end-to-end encrypted room, then the coordinating office at its
desk. Each feature adds its lines to `SCRIPT`; `bot.devtools.demo` plays it against a real
homeserver and prints every message as it arrives.

A step is one thing a person does in the room:

- `Say`: write a message. A command (it starts with "!") is answered by the bot, and the
  demo waits until the bot has handled it and everything it sent is on screen. `{ben}`
  in the text is a mention pill of that person, written as Element writes it.
- `React`: react to the bot's answer to an earlier `Say` (named by its `label`).
- `Vote`: answer the native poll the bot started in answer to an earlier `Say`.
- `Section`: a heading in the transcript.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    name: str  # the Matrix localpart, and the name in the transcript
    display_name: str
    role: str  # how the demo introduces them


@dataclass(frozen=True)
class Say:
    who: str
    text: str
    label: str | None = None  # later steps refer to the bot's answer by it


@dataclass(frozen=True)
class React:
    who: str
    key: str
    to: str  # the label of the `Say` whose answer is reacted to
    about: str  # how the transcript names that answer


@dataclass(frozen=True)
class Vote:
    who: str
    poll: str  # the label of the `Say` the poll answered
    answer: int  # the answer's number, from 1


@dataclass(frozen=True)
class Section:
    title: str


Step = Say | React | Vote | Section

ROOM_NAME = "Steuerungsgruppe Bildung"

# The first creates the room: the chair (power level 100). Everyone joins the room; the
# coordination is named in the bot's config (`coordination:`), as the operator names the
# coordinating office.
CAST: tuple[Person, ...] = (
    Person("anna", "Anna", "chair (Vorsitz), creates the room"),
    Person("ben", "Ben", "member"),
    Person("clara", "Clara", "member"),
    Person("buero", "Bildungsbüro", "coordination (Koordination, in the bot's config)"),
)
COORDINATION: tuple[str, ...] = ("buero",)

SCRIPT: list[Step] = [
    Section("Die Sitzung"),
    Say("anna", "!sitzung start Jahresplanung", label="sitzung"),
    Say("ben", "Guten Morgen zusammen!"),
    React("ben", "✅", to="sitzung", about="den Sitzungsbeginn"),
    Say("clara", "Hallo, ich bin auch dabei."),
    Say("clara", "!anwesend"),
    Say("anna", "!beschlussfähig"),
    Say("anna", "!sitzung plan jeden zweiten Dienstag im Monat 16 Uhr"),
    Say(
        "anna",
        "!verabredung Einladung zur Fachtagung an die Schulen schicken {ben} bis morgen",
        label="einladung",
    ),
    Say(
        "ben",
        "!verabredung Zahlen der Jugendhilfe für den Bildungsbericht einholen {clara}"
        " bis in 2 Wochen",
    ),
    Say(
        "anna",
        "!verabredung Entwurf Bildungsbericht an das Schulamt {ben} {clara}"
        " bis zur nächsten Sitzung",
    ),
    Say("clara", "!liste"),
    Say("ben", "Die Einladung habe ich eben schon verschickt."),
    React("ben", "✅", to="einladung", about="Verabredung #1"),
    Say("anna", "!puls", label="puls"),
    Vote("ben", "puls", 4),
    Vote("clara", "puls", 5),
    Say("anna", "!schließen 1"),
    Say("anna", "!sitzung ende"),
    Section("Danach: das Bildungsbüro (Koordination)"),
    Say("buero", "!übersicht"),
    Say("buero", "!export"),
]
