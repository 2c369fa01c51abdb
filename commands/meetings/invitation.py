"""The invitation reminder: at the invitation period (Ladungsfrist) before each planned
meeting, at the room's reminder hour, the chairs are reminded that the invitation must
go out, with the draft agenda.

A timer (commands.core.timers): the meetings ahead come from the plan at every wake-up,
the rules' period from the room's rules then; what was posted is the outbox's message
under the meeting's key, so a restart neither loses nor repeats a reminder. A reminder
that fell due while the bot was away comes late as long as the meeting has not begun;
none is owed from before the plan was set or before the bot first ran (the reminder
epoch).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from commands.core import i18n
from commands.core.effects import Reply
from commands.core.names import pills
from commands.core.registry import Router
from commands.core.rich import Rich, code
from commands.core.room import LANGUAGE_KEY, chairs
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.meetings.calendar import upcoming_of
from commands.meetings.requests import agenda_text
from commands.parsing.dates import format_date
from commands.procedure.common import room_rules
from commands.procedure.invitations import invitation_deadline, invitation_key, reminder_moment
from commands.reminders.settings import policy_from_settings
from storage import lease, outbox, rooms
from storage import meetings as store

router = Router()

_KEY = "procedure_meetings.invitation"
# Planned meetings looked at per room at most: a weekly series with a long period.
_AHEAD = 20


@router.timer("meeting-invitation")
def remind_invitations(
    db: Session, now: dt.datetime, env: TimerEnv, room_id: str | None
) -> TimerResult:
    result = TimerResult()
    floor = lease.epoch(db)
    for plan in store.active_plans(db, None if room_id is None else [room_id]):
        stored = rooms.get_settings(db, plan.room_id)
        policy = policy_from_settings(stored, env.defaults)
        lang = stored.get(LANGUAGE_KEY) or env.defaults.language
        rules = room_rules(db, plan.room_id, env.defaults)
        local_now = now.astimezone(policy.tz)
        # Enough meetings to reach the period's end even for a weekly series.
        count = min(_AHEAD, 2 + rules.invitation_days // 7)
        for meeting in upcoming_of(plan, local_now, count):
            deadline = invitation_deadline(meeting.date, rules)
            due = reminder_moment(deadline, policy)
            if due > now:
                result.later(due)
                break  # the meetings come in order: the later ones are due later
            if due < plan.set_at or (floor is not None and due < floor):
                continue
            key = invitation_key(plan.room_id, meeting.date)
            if outbox.by_key(db, key) is not None:
                continue
            names = env.members(plan.room_id)
            chair_ids = chairs(
                db,
                plan.room_id,
                power_levels=env.power_levels(plan.room_id),
                members=names or None,
            )
            who = pills(chair_ids, names) if chair_ids else i18n.t(lang, f"{_KEY}.no_chair")
            head = i18n.t(
                lang,
                f"{_KEY}.reminder",
                chairs=who,
                when=meeting.text(lang),
                deadline=format_date(deadline, lang),
                days=rules.invitation_days,
            )
            agenda = agenda_text(
                db,
                plan.room_id,
                meeting,
                lang=lang,
                local_now=local_now,
                names=names,
                rules=rules,
                hint=code("!top <Thema>" if lang == "de" else "!item <topic>"),
                title=False,
            )
            reply = Reply(Rich.join([head, agenda]), notice=False, room_id=plan.room_id)
            result.effects.append(Timed(key, plan.room_id, reply))
    return result
