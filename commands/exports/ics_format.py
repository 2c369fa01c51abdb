"""ICS (iCalendar, via the icalendar library): the sections' calendar items, i.e. each open
agreement with a due date. `ics`: as to-dos (VTODO, for Thunderbird, Apple Reminders …);
`ics-events`: as all-day events (VEVENT), because Outlook does not import to-dos."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO

from sqlmodel import Session

from commands.exports.rendering import Progress
from commands.exports.sections import CalendarItem, Scope, Section

if TYPE_CHECKING:
    from icalendar import Calendar

MIMETYPE = "text/calendar"
PRODID = "-//gremienbot//Verabredungen//DE"


def _items(
    db: Session, sections: Sequence[Section], scope: Scope, progress: Progress
) -> Iterator[CalendarItem]:
    n = 0
    for section in sections:
        if section.calendar is None:
            continue
        for item in section.calendar(db, scope):
            n += 1
            yield item
    progress("calendar", n)


def _calendar(scope: Scope) -> Calendar:
    # Imported for an export only: 8 MB of the running bot's memory otherwise.
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "gremienbot")
    cal.add("x-wr-timezone", str(scope.tz))
    return cal


def render_todos(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    cal = _calendar(scope)
    stamp = scope.now.astimezone(dt.UTC)
    # For an export only, as in _calendar.
    from icalendar import Todo

    for item in _items(db, sections, scope, progress):
        todo = Todo()
        todo.add("uid", item.uid)
        todo.add("dtstamp", stamp)
        todo.add("summary", item.summary)
        todo.add("description", item.description)
        # A due time is given in UTC, so no VTIMEZONE is needed; a date stays a date.
        todo.add("due", item.moment.astimezone(dt.UTC) if item.moment else item.day)
        todo.add("status", "NEEDS-ACTION")
        cal.add_component(todo)
    out.write(cal.to_ical())


def render_events(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    cal = _calendar(scope)
    stamp = scope.now.astimezone(dt.UTC)
    # For an export only, as in _calendar.
    from icalendar import Event

    for item in _items(db, sections, scope, progress):
        event = Event()
        event.add("uid", item.uid + "-event")
        event.add("dtstamp", stamp)
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + dt.timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    out.write(cal.to_ical())
