"""The results minutes (Ergebnisprotokoll) of a meeting: gathered as facts at its end,
stored as JSON, rendered in the room's language whenever shown.

The minutes are a list of sections, each a JSON object with its `kind`. A section is one
gatherer (what it takes from the database at the end of the meeting) and one renderer
(how it reads), both in `SECTIONS`: adding one (the polls of the meeting) is a pair of
functions here and its texts under `meeting.minutes.*`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.names import display_name
from commands.core.rich import Rich, text
from commands.parsing.dates import format_date, format_datetime
from commands.polls.common import MIN_BREAKDOWN, breakdown_shown, is_open
from commands.procedure.attendance import quorum_text, roll_from
from commands.procedure.decisions import outcome_text
from commands.procedure.describe import votes_text
from commands.procedure.engine import Rules, Votes
from commands.procedure.minutes_approval import OBJECTION_UNTIL, objection_until
from commands.procedure.rules import DEFAULT_RULES, threshold_of, threshold_params
from storage import agreements as agreement_store
from storage import decisions as decision_store
from storage import meetings as store
from storage import polls as poll_store
from storage.figures.agreements import is_overdue
from storage.models import AgreementStatus, Decision, HistoryAction, Meeting, PollKind

log = logging.getLogger(__name__)

Facts = dict[str, Any]
_UTC = ZoneInfo("UTC")
# A shown line of an agreement is shortened to this many characters.
_TEXT_LIMIT = 200


@dataclass(frozen=True)
class Gathering:
    """What a section's gatherer may read at the end of a meeting."""

    db: Session
    meeting: Meeting
    # Display names of the room's members now (attendees who left keep their old one).
    members: Mapping[str, str]
    # The room's time zone: what is overdue at the meeting's end is read in it.
    tz: ZoneInfo = _UTC
    # The voting members and the room's rules at the end: the roll call's count against
    # the quorum, who is absent, the last day for objections to the draft.
    voting: tuple[str, ...] = ()
    rules: Rules = DEFAULT_RULES


