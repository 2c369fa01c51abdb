"""What stood open and overdue at each month's end (storage.figures.standing), on SQLite
and PostgreSQL: the dashboard's curve beside each committee."""

from __future__ import annotations

import datetime as dt

from storage.db import Database
from storage.figures.standing import Standing, last_months, standing
from storage.models import AgreementStatus
from tests import seed
from tests.dialog import ANNA, BERLIN, ROOM

# Tuesday 14 April 2026, 10:00 in Berlin.
NOW = dt.datetime(2026, 4, 14, 10, 0, tzinfo=BERLIN)
MONTHS = [(2026, 1), (2026, 2), (2026, 3), (2026, 4)]


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=BERLIN)


def test_each_month_end_counts_what_was_recorded_and_not_yet_closed(db: Database) -> None:
    with db.session() as s:
        seed.room(s, ROOM)
        add = seed.agreement
        # Open since January, due at the end of February: overdue from March on.
        add(s, ROOM, "Konzept vorlegen", by=ANNA, at=at(1, 10), due=dt.date(2026, 2, 28))
        # Due on the last day of January and done that evening: never overdue at an end.
        add(
            s, ROOM, "Zahlen melden", by=ANNA, at=at(1, 12), due=dt.date(2026, 1, 31),
            status=AgreementStatus.DONE, closed_at=at(1, 31, 22),
        )  # fmt: skip
        # Done just after midnight on 1 March: still open at the end of February, overdue.
        add(
            s, ROOM, "Raum buchen", by=ANNA, at=at(2, 2), due=dt.date(2026, 2, 20),
            status=AgreementStatus.DONE, closed_at=dt.datetime(2026, 3, 1, 0, 30, tzinfo=BERLIN),
        )  # fmt: skip
        # Cancelled in March: open at the end of February, gone after.
        add(
            s, ROOM, "Flyer drucken", by=ANNA, at=at(2, 10),
            status=AgreementStatus.CANCELLED, closed_at=at(3, 5),
        )  # fmt: skip
        # Recorded in April, due today without a time: not overdue before the day is over.
        add(s, ROOM, "Protokoll verschicken", by=ANNA, at=at(4, 2), due=dt.date(2026, 4, 14))
    with db.session(write=False) as s:
        found = standing(s, {ROOM: BERLIN}, MONTHS, NOW)
    assert found[ROOM] == [
        Standing(open=1, overdue=0),  # January: the concept (Zahlen done on its due day)
        Standing(open=3, overdue=2),  # February: concept and Raum (both overdue), Flyer
        Standing(open=1, overdue=1),  # March: the concept, past its due date
        Standing(open=2, overdue=1),  # now: the concept, and the minutes due today
    ]


def test_the_months_shown_end_with_this_one() -> None:
    assert last_months(dt.date(2026, 2, 10), 4) == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
