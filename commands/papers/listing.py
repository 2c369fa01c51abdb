"""`!liste pdf` / `!list pdf`: the room's open agreements as a table for the meeting's
handout (number, text, who is responsible as `!liste` names them, due date, state with
the overdue ones marked), A4, the room and the day in the header.

The command (commands.agreements.listing) checks and names the job; the PDF is made here,
off the database thread, from one consistent state of the database. The owners' names
are the room's display names the command saw (the job cannot ask the homeserver): they
come in the job's params by agreement, as the `!liste` answer would have shown them,
never as user IDs. An agreement the command did not see (recorded meanwhile) names its
owners the way the bot names a member whose display name it does not know.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.agreements.common import one_line, short_due
from commands.agreements.listing import LIST_PDF_JOB, PDF_MOST
from commands.core import i18n
from commands.core.names import name_list
from commands.core.registry import Router
from commands.papers.document import Paper, render_pdf
from commands.parsing.dates import format_date
from storage import agreements as store
from storage.figures.agreements import is_overdue
from storage.models import AgreementStatus

router = Router()

# A text is shown on at most a few lines of the table: long ones shortened with "…".
TEXT_LIMIT = 300


def list_paper(
    db: Session,
    room_id: str,
    room: str,
    lang: str,
    now: dt.datetime,
    names: Mapping[str, str],
) -> Paper:
    """The open agreements of `room_id` (named `room`) at `now` (in the room's zone);
    `names`: the owners as shown, by agreement ID."""
    found = store.query(db, room_id, statuses=(AgreementStatus.OPEN,), limit=PDF_MOST)
    owners = store.owners_of(db, [a.id for a in found.items if a.id is not None])
    today = now.date()
    rows: list[dict[str, Any]] = []
    for a in found.items:
        assert a.id is not None
        overdue = is_overdue(a, now)
        state = "agreement.overdue" if overdue else "agreement.status.open"
        rows.append(
            {
                "number": a.number,
                "text": one_line(a.text, TEXT_LIMIT),
                "owners": names.get(str(a.id)) or _owners(lang, owners.get(a.id, [])),
                "due": short_due(lang, today, a.due_date, a.due_time),
                "state": i18n.plain(lang, state),
                "overdue": overdue,
            }
        )
    date = format_date(today, lang)
    return Paper(
        lang=lang,
        title=i18n.plain(lang, "papers.list.title"),
        header=i18n.plain(lang, "papers.list.header", room=room, date=date),
        date=today,
        template="list.html",
        context={
            "room": room,
            "rows": rows,
            "overdue": sum(1 for r in rows if r["overdue"]),
            "more": max(0, found.total - len(rows)),
        },
    )


def _owners(lang: str, user_ids: list[str]) -> str:
    if not user_ids:
        return i18n.plain(lang, "agreement.history.nobody")
    return name_list(user_ids, None)


@router.file_job(LIST_PDF_JOB)
def make_list_pdf(db: Session, params: Mapping[str, Any]) -> bytes:
    """The PDF of one `!liste pdf`, from what the command checked and named."""
    zone = ZoneInfo(params["tz"])
    now = dt.datetime.fromisoformat(params["now"]).astimezone(zone)
    paper = list_paper(
        db, params["room"], params["label"], params["lang"], now, dict(params["names"])
    )
    return render_pdf(paper)
