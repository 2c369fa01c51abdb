"""`!sitzung protokoll N pdf` / `!meeting minutes N pdf`: a meeting's results minutes as
a PDF to sign and file: the minutes as `!sitzung protokoll N` shows them (their stored
facts, rendered by the same sections, commands.meetings.minutes), where their approval
stands ("Genehmigt am …" or "Entwurf – noch nicht genehmigt", with the objection period,
commands.procedure.minutes_approval), and lines for the signatures of the chair and the
minute-taker.

The minutes name the people who took part, as the chat's do; everything is text to the
template (escaped there): a line's bold lead ("Anwesend (3):") is found in the chat's
HTML only to set it apart, never passed on as markup.

The command (commands.meetings.sessions) checks which meeting is meant; the PDF is made
here, off the database thread.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.defaults import Defaults
from commands.core.errors import CommandError
from commands.core.registry import Router
from commands.core.rich import Rich, code
from commands.core.room import room_timezone
from commands.core.room_names import room_label
from commands.meetings.minutes import SECTIONS, period
from commands.meetings.sessions import MINUTES_PDF_JOB
from commands.papers.document import Paper, render_pdf
from commands.parsing.dates import format_date, format_datetime
from commands.procedure.minutes_approval import Approval, ApprovalState, approval_of
from storage import meetings as store
from storage.models import Meeting

router = Router()

_K = "papers_reports.minutes."
_BULLET = "• "
_TAGS = re.compile(r"<[^>]+>")


def minutes_paper(
    db: Session,
    room_id: str,
    meeting_number: int,
    lang: str,
    *,
    defaults: Defaults,
    now: dt.datetime,
) -> Paper:
    """The minutes of meeting `meeting_number` of `room_id` in `lang`, their approval as
    it stands at `now`; a CommandError for a meeting that does not exist or still runs."""
    meeting = store.by_number(db, room_id, meeting_number)
    if meeting is None:
        raise CommandError(
            "meeting.no_such",
            number=meeting_number,
            count=store.count(db, room_id),
            cmd=code("!meeting list" if lang == "en" else "!sitzung liste"),
        )
    tz = room_timezone(db, room_id, defaults.timezone)
    if meeting.minutes is None:
        raise CommandError(
            "meeting.still_running",
            number=meeting.number,
            since=format_datetime(meeting.started_at.astimezone(tz), lang),
            cmd=code("!meeting end" if lang == "en" else "!sitzung ende"),
        )
    return _paper(db, meeting, meeting.minutes, lang, tz, now)


@router.file_job(MINUTES_PDF_JOB)
def make_minutes_pdf(db: Session, params: Mapping[str, Any]) -> bytes:
    """The PDF of one `!sitzung protokoll N pdf`, from what the command checked."""
    paper = minutes_paper(
        db,
        params["room"],
        int(params["number"]),
        params["lang"],
        defaults=Defaults(timezone=params["default_tz"]),
        now=dt.datetime.fromisoformat(params["now"]),
    )
    return render_pdf(paper)


def _paper(
    db: Session, meeting: Meeting, stored: str, lang: str, tz: ZoneInfo, now: dt.datetime
) -> Paper:
    facts = json.loads(stored)
    # The time as the minutes were written: in the zone of the room then.
    zone = ZoneInfo(facts["timezone"])
    start = dt.datetime.fromisoformat(facts["started_at"]).astimezone(zone)
    end = dt.datetime.fromisoformat(facts["ended_at"]).astimezone(zone)
    room = room_label(db, meeting.room_id, lang)
    number = facts["number"]
    today = now.astimezone(tz).date()
    title = facts.get("title")
    sections = []
    for section in facts["sections"]:
        found = SECTIONS.get(section.get("kind", ""))
        if found is not None:  # a section of a newer version: the chat leaves it out too
            sections.append(_blocks(found.render(section, lang)))
    return Paper(
        lang=lang,
        title=i18n.plain(lang, _K + "title", number=number),
        header=i18n.plain(
            lang, _K + "header", room=room, number=number, date=format_date(start.date(), lang)
        ),
        date=today,
        template="minutes.html",
        context={
            "lead": i18n.plain(lang, _K + "lead", room=room, period=period(start, end, lang)),
            "meeting_title": i18n.plain(lang, _K + "meeting_title", title=title) if title else None,
            "approval": _approval(approval_of(db, meeting, tz, today), lang),
            "sections": [s for s in sections if s],
            "signatures": [i18n.plain(lang, _K + "chair"), i18n.plain(lang, _K + "minute_taker")],
        },
    )


def _approval(approval: Approval | None, lang: str) -> dict[str, Any]:
    """ "Genehmigt am …" or "Entwurf – noch nicht genehmigt", and why (the period, the
    objections)."""
    if approval is None:  # minutes from before drafts, never approved
        return {"approved": False, "state": i18n.plain(lang, _K + "draft"), "detail": None}
    values: dict[str, object] = {"count": approval.objections}
    if approval.draft is not None:
        values |= {"until": format_date(approval.draft.until, lang), "days": approval.draft.days}
    if approval.state.approved:
        assert approval.approved_on is not None
        detail = {
            ApprovalState.APPROVED: "approved_detail",
            ApprovalState.APPROVED_BY_MEETING: "approved_by_meeting",
        }.get(approval.state)
        approved = format_date(approval.approved_on, lang)
        return {
            "approved": True,
            "state": i18n.plain(lang, _K + "approved", date=approved),
            "detail": i18n.plain(lang, _K + detail, **values) if detail else None,
        }
    detail = {
        ApprovalState.DRAFT: "draft_open",
        ApprovalState.DRAFT_OBJECTED: "draft_objected_open",
        ApprovalState.PERIOD_OVER: "draft_period_over",
        ApprovalState.OBJECTED: "draft_objected",
    }[approval.state]
    return {
        "approved": False,
        "state": i18n.plain(lang, _K + "draft"),
        "detail": i18n.plain(lang, _K + detail, **values),
    }


def _blocks(lines: Sequence[Rich]) -> list[dict[str, Any]]:
    """A section's chat lines as the PDF sets them: a bold lead with its text, a heading
    ("Neu festgehalten (2):"), a list of the bulleted lines after it, plain text."""
    blocks: list[dict[str, Any]] = []
    for line in lines:
        if line.plain.startswith(_BULLET):
            item = line.plain.removeprefix(_BULLET)
            if blocks and blocks[-1]["kind"] == "list":
                blocks[-1]["entries"].append(item)
            else:
                blocks.append({"kind": "list", "entries": [item]})
            continue
        lead = _bold_lead(line)
        if lead and not line.plain[len(lead) :].strip():
            blocks.append({"kind": "heading", "text": lead.rstrip().removesuffix(":")})
        else:
            blocks.append({"kind": "line", "lead": lead, "text": line.plain[len(lead) :]})
    return blocks


def _bold_lead(line: Rich) -> str:
    """The text of the line's bold beginning (the catalogue's "**Anwesend (3):**"), ""
    without one. Read from the HTML only to find where it ends: the text returned is the
    plain text's own."""
    if not line.html.startswith("<b>") or "</b>" not in line.html:
        return ""
    lead = html.unescape(_TAGS.sub("", line.html[3 : line.html.index("</b>")]))
    return lead if line.plain.startswith(lead) else ""
