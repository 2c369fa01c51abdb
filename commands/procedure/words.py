"""The rules' numbers in the chair's words, German or English, as in the chat command
and the config: `quorum mehr als die Hälfte | ladungsfrist 14 tage | umlauf frist 7 tage,
mindestens die Hälfte, einfache Mehrheit | protokoll einspruchsfrist 14 tage |
tagesordnung anmeldung 10 tage`.

Parts are separated by `|`, `;` or line breaks; inside the circulation's part by commas.
Only the parts named change. Pure: the text in, the changed `Rules` fields (by name, for
`dataclasses.replace`) or the parts that cannot be read out; the caller words the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from commands.core.registry import fold
from commands.parsing.date_words import NUMBER_WORDS
from commands.procedure.engine import Majority, Threshold, ThresholdKind

# Periods a committee's rules can mean: a day at least, a quarter year at most.
MIN_DAYS, MAX_DAYS = 1, 90
# "mindestens N" members: no committee the bot serves has more than this many.
MIN_COUNT, MAX_COUNT = 1, 100

# Rules fields the words set.
QUORUM = "quorum"
INVITATION_DAYS = "invitation_days"
CIRCULATION_DAYS = "circulation_days"
CIRCULATION_PARTICIPATION = "circulation_participation"
MAJORITY = "majority"
CHAIR_BREAKS_TIE = "chair_breaks_tie"
MINUTES_OBJECTION_DAYS = "minutes_objection_days"
AGENDA_CUTOFF_DAYS = "agenda_cutoff_days"


class Trouble(StrEnum):
    """What is wrong with a part; each has its forms in the catalogue
    (`procedure_rules.forms.<value>`)."""

    PART = "part"  # no known setting at its start
    QUORUM = "quorum"  # no threshold after "quorum"
    DAYS = "days"  # no period ("14 Tage", "3 Wochen")
    DAYS_RANGE = "days_range"  # a period outside MIN_DAYS..MAX_DAYS
    COUNT_RANGE = "count_range"  # "mindestens N" outside MIN_COUNT..MAX_COUNT
    CIRCULATION = "circulation"  # an item of the circulation's part
    MAJORITY = "majority"  # no majority after "mehrheit"
    TWICE = "twice"  # the same setting twice with different values


@dataclass(frozen=True)
class Unreadable:
    part: str  # as written
    trouble: Trouble


class UnreadableRules(ValueError):
    def __init__(self, problems: list[Unreadable]) -> None:
        super().__init__("; ".join(f"{p.part!r}: {p.trouble.value}" for p in problems))
        self.problems = problems


_PART_SPLIT = re.compile(r"\s*[|;\n]\s*")
_SPACES = re.compile(r"[\s\-–]+")

_NUMBERS: dict[str, int] = {**NUMBER_WORDS["de"], **NUMBER_WORDS["en"]}
_NUMBER = r"(?P<n>\d{1,4}|[a-z]+)"
_DAY_UNITS = {"tag": 1, "tage": 1, "tagen": 1, "day": 1, "days": 1}
_WEEK_UNITS = {"woche": 7, "wochen": 7, "week": 7, "weeks": 7}
_PERIOD = re.compile(
    r"(?:(?:frist|deadline|period|von|of|mit|with|:)\s*)*" + _NUMBER + r"\s*(?P<unit>[a-z]+)"
)
_MEMBERS = r"(?:\s+(?:der|aller|of|of the|of all)?\s*(?:stimmberechtigten\s+|voting\s+)?" + (
    r"(?:mitglieder|mitgliedern|members))?"
)
_MORE_THAN_HALF = re.compile(r"(?:mehr als (?:die )?haelfte|more than (?:a |one )?half)" + _MEMBERS)
_AT_LEAST_HALF = re.compile(
    r"(?:mindestens (?:die )?haelfte|die haelfte|haelfte|at least (?:a |one )?half|half)" + _MEMBERS
)
_AT_LEAST = re.compile(r"(?:mindestens|wenigstens|at least)\s+" + _NUMBER + _MEMBERS)
_PARTICIPATION_PREFIX = re.compile(
    r"(?:beteiligung|teilnahme|participation|turnout|quorum)\s*:?\s*(?:von\s+|of\s+)?"
)
_SIMPLE = re.compile(
    r"(?:einfache? mehrheit|mehrheit einfache?|simple majority|majority simple)"
    r"(?: der abgegebenen stimmen| of (?:the )?votes cast)?"
)
_ABSOLUTE = re.compile(r"absolute? mehrheit|mehrheit absolute?|absolute majority|majority absolute")
_TWO_THIRDS = re.compile(
    r"zwei ?drittel ?mehrheit|2/3 ?mehrheit|mehrheit von zwei dritteln|zwei ?drittel"
    r"|two ?thirds(?: majority)?|2/3(?: majority)?|majority two ?thirds"
)
_TIE_ON = re.compile(
    r"stichentscheid(?: des vorsitzes| durch den vorsitz| der vorsitzenden| des vorsitzenden)?"
    r"|bei stimmengleichheit entscheidet (?:der|die) vorsitz(?:ende)?"
    r"|(?:the )?chair breaks (?:a |the )?ties?|(?:the )?chair has the casting vote|casting vote"
)
_TIE_OFF = re.compile(
    r"(?:kein|keinen|ohne) stichentscheid(?: des vorsitzes)?"
    r"|(?:the )?chair does not break (?:a |the )?ties?|no casting vote|no tie ?break"
    r"|bei stimmengleichheit abgelehnt|a tie fails|tie fails"
)

# Each part's leading words (folded, spaces collapsed), longest first within a part.
_QUORUM_WORDS = ("beschlussfaehigkeit", "beschlussfaehig", "quorum")
_INVITATION_WORDS = (
    "einladungsfrist",
    "ladungsfrist",
    "einladung",
    "ladung",
    "invitation period",
    "invitations",
    "invitation",
    "notice period",
    "notice",
)
_CIRCULATION_WORDS = (
    "umlaufverfahren",
    "umlaufbeschluss",
    "umlauf",
    "circulation",
    "written procedure",
)
_MINUTES_WORDS = (
    "protokoll einspruchsfrist",
    "protokolle einspruchsfrist",
    "protokoll einspruch",
    "protokoll",
    "einspruchsfrist",
    "minutes objection period",
    "minutes objections",
    "minutes objection",
    "minutes",
    "objection period",
)
_AGENDA_WORDS = (
    "tagesordnung anmeldefrist",
    "tagesordnung anmeldung",
    "tagesordnung antragsfrist",
    "tagesordnung",
    "anmeldefrist",
    "antragsfrist",
    "anmeldung",
    "agenda cutoff",
    "agenda requests",
    "agenda request",
    "agenda",
    "cutoff",
)
_MAJORITY_WORDS = ("mehrheit", "majority")


def parse_rules(words: str) -> dict[str, Any]:
    """The Rules fields the words set, by name (typed values: Threshold, Majority, int,
    bool). Raises UnreadableRules with every part that cannot be read; an empty text sets
    nothing."""
    changes: dict[str, Any] = {}
    problems: list[Unreadable] = []

    def put(part: str, name: str, value: Any) -> None:
        if name in changes and changes[name] != value:
            problems.append(Unreadable(part, Trouble.TWICE))
        changes[name] = value

    for raw in _PART_SPLIT.split(words.strip()):
        part = raw.strip().strip(",.").strip()
        if not part:
            continue
        key = _normal(part)
        found = _part(key, part, put)
        if found is not None:
            problems.append(Unreadable(part, found))
    if problems:
        raise UnreadableRules(problems)
    return changes


def _normal(text: str) -> str:
    return _SPACES.sub(" ", fold(text)).strip()


def _after(key: str, words: tuple[str, ...]) -> str | None:
    """What follows one of the leading words (None: the part starts with none)."""
    for word in words:
        if key == word or key.startswith(word + " ") or key.startswith(word + ":"):
            return key[len(word) :].strip().lstrip(":=").strip()
    return None


def _part(key: str, part: str, put: Any) -> Trouble | None:
    if (rest := _after(key, _QUORUM_WORDS)) is not None:
        threshold = _threshold(rest)
        if isinstance(threshold, Trouble):
            return Trouble.QUORUM if threshold is Trouble.CIRCULATION else threshold
        put(part, QUORUM, threshold)
        return None
    if (rest := _after(key, _CIRCULATION_WORDS)) is not None:
        return _circulation(rest, part, put)
    for words, name in (
        (_INVITATION_WORDS, INVITATION_DAYS),
        (_MINUTES_WORDS, MINUTES_OBJECTION_DAYS),
        (_AGENDA_WORDS, AGENDA_CUTOFF_DAYS),
    ):
        if (rest := _after(key, words)) is not None:
            days = _days(rest)
            if isinstance(days, Trouble):
                return days
            put(part, name, days)
            return None
    majority = _majority(key)
    if majority is not None:
        put(part, MAJORITY, majority)
        return None
    if (rest := _after(key, _MAJORITY_WORDS)) is not None:
        majority = _majority(rest) or _majority(f"{rest} mehrheit")
        if majority is None:
            return Trouble.MAJORITY
        put(part, MAJORITY, majority)
        return None
    tie = _tie(key)
    if tie is not None:
        put(part, CHAIR_BREAKS_TIE, tie)
        return None
    return Trouble.PART


def _circulation(rest: str, part: str, put: Any) -> Trouble | None:
    """`frist 7 tage, mindestens die hälfte, einfache mehrheit, stichentscheid des vorsitzes`"""
    items = [i.strip() for i in re.split(r"\s*,\s*|\s+(?:und|and)\s+", rest) if i.strip()]
    if not items:
        return Trouble.CIRCULATION
    for item in items:
        if (majority := _majority(item)) is not None:
            put(part, MAJORITY, majority)
            continue
        if (tie := _tie(item)) is not None:
            put(part, CHAIR_BREAKS_TIE, tie)
            continue
        threshold = _threshold(_PARTICIPATION_PREFIX.sub("", item, count=1))
        if isinstance(threshold, Threshold):
            put(part, CIRCULATION_PARTICIPATION, threshold)
            continue
        days = _days(item)
        if isinstance(days, int):
            put(part, CIRCULATION_DAYS, days)
            continue
        if threshold is Trouble.COUNT_RANGE:
            return threshold
        return days if days is Trouble.DAYS_RANGE else Trouble.CIRCULATION
    return None


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBERS.get(word)


def _days(rest: str) -> int | Trouble:
    m = _PERIOD.fullmatch(rest)
    if m is None:
        return Trouble.DAYS
    n = _number(m["n"])
    unit = _DAY_UNITS.get(m["unit"]) or _WEEK_UNITS.get(m["unit"])
    if n is None or unit is None:
        return Trouble.DAYS
    days = n * unit
    if not MIN_DAYS <= days <= MAX_DAYS:
        return Trouble.DAYS_RANGE
    return days


def _threshold(rest: str) -> Threshold | Trouble:
    """A threshold; Trouble.CIRCULATION when the words are none (the caller names the
    part), Trouble.COUNT_RANGE for an impossible count."""
    if _MORE_THAN_HALF.fullmatch(rest):
        return Threshold(ThresholdKind.MORE_THAN_HALF)
    if _AT_LEAST_HALF.fullmatch(rest):
        return Threshold(ThresholdKind.AT_LEAST_HALF)
    m = _AT_LEAST.fullmatch(rest)
    if m is not None and (n := _number(m["n"])) is not None:
        if not MIN_COUNT <= n <= MAX_COUNT:
            return Trouble.COUNT_RANGE
        return Threshold(ThresholdKind.AT_LEAST, n)
    return Trouble.CIRCULATION


def _majority(key: str) -> Majority | None:
    if _SIMPLE.fullmatch(key):
        return Majority.SIMPLE
    if _ABSOLUTE.fullmatch(key):
        return Majority.ABSOLUTE
    if _TWO_THIRDS.fullmatch(key):
        return Majority.TWO_THIRDS
    return None


def _tie(key: str) -> bool | None:
    if _TIE_OFF.fullmatch(key):
        return False
    if _TIE_ON.fullmatch(key):
        return True
    return None
