"""The invitation period (Ladungsfrist): by when the invitation to a meeting must go out,
and when the chair is reminded of it — at the room's reminder hour on that last day, or
on the working day before it when it is a weekend or a public holiday.

The timer that reads the meeting plan and posts the reminder with the draft agenda is
commands.meetings.invitation (the plan is the meetings feature's).
"""

from __future__ import annotations

import datetime as dt

from commands.core.registry import Router
from commands.core.when import combine_local
from commands.procedure.engine import Rules
from commands.reminders.policy import Policy

router = Router()


def invitation_deadline(meeting_date: dt.date, rules: Rules) -> dt.date:
    """The last day the invitation to the meeting may go out."""
    return meeting_date - dt.timedelta(days=rules.invitation_days)


def reminder_moment(deadline: dt.date, policy: Policy) -> dt.datetime:
    """The room's reminder hour on the deadline, or on the working day before it."""
    cal = policy.calendar
    day = deadline if cal.is_working_day(deadline) else cal.working_days_before(deadline, 1)
    return combine_local(day, policy.hour, policy.tz)


def invitation_key(room_id: str, meeting_date: dt.date) -> str:
    """The outbox key of the reminder for the room's meeting on `meeting_date`: once."""
    return f"meeting-invitation:{room_id}:{meeting_date.isoformat()}"
