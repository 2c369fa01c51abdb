"""The roll call and quorum (Beschlussfähigkeit) of a running meeting.

`!sitzung start` asks the members to confirm that they are there: a reaction on that
message (✅, or a wave or a raised hand) or `!anwesend`; the chair enters someone present
in the room who does not write (`!anwesend @ben`) and those excused (`!entschuldigt
@ben`; a member excuses themselves with `!entschuldigt`). The answers are the attendees'
status (storage MeetingAttendee.status); who only wrote keeps none. `!beschlussfähig`
counts the voting members present against the rules' quorum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.effects import Reply
from commands.core.errors import CommandError, PermissionDenied, UsageError
from commands.core.names import display_name
from commands.core.registry import Router
from commands.core.rich import Rich, text
from commands.parsing.mentions import take_mentions
from commands.procedure.common import room_rules, voters
from commands.procedure.describe import threshold_text
from commands.procedure.engine import Threshold, ThresholdKind, quorate
from storage import meetings as store
from storage.models import AttendanceStatus, Meeting, MeetingAttendee, RefKind

router = Router()

_KEY = "procedure_meetings"
# A reaction on the roll call's message that says "here": the check mark it asks for, and
# what people send instead (a wave, a raised hand, a thumb).
ROLL_CALL_KEYS = ("✅", "✔️", "☑️", "👋", "🙋", "🙋‍♀️", "🙋‍♂️", "✋", "👍")


@dataclass(frozen=True)
class Roll:
    """A meeting's roll call as it stands: who answered what, and who votes."""

    # The voting members (commands.procedure.rules.voting_members).
    voting: tuple[str, ...]
    # Present and excused (the roll call's answers).
    present: tuple[str, ...]
    excused: tuple[str, ...]
    # The names the room showed when each attendee was noted.
    noted_names: Mapping[str, str | None]

    @property
    def present_voting(self) -> int:
        """What the quorum counts: voting members present."""
        voting = set(self.voting)
        return sum(1 for u in self.present if u in voting)

    @property
    def unanswered(self) -> tuple[str, ...]:
        """Voting members neither present nor excused."""
        answered = set(self.present) | set(self.excused)
        return tuple(u for u in self.voting if u not in answered)


def roll_of(db: Session, meeting_id: int, voting: Sequence[str]) -> Roll:
    return roll_from(store.attendees(db, meeting_id), voting)


def roll_from(rows: Sequence[MeetingAttendee], voting: Sequence[str]) -> Roll:
    """The roll of a meeting whose attendee rows are read already."""
    by_status: dict[str | None, list[str]] = {}
    for row in rows:
        by_status.setdefault(row.status, []).append(row.user_id)
    return Roll(
        voting=tuple(voting),
        present=tuple(by_status.get(AttendanceStatus.PRESENT, ())),
        excused=tuple(by_status.get(AttendanceStatus.EXCUSED, ())),
        noted_names={r.user_id: r.display_name for r in rows},
    )


def quorum_text(lang: str, present: int, eligible: int, threshold: Threshold) -> Rich:
    """ "7 von 11 stimmberechtigten Mitgliedern anwesend – beschlussfähig (Geschäftsordnung:
    mehr als die Hälfte der stimmberechtigten Mitglieder, also mindestens 6)"."""
    rule = threshold_text(lang, threshold)
    if threshold.kind is not ThresholdKind.AT_LEAST:
        rule = i18n.plain(
            lang, f"{_KEY}.quorum.rule_needed", rule=rule, needed=threshold.needed(eligible)
        )
    met = threshold.met(present, eligible)
    return i18n.t(
        lang,
        f"{_KEY}.quorum.{'met' if met else 'not_met'}",
        present=present,
        eligible=eligible,
        rule=rule,
    )


def _names(user_ids: Sequence[str], members: Mapping[str, str] | None, roll: Roll) -> str:
    shown = [display_name(u, members, roll.noted_names.get(u)) for u in user_ids]
    return ", ".join(sorted(shown, key=str.casefold))


def _running(ctx: Context) -> Meeting:
    meeting = store.running(ctx.db, ctx.room_id)
    if meeting is None:
        raise CommandError(
            f"{_KEY}.roll.none_running", cmd=command_hint(ctx, "sitzung start", "meeting start")
        )
    return meeting


