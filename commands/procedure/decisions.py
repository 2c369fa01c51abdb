"""Decisions (Beschlüsse): `!beschluss <Text> ja 6 nein 1 enthaltung 2` records one taken
in the running meeting, checked against quorum and majority; `!beschluss 2026/3 folge …`
records an agreement that follows from Beschluss 2026/3; `!beschlüsse [jahr]` lists a
year's. Also what the circulation (circulation.py) shares: the room's rules and voting
members, the numbering, and the words of a decision.

A passed decision is numbered per room and year, the year of the day it was decided in
the room's time zone: Beschluss 2026/3.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.agreements.record import confirmation, record_agreement
from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.effects import Reply
from commands.core.errors import CommandError, UsageError
from commands.core.registry import Router, fold
from commands.core.rich import Rich, text
from commands.parsing.dates import format_date, format_datetime
from commands.procedure.attendance import roll_of
from commands.procedure.common import room_rules, voters
from commands.procedure.describe import (
    decision_rule_text,
    threshold_text,
    verdict_text,
    votes_text,
)
from commands.procedure.engine import Outcome, Rules, Votes, meeting_decision
from storage import decisions as store
from storage import meetings as meeting_store
from storage.models import Decision, DecisionKind, DecisionOutcome, RefKind

router = Router()

# A motion or decision longer than this is no text a member reads in a poll or a list.
MOTION_LIMIT = 1000
_KEY = "procedure_decisions"


# ------------------------------------------------------------------------------ shared


def voting_now(ctx: Context) -> list[str]:
    """The room's voting members now."""
    return voters(ctx.db, ctx.room_id, ctx.members, ctx.bot_user)


