"""The draft agenda (Tagesordnung) of a meeting in the standing order, and which meeting a
member's agenda request is for.

The standing order is what municipal rules prescribe: 1. opening, due invitation and
quorum; 2. approval of the last minutes (with the objections); 3. the report on the
agreements; then the items members asked for (`!top`), the circulations that failed, and
any other business last. The items come from `agenda_request` (storage.agenda_requests);
the meeting that ends on their day takes them up (`take_up`).

The commands and the invitation reminder that read the meeting plan for the dates are
commands.meetings.requests and commands.meetings.invitation: the meeting plan is the
meetings feature's, and the meetings feature builds on the procedure (not the reverse).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from commands.core import i18n
from commands.core.names import display_name
from commands.core.registry import Router
from commands.core.rich import Rich, text
from commands.parsing.dates import format_date
from commands.procedure.decisions import outcome_text
from commands.procedure.engine import Rules
from commands.procedure.minutes_approval import draft_of, minutes_zone
from storage import agenda_requests as agenda_store
from storage import agreements as agreement_store
from storage import decisions as decision_store
from storage import meetings as store
from storage.figures.agreements import is_overdue
from storage.models import AgendaKind, AgendaRequest, DecisionOutcome, Meeting

router = Router()

_KEY = "procedure_meetings.agenda"
# A requested item's text as shown in the agenda is shortened to this many characters.
_TEXT_LIMIT = 200


def cutoff_of(meeting_date: dt.date, rules: Rules) -> dt.date:
    """The last day (room time) to ask for an item on the meeting's agenda."""
    return meeting_date - dt.timedelta(days=rules.agenda_cutoff_days)


@dataclass(frozen=True)
class Placement:
    """Which meeting a request made today is for."""

    # The date stored with the request (None: no meeting planned, the next one).
    meeting_date: dt.date | None
    # The next planned meeting and its cutoff (None: none planned).
    next_date: dt.date | None
    cutoff: dt.date | None
    # Whether the stored date is a planned meeting's (False: "the one after" the last
    # known, stored as the day after it).
    known: bool = True

    @property
    def in_time(self) -> bool:
        return self.meeting_date == self.next_date


def placement(today: dt.date, upcoming: Sequence[dt.date], rules: Rules) -> Placement:
    """The first planned meeting whose cutoff has not passed; after the last one known,
    the meeting after it."""
    if not upcoming:
        return Placement(None, None, None)
    first = upcoming[0]
    for day in upcoming:
        if today <= cutoff_of(day, rules):
            return Placement(day, first, cutoff_of(first, rules))
    return Placement(upcoming[-1] + dt.timedelta(days=1), first, cutoff_of(first, rules), False)


def take_up(db: Session, meeting: Meeting, *, at: dt.datetime, day: dt.date) -> None:
    """The meeting ended at `at` on `day` (room time) took up the items meant for it; the
    minutes objected to whose approval was among them are approved by it."""
    for item in agenda_store.mark_done(db, meeting, meeting_day=day, at=at):
        if item.kind == AgendaKind.MINUTES and item.ref_id is not None:
            objected = db.get(Meeting, item.ref_id)
            if objected is not None and objected.room_id == meeting.room_id:
                store.approve_minutes(db, objected, at)


