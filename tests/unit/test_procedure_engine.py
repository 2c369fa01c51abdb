"""The rules of procedure as numbers (commands.procedure.engine): quorum, the participation
a decision by circulation needs, and the majority, with the numbers real committee rules
give (Gemeindeordnung-style: quorum with more than half of the voting members present, a
circulation that fails on any objection, a simple majority of the votes cast)."""

from __future__ import annotations

import pytest

from commands.procedure.engine import (
    Majority,
    Outcome,
    Rules,
    Threshold,
    ThresholdKind,
    Votes,
    circulation,
    majority,
    meeting_decision,
    quorate,
)

MORE_THAN_HALF = Threshold(ThresholdKind.MORE_THAN_HALF)
AT_LEAST_HALF = Threshold(ThresholdKind.AT_LEAST_HALF)
AT_LEAST_3 = Threshold(ThresholdKind.AT_LEAST, 3)


# ------------------------------------------------------------------------------ thresholds


@pytest.mark.parametrize(
    ("threshold", "eligible", "needed"),
    [
        (MORE_THAN_HALF, 11, 6),
        (MORE_THAN_HALF, 10, 6),
        (MORE_THAN_HALF, 2, 2),
        (MORE_THAN_HALF, 1, 1),
        (AT_LEAST_HALF, 11, 6),
        (AT_LEAST_HALF, 10, 5),
        (AT_LEAST_HALF, 2, 1),
        (AT_LEAST_HALF, 1, 1),
        (AT_LEAST_3, 11, 3),
        (AT_LEAST_3, 3, 3),
    ],
)
def test_each_threshold_needs_the_members_the_rules_say(
    threshold: Threshold, eligible: int, needed: int
) -> None:
    assert threshold.needed(eligible) == needed
    assert threshold.met(needed, eligible)
    assert not threshold.met(needed - 1, eligible)


def test_eleven_members_six_present_is_quorate_with_more_than_half() -> None:
    rules = Rules(quorum=MORE_THAN_HALF)
    assert quorate(6, 11, rules)
    assert not quorate(5, 11, rules)


def test_ten_members_five_present_is_quorate_only_with_at_least_half() -> None:
    assert not quorate(5, 10, Rules(quorum=MORE_THAN_HALF))
    assert quorate(5, 10, Rules(quorum=AT_LEAST_HALF))
    assert quorate(6, 10, Rules(quorum=MORE_THAN_HALF))


def test_a_second_meeting_with_at_least_three_decides_with_three_of_many() -> None:
    rules = Rules(quorum=AT_LEAST_3)
    assert quorate(3, 25, rules)
    assert not quorate(2, 25, rules)


def test_at_least_three_cannot_be_met_by_a_committee_of_two() -> None:
    assert AT_LEAST_3.needed(2) == 3
    assert not quorate(2, 2, Rules(quorum=AT_LEAST_3))


@pytest.mark.parametrize("threshold", [MORE_THAN_HALF, AT_LEAST_HALF, AT_LEAST_3])
def test_without_voting_members_nothing_is_ever_quorate(threshold: Threshold) -> None:
    assert not quorate(0, 0, Rules(quorum=threshold))
    assert not quorate(3, 0, Rules(quorum=threshold))
    assert circulation(Votes(3, 0, 0), 0, Rules(circulation_participation=threshold)).outcome is (
        Outcome.TOO_FEW
    )


# -------------------------------------------------------------------------------- majority


@pytest.mark.parametrize(
    ("votes", "passed"),
    [
        (Votes(5, 1, 1), True),
        (Votes(2, 1, 8), True),  # abstentions do not count
        (Votes(1, 0, 9), True),
        (Votes(3, 3, 0), False),  # a tie fails
        (Votes(3, 3, 5), False),
        (Votes(0, 0, 7), False),  # all abstain: no yes, no decision
        (Votes(0, 0, 0), False),
        (Votes(4, 5, 0), False),
    ],
)
def test_a_simple_majority_counts_yes_against_no(votes: Votes, passed: bool) -> None:
    assert majority(votes, Rules(majority=Majority.SIMPLE)) == (passed, False)


@pytest.mark.parametrize(
    ("votes", "passed"),
    [
        (Votes(5, 1, 1), True),
        (Votes(4, 1, 3), False),  # 4 of 8 is half, not more than half
        (Votes(5, 1, 3), True),
        (Votes(2, 1, 8), False),  # abstentions count against
        (Votes(3, 3, 0), False),
        (Votes(0, 0, 4), False),
    ],
)
def test_an_absolute_majority_needs_more_yes_than_half_of_all_votes_cast(
    votes: Votes, passed: bool
) -> None:
    assert majority(votes, Rules(majority=Majority.ABSOLUTE)) == (passed, False)


@pytest.mark.parametrize(
    ("votes", "passed"),
    [
        (Votes(6, 3, 0), True),  # exactly two thirds
        (Votes(6, 4, 0), False),
        (Votes(2, 1, 9), True),  # abstentions do not count
        (Votes(4, 2, 3), True),
        (Votes(1, 1, 0), False),
        (Votes(0, 0, 5), False),  # all abstain
    ],
)
def test_a_two_thirds_majority_counts_yes_and_no_votes(votes: Votes, passed: bool) -> None:
    assert majority(votes, Rules(majority=Majority.TWO_THIRDS)) == (passed, False)