def check_motion(value: str, *, empty: str, too_long: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise CommandError(empty)
    if len(cleaned) > MOTION_LIMIT:
        raise CommandError(too_long, length=len(cleaned), limit=MOTION_LIMIT)
    return cleaned


def label_of(d: Decision) -> str:
    assert d.year is not None
    assert d.number is not None
    return store.label(d.year, d.number)


def beschluss(lang: str, d: Decision) -> str:
    """ "Beschluss 2026/3"."""
    return i18n.plain(lang, f"{_KEY}.beschluss", label=label_of(d))


def votes_of(d: Decision) -> Votes:
    return Votes(d.yes, d.no, d.abstain)


def counts_text(lang: str, d: Decision) -> Rich:
    return votes_text(lang, votes_of(d))


def outcome_text(lang: str, outcome: str) -> str:
    return i18n.plain(lang, f"{_KEY}.outcome.{outcome}")


def give_number(db: Session, d: Decision, tz: ZoneInfo) -> None:
    """Number a passed decision in the year of the day it was decided, in the room's zone."""
    assert d.decided_at is not None
    store.number(db, d, d.decided_at.astimezone(tz).year)


# ------------------------------------------------------------------- `!beschluss` (meeting)

_COUNT_WORDS: dict[str, str] = {
    **dict.fromkeys(("ja", "yes", "dafuer", "ja-stimmen", "jastimmen"), "yes"),
    **dict.fromkeys(("nein", "no", "dagegen", "nein-stimmen", "neinstimmen"), "no"),
    **dict.fromkeys(
        (
            "enthaltung",
            "enthaltungen",
            "stimmenthaltung",
            "stimmenthaltungen",
            "abstain",
            "abstains",
            "abstention",
            "abstentions",
        ),
        "abstain",
    ),
}
_COUNT_TAIL = re.compile(
    r"(?:^|[\s,;(]+)(?P<word>[^\W\d_]+(?:-[^\W\d_]+)?)\s*:?\s*(?P<n>\d{1,4})\)?[\s,;.]*$"
)
_CHAIR_YES = re.compile(
    r"(?:^|[\s,;(]+)(?:vorsitz|stichentscheid|chair|casting vote)\s*:?\s*(?:ja|yes)\)?[\s,;.]*$",
    re.IGNORECASE,
)
_UNANIMOUS = re.compile(
    r"(?:^|[\s,;(]+)(?:einstimmig|unanimous|unanimously)\)?[\s,;.]*$", re.IGNORECASE
)
_FOLLOW_REF = re.compile(r"(?P<year>\d{4})\s*/\s*(?P<number>\d{1,6})(?:\s+(?P<rest>.*))?$", re.S)
_FOLLOW_WORDS = frozenset({"folge", "folgen", "follow-up", "followup", "follow"})


@dataclasses.dataclass(frozen=True)
class _Counts:
    motion: str
    counts: dict[str, int]
    unanimous: bool
    chair_yes: bool


def _parse_counts(args: str) -> _Counts:
    """The motion and the votes written after it ("ja 6 nein 1 enthaltung 2", in any
    order; "einstimmig"; "vorsitz ja" for the chair's vote on a tie)."""
    rest = args.strip()
    counts: dict[str, int] = {}
    unanimous = chair_yes = False
    while True:
        if (m := _CHAIR_YES.search(rest)) is not None:
            chair_yes, rest = True, rest[: m.start()]
            continue
        if (m := _UNANIMOUS.search(rest)) is not None:
            unanimous, rest = True, rest[: m.start()]
            continue
        m = _COUNT_TAIL.search(rest)
        if m is None:
            break
        kind = _COUNT_WORDS.get(fold(m["word"]))
        if kind is None or kind in counts:
            break
        counts[kind] = int(m["n"])
        rest = rest[: m.start()]
    return _Counts(rest.strip(" ,;:–-"), counts, unanimous, chair_yes)


def _in_meeting(ctx: Context, args: str) -> Reply:
    parsed = _parse_counts(args)
    motion = check_motion(
        parsed.motion, empty=f"{_KEY}.meeting.empty", too_long=f"{_KEY}.meeting.too_long"
    )
    if not parsed.counts and not parsed.unanimous:
        raise UsageError(f"{_KEY}.meeting.no_counts", motion=motion)
    meeting = meeting_store.running(ctx.db, ctx.room_id)
    if meeting is None or meeting.id is None:
        raise CommandError(
            f"{_KEY}.meeting.no_meeting",
            start=command_hint(ctx, "sitzung start", "meeting start"),
            circulation=command_hint(ctx, "umlauf", "circulation"),
        )
    already = store.by_source_event(ctx.db, ctx.event_id)
    if already is not None:  # a replayed command: the same answer
        return _recorded(ctx, already, room_rules(ctx.db, ctx.room_id, ctx.defaults))
    rules = room_rules(ctx.db, ctx.room_id, ctx.defaults)
    voting = voting_now(ctx)
    eligible = len(voting)
    # The roll call counts: voting members who said they are present.
    present = roll_of(ctx.db, meeting.id, voting).present_voting
    if parsed.unanimous and not parsed.counts:
        votes = Votes(yes=present)
    else:
        c = parsed.counts
        votes = Votes(c.get("yes", 0), c.get("no", 0), c.get("abstain", 0))
    verdict = meeting_decision(votes, present, eligible, rules, chair_voted_yes=parsed.chair_yes)
    if verdict.outcome is Outcome.TOO_FEW:
        raise CommandError(
            f"{_KEY}.meeting.no_quorum",
            present=present,
            eligible=eligible,
            needed=verdict.needed,
            threshold=threshold_text(ctx.lang, rules.quorum),
        )
    if votes.cast > present:
        raise CommandError(f"{_KEY}.meeting.too_many", total=votes.cast, present=present)
    passed = verdict.passed
    decision = Decision(
        room_id=ctx.room_id,
        kind=DecisionKind.MEETING,
        outcome=DecisionOutcome.PASSED if passed else DecisionOutcome.REJECTED,
        text=motion,
        meeting_id=meeting.id,
        yes=votes.yes,
        no=votes.no,
        abstain=votes.abstain,
        eligible=eligible,
        participated=present,
        rule=verdict_text(ctx.lang, verdict, votes, rules, meeting=True).plain,
        created_by=ctx.sender,
        created_at=ctx.now,
        decided_at=ctx.now,
        source_event_id=ctx.event_id,
    )
    decision, created = store.create(ctx.db, decision)
    if created and passed:
        give_number(ctx.db, decision, ctx.tz)
    return _recorded(ctx, decision, rules)


def _recorded(ctx: Context, d: Decision, rules: Rules) -> Reply:
    verdict = text(d.rule or decision_rule_text(ctx.lang, rules))
    if d.outcome == DecisionOutcome.PASSED:
        label = label_of(d)
        rich = i18n.t(
            ctx.lang,
            f"{_KEY}.meeting.recorded_passed",
            beschluss=beschluss(ctx.lang, d),
            motion=text(d.text),
            verdict=verdict,
            follow=command_hint(ctx, f"beschluss {label} folge", f"decision {label} follow-up"),
        )
    else:
        rich = i18n.t(
            ctx.lang, f"{_KEY}.meeting.recorded_rejected", motion=text(d.text), verdict=verdict
        )
    return Reply(rich, in_reply_to=ctx.event_id, ref_kind=RefKind.DECISION, ref_id=d.id)


# ---------------------------------------------------------------------- follow-ups


def _follow_up(ctx: Context, year: int, number: int, rest: str) -> Reply:
    label = store.label(year, number)
    decision = store.by_number(ctx.db, ctx.room_id, year, number)
    named = i18n.plain(ctx.lang, f"{_KEY}.beschluss", label=label)
    if decision is None or decision.outcome != DecisionOutcome.PASSED:
        raise CommandError(
            f"{_KEY}.follow.unknown",
            beschluss=named,
            cmd=command_hint(ctx, "beschlüsse", "decisions", year),
        )
    word, _, agreement_text = rest.strip().partition(" ")
    if not word:
        raise CommandError(f"{_KEY}.follow.empty", beschluss=named, label=label)
    if fold(word) not in _FOLLOW_WORDS:
        raise CommandError(f"{_KEY}.follow.unknown_word", label=label)
    if not agreement_text.strip():
        raise CommandError(f"{_KEY}.follow.empty", beschluss=named, label=label)
    agreement, owners = record_agreement(ctx, agreement_text)
    store.add_follow_up(
        ctx.db,
        decision,
        agreement,
        note=i18n.plain(ctx.lang, f"{_KEY}.follow.note", label=label),
        actor=ctx.sender,
        at=ctx.now,
        source_event_id=ctx.event_id,
    )
    reply = confirmation(ctx, agreement, owners)
    extra = i18n.t(ctx.lang, f"{_KEY}.follow.recorded", beschluss=named)
    return dataclasses.replace(reply, rich=reply.rich + "\n" + extra)


@router.command("beschluss", aliases=("decision",), role=Role.CHAIR)
def decision(ctx: Context, args: str) -> Reply:
    ref = _FOLLOW_REF.match(args.strip())
    if ref is not None:
        return _follow_up(ctx, int(ref["year"]), int(ref["number"]), ref["rest"] or "")
    return _in_meeting(ctx, args)


# ------------------------------------------------------------------------ `!beschlüsse`

_YEAR = re.compile(r"\d{4}")
# Years a committee's decisions can be of.
_FIRST_YEAR, _LAST_YEAR = 1900, 2999


def _year(ctx: Context, args: str) -> int:
    wanted = args.strip()
    if not wanted:
        return ctx.now.astimezone(ctx.tz).year
    if not _YEAR.fullmatch(wanted) or not _FIRST_YEAR <= int(wanted) <= _LAST_YEAR:
        raise UsageError(f"{_KEY}.list.bad_year", value=wanted)
    return int(wanted)


def _how(lang: str, d: Decision, meetings: dict[int, int]) -> str:
    if d.kind == DecisionKind.CIRCULATION:
        return i18n.plain(lang, f"{_KEY}.list.how_circulation")
    number = meetings.get(d.meeting_id) if d.meeting_id is not None else None
    if number is None:
        return i18n.plain(lang, f"{_KEY}.list.how_meeting_unknown")
    return i18n.plain(lang, f"{_KEY}.list.how_meeting", number=number)


def _local_date(d: Decision, tz: ZoneInfo) -> dt.date:
    moment = d.decided_at or d.created_at
    return moment.astimezone(tz).date()


@router.command("beschlüsse", aliases=("decisions",))
def listing(ctx: Context, args: str) -> Rich:
    lang, tz = ctx.lang, ctx.tz
    year = _year(ctx, args)
    passed = store.passed_in(ctx.db, ctx.room_id, year)
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    failed = store.not_passed_between(ctx.db, ctx.room_id, start, end)
    this_year = year == ctx.now.astimezone(tz).year
    running = store.running(ctx.db, ctx.room_id) if this_year else []
    meetings = store.meeting_numbers(
        ctx.db, [d.meeting_id for d in (*passed, *failed) if d.meeting_id is not None]
    )
    follow = store.follow_ups(ctx.db, ctx.room_id, [label_of(d) for d in passed])
    lines: list[Rich] = [i18n.t(lang, f"{_KEY}.list.title", year=year)]
    if not passed:
        lines.append(i18n.t(lang, f"{_KEY}.list.none", year=year))
    for d in passed:
        lines.append(
            i18n.t(
                lang,
                f"{_KEY}.list.line",
                label=label_of(d),
                date=format_date(_local_date(d, tz), lang),
                motion=text(d.text),
                how=_how(lang, d, meetings),
                counts=counts_text(lang, d),
            )
        )
        agreements = follow.get(label_of(d)) or []
        if agreements:
            numbers = ", ".join(f"#{a.number}" for a in agreements)
            lines.append(i18n.t(lang, f"{_KEY}.list.follow_ups", numbers=numbers))
    if running:
        lines.append(i18n.t(lang, f"{_KEY}.list.running_title", count=len(running)))
        for d in running:
            until = format_datetime(d.deadline.astimezone(tz), lang) if d.deadline else "—"
            lines.append(
                i18n.t(lang, f"{_KEY}.list.running_line", motion=text(d.text), until=until)
            )
    if failed:
        lines.append(i18n.t(lang, f"{_KEY}.list.failed_title", count=len(failed)))
        lines.extend(
            i18n.t(
                lang,
                f"{_KEY}.list.failed_line",
                date=format_date(_local_date(d, tz), lang),
                motion=text(d.text),
                outcome=outcome_text(lang, d.outcome),
            )
            for d in failed
        )
    return Rich.join(lines)
