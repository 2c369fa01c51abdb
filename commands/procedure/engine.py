"""The rules of procedure as numbers, and what they decide: quorum (Beschlussfähigkeit),
the participation and majority a decision by circulation needs (Umlaufverfahren), and the
periods of invitation, agenda requests and objections to minutes. Pure: counts in, a
verdict out; the features read a room's Rules (commands.procedure.rules) and apply these.

Defaults are what municipal committee rules most often say: quorum with more than half of
the voting members present; a circulation of 14 days that needs more than half of them to
take part and a simple majority of the votes cast (abstentions do not count, a tie fails);
an invitation 7 days ahead; agenda requests up to 14 days ahead; 14 days to object to
minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ThresholdKind(StrEnum):
    MORE_THAN_HALF = "more_than_half"  # mehr als die Hälfte
    AT_LEAST_HALF = "at_least_half"  # mindestens die Hälfte
    AT_LEAST = "at_least"  # mindestens `count` (e.g. 3 in a second meeting)


@dataclass(frozen=True)
class Threshold:
    """How many of the voting members must be present or take part."""

    kind: ThresholdKind = ThresholdKind.MORE_THAN_HALF
    count: int = 0

    def needed(self, eligible: int) -> int:
        """The smallest number that meets the threshold among `eligible` members."""
        if self.kind is ThresholdKind.MORE_THAN_HALF:
            return eligible // 2 + 1
        if self.kind is ThresholdKind.AT_LEAST_HALF:
            return (eligible + 1) // 2
        return self.count

    def met(self, n: int, eligible: int) -> bool:
        return eligible > 0 and n >= self.needed(eligible)


class Majority(StrEnum):
    SIMPLE = "simple"  # more yes than no; abstentions do not count
    ABSOLUTE = "absolute"  # more yes than half of all votes cast, abstentions included
    TWO_THIRDS = "two_thirds"  # at least two thirds of the yes and no votes


@dataclass(frozen=True)
class Rules:
    quorum: Threshold = Threshold()
    invitation_days: int = 7
    circulation_days: int = 14
    circulation_participation: Threshold = Threshold()
    majority: Majority = Majority.SIMPLE
    # The chair's yes decides a tie (some rules say so).
    chair_breaks_tie: bool = False
    minutes_objection_days: int = 14
    agenda_cutoff_days: int = 14


class Outcome(StrEnum):
    PASSED = "passed"
    REJECTED = "rejected"  # no majority
    OBJECTION = "objection"  # an objection to the circulation itself
    TOO_FEW = "too_few"  # too few took part, or no quorum


@dataclass(frozen=True)
class Votes:
    yes: int = 0
    no: int = 0
    abstain: int = 0

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    # Who took part (circulation) or was present (meeting), and how many had to.
    participated: int
    needed: int
    eligible: int
    # The tie was decided by the chair's vote.
    tie_broken: bool = False

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


def quorate(present: int, eligible: int, rules: Rules) -> bool:
    """Whether a meeting with `present` of `eligible` voting members may decide."""
    return rules.quorum.met(present, eligible)


def majority(votes: Votes, rules: Rules, *, chair_voted_yes: bool = False) -> tuple[bool, bool]:
    """(passed, decided by the chair's tie-break) for the votes cast."""
    if rules.majority is Majority.ABSOLUTE:
        return 2 * votes.yes > votes.cast, False
    if rules.majority is Majority.TWO_THIRDS:
        both = votes.yes + votes.no
        return both > 0 and 3 * votes.yes >= 2 * both, False
    if votes.yes > votes.no:
        return True, False
    tie = votes.yes == votes.no and votes.yes > 0
    if tie and rules.chair_breaks_tie and chair_voted_yes:
        return True, True
    return False, False


def circulation(
    votes: Votes,
    eligible: int,
    rules: Rules,
    *,
    objection: bool = False,
    chair_voted_yes: bool = False,
) -> Verdict:
    """The result of a decision by circulation once it ends (deadline, everyone answered,
    or an objection)."""
    needed = rules.circulation_participation.needed(eligible)
    if objection:
        return Verdict(Outcome.OBJECTION, votes.cast, needed, eligible)
    if not rules.circulation_participation.met(votes.cast, eligible):
        return Verdict(Outcome.TOO_FEW, votes.cast, needed, eligible)
    passed, tie_broken = majority(votes, rules, chair_voted_yes=chair_voted_yes)
    outcome = Outcome.PASSED if passed else Outcome.REJECTED
    return Verdict(outcome, votes.cast, needed, eligible, tie_broken)


def meeting_decision(
    votes: Votes, present: int, eligible: int, rules: Rules, *, chair_voted_yes: bool = False
) -> Verdict:
    """A decision taken in a meeting: valid only with quorum, then by majority."""
    needed = rules.quorum.needed(eligible)
    if not quorate(present, eligible, rules):
        return Verdict(Outcome.TOO_FEW, present, needed, eligible)
    passed, tie_broken = majority(votes, rules, chair_voted_yes=chair_voted_yes)
    outcome = Outcome.PASSED if passed else Outcome.REJECTED
    return Verdict(outcome, present, needed, eligible, tie_broken)
