"""The Beschlusskontrolle: a committee's agreements as the leadership follows them up, each
with the office responsible (never a person), its due date, its state and the reason for
a delay. The report shows a row as one line, the committee paper as a table row; both
say each cell in the same words (the cells here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from commands.core import i18n
from commands.core.rich import Rich, bold, text
from commands.desk.texts import short
from commands.parsing.periods import short_date
from storage.figures.agreements import State, done_on_time, state_of
from storage.models import Agreement


@dataclass(frozen=True)
class Row:
    """One agreement of the Beschlusskontrolle, with nothing that names a person."""

    number: int
    text: str
    # The offices of its owners (storage.offices), sorted; empty: none given.
    offices: tuple[str, ...]
    due: dt.date | None
    state: State
    # The day it was done or cancelled, in the room's zone.
    closed: dt.date | None
    # The owner's reason for a delay (`!grund`), shown where the item is not done on time.
    reason: str | None
    on_time: bool


def rows(
    found: Sequence[Agreement],
    owners: Mapping[int, Sequence[str]],
    offices: Mapping[str, str],
    zone: ZoneInfo,
    now: dt.datetime,
) -> list[Row]:
    """The rows of a room's agreements; `offices`: each member's office, `now` any zone."""
    local = now.astimezone(zone)
    out: list[Row] = []
    for a in found:
        assert a.id is not None
        named = {offices[u] for u in owners.get(a.id, ()) if u in offices}
        on_time = done_on_time(a, zone)
        out.append(
            Row(
                number=a.number,
                text=a.text,
                offices=tuple(sorted(named, key=str.casefold)),
                due=a.due_date,
                state=state_of(a, local),
                closed=a.closed_at.astimezone(zone).date() if a.closed_at is not None else None,
                reason=None if on_time else a.delay_reason,
                on_time=on_time,
            )
        )
    return out


# ------------------------------------------------------------------------------ the cells


def office_cell(lang: str, row: Row) -> str:
    return ", ".join(row.offices) or i18n.plain(lang, "desk.control.no_office")


def due_cell(lang: str, row: Row) -> str:
    if row.due is None:
        return i18n.plain(lang, "desk.control.no_due")
    return short_date(row.due, lang)


def state_cell(lang: str, row: Row) -> str:
    """ "überfällig", "offen", "erledigt am 12.08.2026" ("…, verspätet" after its due date)."""
    if row.state is State.DONE and row.closed is not None:
        key = "desk.state.done_on" if row.on_time else "desk.state.done_late"
        return i18n.plain(lang, key, date=short_date(row.closed, lang))
    return i18n.plain(lang, f"desk.state.{row.state.value}")


def reason_cell(lang: str, row: Row) -> str | None:
    """The reason given, or for an overdue item that none was; None: nothing to say."""
    if row.reason:
        return " ".join(row.reason.split())
    if row.state is State.OVERDUE:
        return i18n.plain(lang, "desk.control.no_reason")
    return None


def line(lang: str, row: Row) -> Rich:
    """ "#7 Zahlen melden · Amt 40 · Frist 15.09.2026 · überfällig · Grund: …"."""
    values: dict[str, object] = {
        "number": bold(f"#{row.number}"),
        "text": text(short(row.text)),
        "office": text(office_cell(lang, row)),
        "due": due_cell(lang, row),
        "state": state_cell(lang, row),
    }
    reason = reason_cell(lang, row)
    if reason is None:
        return i18n.t(lang, "desk.control.line", **values)
    if row.reason:
        values["reason"] = i18n.t(lang, "desk.control.reason", reason=text(reason))
    else:
        values["reason"] = reason
    return i18n.t(lang, "desk.control.line_reason", **values)