def _short(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= _TEXT_LIMIT else flat[: _TEXT_LIMIT - 1].rstrip() + "…"


# ------------------------------------------------------------------------------ attendees


def gather_attendees(g: Gathering) -> Facts:
    """Who answered the roll call (present, excused), who only wrote or reacted, and the
    voting members not heard from at all (absent), with the count against the quorum."""
    assert g.meeting.id is not None
    rows = store.attendees(g.db, g.meeting.id)
    people: list[Facts] = [
        {
            "user_id": a.user_id,
            "name": display_name(a.user_id, g.members, a.display_name),
            "status": a.status,
        }
        for a in rows
    ]
    people.sort(key=lambda p: str(p["name"]).casefold())
    seen = {a.user_id for a in rows}
    absent = [{"user_id": u, "name": display_name(u, g.members)} for u in g.voting if u not in seen]
    absent.sort(key=lambda p: p["name"].casefold())
    roll = roll_from(rows, g.voting)
    quorum = g.rules.quorum
    return {
        "kind": "attendees",
        "roll_call": True,
        "people": people,
        "absent": absent,
        "quorum": {
            "present": roll.present_voting,
            "eligible": len(g.voting),
            "threshold": threshold_params(quorum),
        },
    }


def render_attendees(section: Facts, lang: str) -> list[Rich]:
    people = section.get("people") or []
    if not section.get("roll_call"):
        # Minutes from before the roll call: whoever wrote or reacted was there.
        if not people:
            return [i18n.t(lang, "meeting.minutes.nobody")]
        names = ", ".join(p["name"] for p in people)
        return [i18n.t(lang, "meeting.minutes.attendees", count=len(people), names=names)]
    groups: dict[str, list[str]] = {"present": [], "excused": [], "absent": [], "chat_only": []}
    for p in people:
        group = {"present": "present", "excused": "excused"}.get(p.get("status") or "")
        groups[group or "chat_only"].append(p["name"])
    groups["absent"] = [p["name"] for p in section.get("absent") or []]
    lines = [
        i18n.t(
            lang,
            "meeting.minutes.attendees",
            count=len(groups["present"]),
            names=text(", ".join(groups["present"])),
        )
        if groups["present"]
        else i18n.t(lang, "meeting.minutes.nobody_confirmed")
    ]
    for group in ("excused", "absent", "chat_only"):
        if groups[group]:
            shown = text(", ".join(groups[group]))
            lines.append(
                i18n.t(lang, f"meeting.minutes.{group}", count=len(groups[group]), names=shown)
            )
    q = section.get("quorum") or {}
    if q.get("eligible"):
        threshold = threshold_of(q["threshold"], DEFAULT_RULES.quorum)
        counted = quorum_text(lang, q["present"], q["eligible"], threshold)
        lines.append(i18n.t(lang, "meeting.minutes.quorum", quorum=counted))
    return lines


# ----------------------------------------------------------------------------- agreements


def gather_agreements(g: Gathering) -> Facts:
    """Agreements recorded, completed and otherwise changed while the meeting ran."""
    m = g.meeting
    assert m.ended_at is not None
    changed = store.agreement_changes(g.db, m.room_id, m.started_at, m.ended_at)
    owners = agreement_store.owners_of(g.db, [a.id for a, _ in changed if a.id is not None])
    groups: dict[str, list[Facts]] = {"recorded": [], "done": [], "changed": []}
    for a, rows in changed:
        assert a.id is not None
        actions = list(dict.fromkeys(str(r.action) for r in rows))
        item = {
            "number": a.number,
            "text": _short(a.text),
            "status": str(a.status),
            "owners": [{"user_id": u, "name": display_name(u, g.members)} for u in owners[a.id]],
            "due": agreement_store.due_value(a.due_date, a.due_time),
            "actions": [x for x in actions if x != HistoryAction.CREATED],
        }
        if HistoryAction.CREATED in actions:
            groups["recorded"].append(item)
        elif a.status == AgreementStatus.DONE and HistoryAction.DONE in actions:
            groups["done"].append(item)
        else:
            groups["changed"].append(item)
    return {"kind": "agreements", **groups}


def _due(value: str | None, lang: str) -> str:
    """The due date after the label "Frist:" ("Frist: keine")."""
    due_date, due_time = agreement_store.parse_due_value(value)
    if due_date is None:
        return i18n.plain(lang, "meeting.minutes.due_none")
    day = format_date(due_date, lang)
    return (
        day if due_time is None else format_datetime(dt.datetime.combine(due_date, due_time), lang)
    )


def render_agreements(section: Facts, lang: str) -> list[Rich]:
    lines: list[Rich] = []
    for group in ("recorded", "done", "changed"):
        items = section.get(group) or []
        if not items:
            continue
        lines.append(i18n.t(lang, f"meeting.minutes.{group}", count=len(items)))
        for item in items:
            number = f"#{item['number']}"
            if group == "recorded":
                owners = ", ".join(o["name"] for o in item["owners"]) or i18n.plain(
                    lang, "meeting.minutes.no_owner"
                )
                line = i18n.t(
                    lang,
                    "meeting.minutes.recorded_line",
                    number=number,
                    text=text(item["text"]),
                    owners=owners,
                    due=_due(item["due"], lang),
                )
                if item["status"] == AgreementStatus.DONE:
                    line = line + i18n.t(lang, "meeting.minutes.already_done")
            elif group == "done":
                line = i18n.t(
                    lang, "meeting.minutes.done_line", number=number, text=text(item["text"])
                )
            else:
                changes = ", ".join(
                    i18n.plain(lang, f"meeting.minutes.action.{a}") for a in item["actions"]
                )
                line = i18n.t(
                    lang,
                    "meeting.minutes.changed_line",
                    number=number,
                    text=text(item["text"]),
                    changes=changes,
                )
            lines.append(line)
    if not lines:
        return [i18n.t(lang, "meeting.minutes.no_agreements")]
    return lines


# -------------------------------------------------------------------------------- overdue


def gather_overdue(g: Gathering) -> Facts:
    """The open agreements overdue at the meeting's end, each with the reason given for the
    delay (None: none given), as a Beschlusskontrolle lists them."""
    m = g.meeting
    assert m.ended_at is not None
    at = m.ended_at.astimezone(g.tz)
    items = [
        a for a in agreement_store.open_agreements(g.db, room_id=m.room_id) if is_overdue(a, at)
    ]
    items.sort(key=lambda a: (a.due_date or dt.date.max, a.number))
    return {
        "kind": "overdue",
        "items": [
            {
                "number": a.number,
                "text": _short(a.text),
                "due": agreement_store.due_value(a.due_date, a.due_time),
                "reason": _short(a.delay_reason) if a.delay_reason is not None else None,
            }
            for a in items
        ],
    }


def render_overdue(section: Facts, lang: str) -> list[Rich]:
    items = section.get("items") or []
    if not items:
        return []
    lines = [i18n.t(lang, "meeting.minutes.overdue", count=len(items))]
    for item in items:
        number, shown, due = f"#{item['number']}", text(item["text"]), _due(item["due"], lang)
        reason = item.get("reason")
        if reason:
            line = i18n.t(
                lang,
                "meeting.minutes.overdue_line",
                number=number,
                text=shown,
                due=due,
                reason=text(reason),
            )
        else:
            line = i18n.t(
                lang, "meeting.minutes.overdue_line_no_reason", number=number, text=shown, due=due
            )
        lines.append(line)
    return lines


# ---------------------------------------------------------------------------------- polls


def gather_polls(g: Gathering) -> Facts:
    """The pulses and polls started during the meeting, with what may be shown of them:
    counts only from 3 answers on, and a running pulse's distribution not at all."""
    m = g.meeting
    assert m.ended_at is not None
    items: list[Facts] = []
    for poll in poll_store.in_room(g.db, m.room_id, since=m.started_at, until=m.ended_at):
        tally = poll_store.tally(g.db, poll)
        item: Facts = {
            "number": poll.number,
            "kind": str(poll.kind),
            "question": _short(poll.question),
            "voters": tally.voters,
            "closed": not is_open(poll, m.ended_at),
        }
        if breakdown_shown(poll, tally, m.ended_at):
            item["counts"] = [
                {"text": _short(a.text), "count": tally.counts.get(a.id, 0)}
                for a in poll_store.answers_of(poll)
            ]
            if poll.kind == PollKind.PULSE and tally.mean is not None:
                item["mean"] = round(tally.mean, 2)
        items.append(item)
    return {"kind": "polls", "polls": items}


def render_polls(section: Facts, lang: str) -> list[Rich]:
    items = section.get("polls") or []
    if not items:
        return []
    lines = [i18n.t(lang, "meeting.minutes.polls", count=len(items))]
    for item in items:
        kind = i18n.plain(lang, f"poll.kind.{item['kind']}")
        state = "" if item.get("closed") else i18n.plain(lang, "meeting.minutes.poll_running")
        if "counts" in item:
            parts = ", ".join(f"{c['text']}: {c['count']}" for c in item["counts"])
            if "mean" in item:
                mean = i18n.decimal(item["mean"], lang)
                parts += " – " + i18n.plain(lang, "meeting.minutes.poll_mean", mean=mean)
        else:
            parts = i18n.plain(
                lang, "meeting.minutes.poll_count_only", voters=item["voters"], min=MIN_BREAKDOWN
            )
        lines.append(
            i18n.t(
                lang,
                "meeting.minutes.poll_line",
                kind=kind,
                number=f"#{item['number']}",
                question=text(item["question"]),
                result=text(parts + state),
            )
        )
    return lines


# ------------------------------------------------------------------------------ decisions


def _decision_facts(d: Decision) -> Facts:
    number = None if d.year is None or d.number is None else decision_store.label(d.year, d.number)
    return {
        "label": number,
        "text": " ".join(d.text.split()),
        "outcome": str(d.outcome),
        "yes": d.yes,
        "no": d.no,
        "abstain": d.abstain,
    }


def gather_decisions(g: Gathering) -> Facts:
    """The decisions taken in the meeting (`!beschluss`), and the circulations that ended
    since the previous meeting ended (for the first meeting: before it)."""
    m = g.meeting
    assert m.id is not None
    assert m.ended_at is not None
    previous = store.by_number(g.db, m.room_id, m.number - 1) if m.number > 1 else None
    since = None if previous is None else previous.ended_at or previous.started_at
    taken = decision_store.of_meeting(g.db, m.id)
    circulated = decision_store.circulations_decided(g.db, m.room_id, since, m.ended_at)
    return {
        "kind": "decisions",
        "taken": [_decision_facts(d) for d in taken],
        "circulated": [_decision_facts(d) for d in circulated],
    }


def render_decisions(section: Facts, lang: str) -> list[Rich]:
    lines: list[Rich] = []
    for group, title in (("taken", "decisions"), ("circulated", "circulations")):
        items = section.get(group) or []
        if not items:
            continue
        lines.append(i18n.t(lang, f"procedure_decisions.minutes.{title}", count=len(items)))
        for item in items:
            counts = votes_text(lang, Votes(item["yes"], item["no"], item["abstain"]))
            if item.get("label"):
                named = i18n.plain(lang, "procedure_decisions.beschluss", label=item["label"])
                line = i18n.t(
                    lang,
                    "procedure_decisions.minutes.line_passed",
                    beschluss=named,
                    motion=text(item["text"]),
                    counts=counts,
                )
            else:
                outcome = outcome_text(lang, item["outcome"])
                line = i18n.t(
                    lang,
                    "procedure_decisions.minutes.line_other",
                    motion=text(item["text"]),
                    outcome=outcome,
                    counts=counts,
                )
            lines.append(line)
    return lines


# --------------------------------------------------------------------------------- whole


@dataclass(frozen=True)
class Section:
    gather: Callable[[Gathering], Facts]
    render: Callable[[Facts, str], list[Rich]]


# In the order the minutes show them, by the `kind` each gatherer writes.
SECTIONS: dict[str, Section] = {
    "attendees": Section(gather_attendees, render_attendees),
    "decisions": Section(gather_decisions, render_decisions),
    "agreements": Section(gather_agreements, render_agreements),
    "overdue": Section(gather_overdue, render_overdue),
    "polls": Section(gather_polls, render_polls),
}


def gather(g: Gathering, tz: ZoneInfo) -> str:
    """The minutes' facts of the ended meeting, as stored (JSON)."""
    m = g.meeting
    assert m.ended_at is not None
    g = replace(g, tz=tz)
    facts: Facts = {
        "number": m.number,
        "title": m.title,
        "started_at": m.started_at.isoformat(),
        "ended_at": m.ended_at.isoformat(),
        "timezone": tz.key,
        OBJECTION_UNTIL: objection_until(m.ended_at, g.rules, tz).isoformat(),
        "sections": [section.gather(g) for section in SECTIONS.values()],
    }
    return json.dumps(facts, ensure_ascii=False)


def period(start: dt.datetime, end: dt.datetime, lang: str) -> str:
    """ "Di., 14. April 2026, 16:00–17:30 Uhr" (both moments in their own zone)."""
    if start.date() == end.date():
        suffix = " Uhr" if lang == "de" else ""
        return f"{format_date(start.date(), lang)}, {start:%H:%M}–{end:%H:%M}{suffix}"
    return f"{format_datetime(start, lang)} – {format_datetime(end, lang)}"


def render(stored: str, lang: str, status: Rich | None = None) -> Rich:
    """The minutes in `lang`; `status`: where their approval stands, below the time."""
    facts: Facts = json.loads(stored)
    tz = ZoneInfo(facts["timezone"])
    start = dt.datetime.fromisoformat(facts["started_at"]).astimezone(tz)
    end = dt.datetime.fromisoformat(facts["ended_at"]).astimezone(tz)
    title = facts.get("title")
    lines = [
        i18n.t(lang, "meeting.minutes.title_named", number=facts["number"], title=text(title))
        if title
        else i18n.t(lang, "meeting.minutes.title", number=facts["number"]),
        i18n.t(lang, "meeting.minutes.when", period=period(start, end, lang)),
        *([status] if status is not None else []),
    ]
    for section in facts["sections"]:
        found = SECTIONS.get(section.get("kind", ""))
        if found is None:
            # Minutes written by a newer version: the rest of them is still worth showing.
            log.warning("minutes of meeting %s: unknown section %r", facts["number"], section)
            continue
        lines.extend(found.render(section, lang))
    return Rich.join(lines)
