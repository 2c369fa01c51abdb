"""Building a committee's year for the evaluation report: surveys, pulses, agreements.

The rows are made the way the bot makes them (tests.seed, through the storage functions);
votes come from made-up voter hashes, as the bot never stores who voted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session

from storage.models import Agreement, AgreementStatus, Poll, PollKind
from tests import seed
from tests.seed import comments, statement, survey, voter

__all__ = ["agreement", "comments", "pulse", "room", "statement", "survey", "voter"]

CREATOR = "@vorsitz:example.org"


def room(s: Session, room_id: str, *, name: str | None = None) -> None:
    seed.room(s, room_id, name=name)


def pulse(
    s: Session, room_id: str, at: dt.datetime, scores: Sequence[int], *, closed: bool = True
) -> Poll:
    return seed.poll(
        s,
        room_id,
        "Wie zufrieden sind Sie mit der heutigen Sitzung?",
        by=CREATOR,
        at=at,
        kind=PollKind.PULSE,
        closes_at=at + dt.timedelta(days=1),
        votes=[[str(score)] for score in scores],
        closed_at=at + dt.timedelta(days=1) if closed else None,
    )


def agreement(
    s: Session,
    room_id: str,
    created_at: dt.datetime,
    *,
    due: dt.date | None = None,
    done_at: dt.datetime | None = None,
    cancelled: bool = False,
) -> Agreement:
    if done_at is not None:
        status, closed_at = AgreementStatus.DONE, done_at
    elif cancelled:
        status, closed_at = AgreementStatus.CANCELLED, created_at
    else:
        status, closed_at = AgreementStatus.OPEN, None
    return seed.agreement(
        s,
        room_id,
        "Protokoll verschicken",
        by=CREATOR,
        at=created_at,
        owners=[CREATOR],
        due=due,
        status=status,
        closed_at=closed_at,
    )