def test_the_chairs_yes_breaks_a_tie_only_where_the_rules_say_so() -> None:
    tie = Votes(3, 3, 1)
    with_tie_break = Rules(chair_breaks_tie=True)
    assert majority(tie, with_tie_break, chair_voted_yes=True) == (True, True)
    # The chair voted no or did not vote: the tie fails.
    assert majority(tie, with_tie_break, chair_voted_yes=False) == (False, False)
    assert majority(tie, Rules(), chair_voted_yes=True) == (False, False)
    # No tie, nothing to break: the chair's yes is one vote like any other.
    assert majority(Votes(4, 3, 0), with_tie_break, chair_voted_yes=True) == (True, False)
    assert majority(Votes(3, 4, 0), with_tie_break, chair_voted_yes=True) == (False, False)
    # All abstaining is no tie the chair could break.
    assert majority(Votes(0, 0, 5), with_tie_break, chair_voted_yes=True) == (False, False)


def test_the_chair_breaks_no_tie_under_an_absolute_or_two_thirds_majority() -> None:
    for kind in (Majority.ABSOLUTE, Majority.TWO_THIRDS):
        rules = Rules(majority=kind, chair_breaks_tie=True)
        assert majority(Votes(3, 3, 0), rules, chair_voted_yes=True) == (False, False)


# ----------------------------------------------------------------------------- circulation


def test_a_circulation_passes_with_enough_taking_part_and_a_majority() -> None:
    verdict = circulation(Votes(5, 1, 1), 11, Rules())
    assert verdict.outcome is Outcome.PASSED
    assert (verdict.participated, verdict.needed, verdict.eligible) == (7, 6, 11)
    assert verdict.passed


def test_abstentions_count_as_taking_part_in_a_circulation() -> None:
    verdict = circulation(Votes(2, 1, 3), 11, Rules())
    assert verdict.outcome is Outcome.PASSED
    assert verdict.participated == 6


def test_a_circulation_with_too_few_votes_does_not_come_about() -> None:
    verdict = circulation(Votes(5, 0, 0), 11, Rules())
    assert verdict.outcome is Outcome.TOO_FEW
    assert (verdict.participated, verdict.needed) == (5, 6)
    assert not verdict.passed


def test_ten_members_five_votes_suffice_when_at_least_half_must_take_part() -> None:
    votes = Votes(3, 2, 0)
    assert circulation(votes, 10, Rules()).outcome is Outcome.TOO_FEW
    rules = Rules(circulation_participation=AT_LEAST_HALF)
    assert circulation(votes, 10, rules).outcome is Outcome.PASSED


def test_at_least_three_votes_decide_a_circulation_of_a_large_committee() -> None:
    rules = Rules(circulation_participation=AT_LEAST_3)
    assert circulation(Votes(2, 1, 0), 30, rules).outcome is Outcome.PASSED
    assert circulation(Votes(2, 0, 0), 30, rules).outcome is Outcome.TOO_FEW


def test_an_objection_ends_a_circulation_whatever_the_votes() -> None:
    verdict = circulation(Votes(10, 0, 0), 11, Rules(), objection=True)
    assert verdict.outcome is Outcome.OBJECTION
    assert not verdict.passed


@pytest.mark.parametrize(
    ("votes", "outcome"),
    [
        (Votes(3, 3, 0), Outcome.REJECTED),  # a tie fails
        (Votes(0, 0, 6), Outcome.REJECTED),  # everyone who answered abstained
        (Votes(2, 4, 0), Outcome.REJECTED),
    ],
)
def test_a_circulation_with_enough_votes_but_no_majority_is_rejected(
    votes: Votes, outcome: Outcome
) -> None:
    assert circulation(votes, 11, Rules()).outcome is outcome


def test_the_chair_breaks_a_tied_circulation_where_the_rules_say_so() -> None:
    rules = Rules(chair_breaks_tie=True)
    verdict = circulation(Votes(3, 3, 0), 11, rules, chair_voted_yes=True)
    assert verdict.outcome is Outcome.PASSED
    assert verdict.tie_broken
    assert not circulation(Votes(3, 3, 0), 11, rules).tie_broken


# --------------------------------------------------------------------------------- meeting


def test_a_meeting_decision_needs_quorum_first() -> None:
    verdict = meeting_decision(Votes(5, 0, 0), 5, 11, Rules())
    assert verdict.outcome is Outcome.TOO_FEW
    assert (verdict.participated, verdict.needed, verdict.eligible) == (5, 6, 11)


def test_a_quorate_meeting_decides_by_majority() -> None:
    passed = meeting_decision(Votes(6, 1, 2), 9, 11, Rules())
    assert passed.outcome is Outcome.PASSED
    assert (passed.participated, passed.needed) == (9, 6)
    assert meeting_decision(Votes(3, 4, 2), 9, 11, Rules()).outcome is Outcome.REJECTED
    assert meeting_decision(Votes(4, 4, 1), 9, 11, Rules()).outcome is Outcome.REJECTED


def test_a_quorate_meeting_where_everyone_abstains_decides_nothing() -> None:
    assert meeting_decision(Votes(0, 0, 7), 7, 11, Rules()).outcome is Outcome.REJECTED


def test_a_tied_meeting_decision_goes_the_chairs_way_where_the_rules_say_so() -> None:
    rules = Rules(chair_breaks_tie=True)
    verdict = meeting_decision(Votes(4, 4, 0), 8, 11, rules, chair_voted_yes=True)
    assert verdict.outcome is Outcome.PASSED
    assert verdict.tie_broken


def test_a_meeting_of_ten_with_five_present_decides_only_under_at_least_half() -> None:
    votes = Votes(4, 1, 0)
    assert meeting_decision(votes, 5, 10, Rules()).outcome is Outcome.TOO_FEW
    rules = Rules(quorum=AT_LEAST_HALF)
    assert meeting_decision(votes, 5, 10, rules).outcome is Outcome.PASSED


def test_a_meeting_without_voting_members_decides_nothing() -> None:
    assert meeting_decision(Votes(0, 0, 0), 0, 0, Rules()).outcome is Outcome.TOO_FEW
