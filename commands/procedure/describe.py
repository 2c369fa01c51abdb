"""The rules of procedure in plain words (German and English, from the catalogue): a
threshold ("mehr als die Hälfte der stimmberechtigten Mitglieder"), a majority ("einfache
Mehrheit der abgegebenen Stimmen; Enthaltungen zählen nicht"), a room's whole rules one
line per rule, and a verdict with the rule applied ("7 von 11 stimmberechtigten
Mitgliedern haben abgestimmt (nötig: 6); Ja 5, Nein 1, Enthaltung 1; einfache Mehrheit:
angenommen"), which circulations and meeting decisions announce and keep."""

from __future__ import annotations

from collections.abc import Sequence

from commands.core import i18n
from commands.core.rich import Rich
from commands.procedure.engine import (
    Majority,
    Outcome,
    Rules,
    Threshold,
    ThresholdKind,
    Verdict,
    Votes,
)
from commands.procedure.words import MAX_COUNT, MAX_DAYS, MIN_COUNT, MIN_DAYS, Unreadable

_KEY = "procedure_rules"


def threshold_text(lang: str, t: Threshold) -> str:
    """ "mehr als die Hälfte der stimmberechtigten Mitglieder", "mindestens 3 stimmberechtigte
    Mitglieder"."""
    if t.kind is ThresholdKind.AT_LEAST:
        return i18n.plain(lang, f"{_KEY}.threshold.at_least", count=t.count)
    return i18n.plain(lang, f"{_KEY}.threshold.{t.kind.value}")


def majority_text(lang: str, m: Majority) -> str:
    """ "einfache Mehrheit der abgegebenen Stimmen; Enthaltungen zählen nicht"."""
    return i18n.plain(lang, f"{_KEY}.majority.{m.value}")


def majority_name(lang: str, m: Majority) -> str:
    """The majority's short name: "einfache Mehrheit", "Zweidrittelmehrheit"."""
    return i18n.plain(lang, f"{_KEY}.majority_name.{m.value}")


def tie_text(lang: str, rules: Rules) -> str | None:
    """What a tie means; None where the majority cannot tie (only a simple majority can be
    decided by the chair's vote, engine.majority)."""
    if rules.majority is not Majority.SIMPLE:
        return None
    return i18n.plain(lang, f"{_KEY}.tie.{'chair' if rules.chair_breaks_tie else 'fails'}")


def decision_rule_text(lang: str, rules: Rules) -> str:
    """The majority rule with its tie rule, as one phrase."""
    tie = tie_text(lang, rules)
    majority = majority_text(lang, rules.majority)
    return majority if tie is None else f"{majority}; {tie}"


def rules_lines(lang: str, rules: Rules) -> list[Rich]:
    """The rules' numbers, one line per rule."""
    return [
        i18n.t(lang, f"{_KEY}.line.quorum", threshold=threshold_text(lang, rules.quorum)),
        i18n.t(lang, f"{_KEY}.line.majority", majority=decision_rule_text(lang, rules)),
        i18n.t(lang, f"{_KEY}.line.invitation", days=rules.invitation_days),
        i18n.t(
            lang,
            f"{_KEY}.line.circulation",
            days=rules.circulation_days,
            threshold=threshold_text(lang, rules.circulation_participation),
        ),
        i18n.t(lang, f"{_KEY}.line.agenda", days=rules.agenda_cutoff_days),
        i18n.t(lang, f"{_KEY}.line.minutes", days=rules.minutes_objection_days),
    ]


def verdict_text(
    lang: str, verdict: Verdict, votes: Votes, rules: Rules, *, meeting: bool = False
) -> Rich:
    """The result with the rule applied: who took part (circulation) or was present
    (`meeting`) against what was needed, the votes, the majority and the outcome."""
    if verdict.outcome is Outcome.OBJECTION:
        return i18n.t(lang, f"{_KEY}.verdict.objection")
    count = i18n.t(
        lang,
        f"{_KEY}.verdict.{'present' if meeting else 'voted'}",
        participated=verdict.participated,
        eligible=verdict.eligible,
        needed=verdict.needed,
    )
    if verdict.outcome is Outcome.TOO_FEW:
        result = i18n.t(lang, f"{_KEY}.verdict.{'no_quorum' if meeting else 'too_few'}")
        if meeting:
            return count + result
        return count + "; " + votes_text(lang, votes) + result
    return (
        count
        + "; "
        + votes_text(lang, votes)
        + "; "
        + i18n.t(
            lang,
            f"{_KEY}.verdict.decided",
            majority=majority_name(lang, rules.majority),
            result=_result(lang, verdict, votes),
        )
    )


def votes_text(lang: str, votes: Votes) -> Rich:
    """ "Ja 5, Nein 1, Enthaltung 1"."""
    return i18n.t(lang, f"{_KEY}.verdict.votes", yes=votes.yes, no=votes.no, abstain=votes.abstain)


def _result(lang: str, verdict: Verdict, votes: Votes) -> str:
    if verdict.passed:
        return i18n.plain(lang, f"{_KEY}.result.{'tie_broken' if verdict.tie_broken else 'passed'}")
    if votes.yes == 0 and votes.no == 0:
        return i18n.plain(lang, f"{_KEY}.result.only_abstentions")
    if votes.yes == votes.no:
        return i18n.plain(lang, f"{_KEY}.result.tie")
    return i18n.plain(lang, f"{_KEY}.result.rejected")


def unreadable_lines(lang: str, problems: Sequence[Unreadable]) -> list[Rich]:
    """Each part that cannot be read, named, with the forms it may take."""
    return [
        i18n.t(
            lang,
            f"{_KEY}.unreadable",
            part=p.part,
            forms=i18n.t(
                lang,
                f"{_KEY}.forms.{p.trouble.value}",
                min_days=MIN_DAYS,
                max_days=MAX_DAYS,
                min_count=MIN_COUNT,
                max_count=MAX_COUNT,
            ),
        )
        for p in problems
    ]


def unreadable_text(lang: str, problems: Sequence[Unreadable]) -> str:
    """The same as one line of plain text (the config's errors)."""
    return " ".join(line.plain for line in unreadable_lines(lang, problems))