def _answer(ctx: Context, args: str, status: AttendanceStatus) -> Reply:
    word = "anwesend" if status is AttendanceStatus.PRESENT else "entschuldigt"
    english = "present" if status is AttendanceStatus.PRESENT else "excused"
    found = take_mentions(ctx, args)
    if found.text:
        raise UsageError(
            f"{_KEY}.roll.unclear",
            value=found.text,
            example=command_hint(ctx, f"{word} @ben", f"{english} @ben"),
            cmd=command_hint(ctx, word, english),
        )
    people = list(found.user_ids) or [ctx.sender]
    if any(p != ctx.sender for p in people) and ctx.role < Role.CHAIR:
        raise PermissionDenied(f"{_KEY}.roll.others_need_chair")
    meeting = _running(ctx)
    assert meeting.id is not None
    voting = voters(ctx.db, ctx.room_id, ctx.members, ctx.bot_user)
    for person in people:
        in_room = ctx.members is None or person in ctx.members
        if person == ctx.bot_user or not (in_room or person in voting):
            raise CommandError(f"{_KEY}.roll.not_a_member", name=ctx.display_name(person))
    for person in people:
        store.set_status(
            ctx.db, meeting.id, person, ctx.display_name(person) or None, status, ctx.now
        )
    roll = roll_of(ctx.db, meeting.id, voting)
    rules = room_rules(ctx.db, ctx.room_id, ctx.defaults)
    names = ", ".join(ctx.display_name(p) for p in people)
    lines = [
        i18n.t(ctx.lang, f"{_KEY}.roll.{status.value}_set", names=text(names)),
        quorum_text(ctx.lang, roll.present_voting, len(voting), rules.quorum),
    ]
    return Reply(
        Rich.join(lines),
        in_reply_to=ctx.event_id,
        ref_kind=RefKind.MEETING,
        ref_id=meeting.id,
    )


@router.command("anwesend", aliases=("present",))
def present(ctx: Context, args: str) -> Reply:
    """`!anwesend`: here; `!anwesend @ben @carla` (chair): present in the room."""
    return _answer(ctx, args, AttendanceStatus.PRESENT)


@router.command("entschuldigt", aliases=("excused", "apologies"))
def excused(ctx: Context, args: str) -> Reply:
    """`!entschuldigt`: not there, excused; `!entschuldigt @ben` (chair) for someone."""
    return _answer(ctx, args, AttendanceStatus.EXCUSED)


@router.reaction(RefKind.MEETING, ROLL_CALL_KEYS)
def present_by_reaction(ctx: Context, key: str, ref_id: int) -> None:
    """A ✅ (or a wave, a raised hand) on a message about the running meeting: here.
    Quiet: a roll call of eleven members answered eleven times would bury the chat."""
    meeting = ctx.db.get(Meeting, ref_id)
    if meeting is None or meeting.room_id != ctx.room_id or meeting.ended_at is not None:
        return
    if meeting.id is None or ctx.sender == ctx.bot_user:
        return
    store.set_status(
        ctx.db,
        meeting.id,
        ctx.sender,
        ctx.display_name(ctx.sender) or None,
        AttendanceStatus.PRESENT,
        ctx.now,
    )


@router.command("beschlussfähig", aliases=("quorum",))
def quorum(ctx: Context, args: str) -> Rich:
    """The running meeting's quorum by the rules, with who answered the roll call."""
    if args.strip():
        raise UsageError(f"{_KEY}.quorum.takes_nothing")
    meeting = _running(ctx)
    assert meeting.id is not None
    voting = voters(ctx.db, ctx.room_id, ctx.members, ctx.bot_user)
    roll = roll_of(ctx.db, meeting.id, voting)
    rules = room_rules(ctx.db, ctx.room_id, ctx.defaults)
    present_voting = roll.present_voting
    lines = [quorum_text(ctx.lang, present_voting, len(voting), rules.quorum)]
    for group, people in (
        ("present", roll.present),
        ("excused", roll.excused),
        ("unanswered", roll.unanswered),
    ):
        if people:
            lines.append(
                i18n.t(
                    ctx.lang,
                    f"{_KEY}.quorum.{group}",
                    count=len(people),
                    names=text(_names(people, ctx.members, roll)),
                )
            )
    if not quorate(present_voting, len(voting), rules):
        lines.append(
            i18n.t(ctx.lang, f"{_KEY}.quorum.hint", cmd=command_hint(ctx, "anwesend", "present"))
        )
    return Rich.join(lines)