def _short(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= _TEXT_LIMIT else flat[: _TEXT_LIMIT - 1].rstrip() + "…"


def draft_agenda(
    db: Session,
    room_id: str,
    meeting_date: dt.date | None,
    lang: str,
    local_now: dt.datetime,
    names: Mapping[str, str] | None,
) -> list[Rich]:
    """The numbered items of the draft agenda of the room's meeting on `meeting_date`
    (None: the next, not planned yet), each with its lines below it."""
    items = agenda_store.open_for(db, room_id, meeting_date)
    points: list[list[Rich]] = [
        [i18n.t(lang, f"{_KEY}.opening")],
        _minutes_point(db, room_id, items, lang, names),
        [_report(db, room_id, lang, local_now)],
    ]
    points.extend(
        [_requested(item, lang, names)] for item in items if item.kind == AgendaKind.REQUESTED
    )
    points.extend(
        [_circulation(db, item, lang)] for item in items if item.kind == AgendaKind.CIRCULATION
    )
    points.append([i18n.t(lang, f"{_KEY}.misc")])
    lines: list[Rich] = []
    for number, (head, *below) in enumerate(points, start=1):
        lines.append(i18n.t(lang, f"{_KEY}.item", number=number, item=head))
        lines.extend(below)
    return lines


def _minutes_point(
    db: Session,
    room_id: str,
    items: Sequence[AgendaRequest],
    lang: str,
    names: Mapping[str, str] | None,
) -> list[Rich]:
    """Approval of the minutes: of the last meeting, and of any whose minutes were objected
    to and wait for a meeting; each with where it stands and the objections."""
    objected = [
        m
        for item in items
        if item.kind == AgendaKind.MINUTES and item.ref_id is not None
        if (m := db.get(Meeting, item.ref_id)) is not None
    ]
    last = next((m for m in store.latest(db, room_id, limit=2) if m.minutes is not None), None)
    meetings = {m.id: m for m in [*objected, *([last] if last is not None else [])]}
    if not meetings:
        return [i18n.t(lang, f"{_KEY}.minutes_none")]
    ids = [i for i in meetings if i is not None]
    objections = store.objections(db, ids)
    lines = [i18n.t(lang, f"{_KEY}.minutes")]
    for m in sorted(meetings.values(), key=lambda m: m.number):
        assert m.id is not None
        draft = draft_of(m)
        zone = minutes_zone(m)
        held = format_date(m.started_at.astimezone(zone).date(), lang)
        found = objections[m.id]
        values: dict[str, object] = {"number": m.number, "date": held, "count": len(found)}
        if m.minutes_approved_at is not None:
            approved = m.minutes_approved_at.astimezone(zone).date()
            state, values["approved"] = "minutes_approved", format_date(approved, lang)
        elif draft is not None and m in objected:
            state = "minutes_objected"
        elif draft is not None:
            state, values["until"] = "minutes_running", format_date(draft.until, lang)
        else:
            state = "minutes_plain"
        lines.append(i18n.t(lang, f"{_KEY}.{state}", **values))
        if m.minutes_approved_at is None:
            lines.extend(
                i18n.t(
                    lang,
                    f"{_KEY}.objection",
                    name=display_name(o.user_id, names),
                    reason=text(_short(o.reason)),
                )
                for o in found
            )
    return lines


def _report(db: Session, room_id: str, lang: str, local_now: dt.datetime) -> Rich:
    open_ = agreement_store.open_agreements(db, room_id=room_id, with_due_date=False)
    if not open_:
        return i18n.t(lang, f"{_KEY}.report_none")
    overdue = sum(1 for a in open_ if is_overdue(a, local_now))
    return i18n.t(lang, f"{_KEY}.report", open=len(open_), overdue=overdue)


def _requested(item: AgendaRequest, lang: str, names: Mapping[str, str] | None) -> Rich:
    return i18n.t(
        lang,
        f"{_KEY}.requested",
        text=text(_short(item.text)),
        name=display_name(item.proposed_by, names),
    )


def _circulation(db: Session, item: AgendaRequest, lang: str) -> Rich:
    """A failed circulation with how it ended, in the words its announcement used."""
    decision = None if item.ref_id is None else decision_store.get(db, item.ref_id)
    shown = text(_short(item.text))
    if decision is None or decision.outcome == DecisionOutcome.RUNNING:
        return i18n.t(lang, f"{_KEY}.circulation_plain", text=shown)
    why = outcome_text(lang, decision.outcome)
    return i18n.t(lang, f"{_KEY}.circulation", text=shown, why=why)
