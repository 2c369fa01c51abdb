"""The follow-up agenda (Nachhalten): the working day before each planned meeting, at the
room's reminder hour, the room's open agreements, overdue and due-by-the-meeting first,
each with its owners mentioned.

A timer (commands.core.timers): the meetings ahead come from the plan at every wake-up,
what was posted from `meeting_agenda`, so a restart neither loses nor repeats an agenda.
An agenda that fell due while the bot was away is posted late, as long as the meeting
has not begun; one that fell due before the plan was set is not owed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlmodel import Session

from commands.core import i18n
from commands.core.effects import Reply
from commands.core.names import pills
from commands.core.registry import Router
from commands.core.rich import Rich, text
from commands.core.room import LANGUAGE_KEY
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.core.when import combine_local
from commands.meetings.calendar import Planned, upcoming_of
from commands.parsing.dates import format_date_short
from commands.reminders.policy import Policy
from commands.reminders.settings import policy_from_settings
from storage import agreements as agreement_store
from storage import meetings as store
from storage import rooms
from storage.figures.agreements import is_overdue
from storage.models import Agreement

router = Router()

_TEXT_LIMIT = 200


def agenda_key(room_id: str, meeting: Planned) -> str:
    return f"meeting-agenda:{room_id}:{meeting.date.isoformat()}"


def agenda_moment(meeting: Planned, policy: Policy) -> dt.datetime:
    """The room's reminder hour on the working day before the meeting."""
    day = policy.calendar.working_days_before(meeting.date, 1)
    return combine_local(day, policy.hour, policy.tz)


@router.timer("meeting-agenda")
def post_agendas(db: Session, now: dt.datetime, env: TimerEnv, room_id: str | None) -> TimerResult:
    result = TimerResult()
    for plan in store.active_plans(db, None if room_id is None else [room_id]):
        stored = rooms.get_settings(db, plan.room_id)
        policy = policy_from_settings(stored, env.defaults)
        lang = stored.get(LANGUAGE_KEY) or env.defaults.language
        local_now = now.astimezone(policy.tz)
        for meeting in upcoming_of(plan, local_now):
            due = agenda_moment(meeting, policy)
            if due > now:
                result.later(due)
                continue
            if due < plan.set_at or store.agenda_posted(db, plan.room_id, meeting.date):
                continue
            key = agenda_key(plan.room_id, meeting)
            names = env.members(plan.room_id)
            rich = agenda_text(db, plan.room_id, meeting, lang, local_now, names)
            store.record_agenda(db, plan.room_id, meeting.date, key=key, at=now)
            reply = Reply(rich, notice=False, room_id=plan.room_id)
            result.effects.append(Timed(key, plan.room_id, reply))
    return result


def _short(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= _TEXT_LIMIT else flat[: _TEXT_LIMIT - 1].rstrip() + "…"


def agenda_text(
    db: Session,
    room_id: str,
    meeting: Planned,
    lang: str,
    local_now: dt.datetime,
    names: Mapping[str, str],
) -> Rich:
    open_ = agreement_store.open_agreements(db, room_id=room_id, with_due_date=False)
    title = i18n.t(lang, "meeting.agenda.title", when=meeting.text(lang))
    if not open_:
        return Rich.join([title, i18n.t(lang, "meeting.agenda.nothing_open")])
    owners = agreement_store.owners_of(db, [a.id for a in open_ if a.id is not None])
    groups: dict[str, list[Agreement]] = {"overdue": [], "by_meeting": [], "later": []}
    for a in open_:
        if is_overdue(a, local_now):
            groups["overdue"].append(a)
        elif a.due_date is not None and a.due_date <= meeting.date:
            groups["by_meeting"].append(a)
        else:
            groups["later"].append(a)
    for items in groups.values():
        items.sort(key=lambda a: (a.due_date or dt.date.max, a.number))
    # A ✅ on this list could not say which agreement it means: the list asks for
    # `!erledigt` with a number, and shows it with the first number it lists.
    first = next(a for items in groups.values() for a in items)
    lines = [title, i18n.t(lang, "meeting.agenda.summary", count=len(open_), example=first.number)]
    for group, items in groups.items():
        if not items:
            continue
        lines.append(i18n.t(lang, f"meeting.agenda.{group}", count=len(items)))
        for a in items:
            assert a.id is not None
            due = (
                format_date_short(a.due_date, lang, local_now.date())
                if a.due_date is not None
                else i18n.plain(lang, "meeting.minutes.due_none")
            )
            line = i18n.t(
                lang,
                "meeting.agenda.line",
                number=f"#{a.number}",
                text=text(_short(a.text)),
                due=due,
                people=pills(owners[a.id] or [a.created_by], names),
            )
            if group == "overdue":
                # What the meeting asks first about a late item: why.
                line = line + _reason(a, lang)
            lines.append(line)
    return Rich.join(lines)


def _reason(a: Agreement, lang: str) -> Rich:
    if a.delay_reason is None:
        return i18n.t(lang, "meeting.agenda.no_reason")
    return i18n.t(lang, "meeting.agenda.reason", reason=text(_short(a.delay_reason)))
