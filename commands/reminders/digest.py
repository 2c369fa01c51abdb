"""The weekly digest of a room: open agreements grouped by owner, due this week, overdue.

Pure: it gets the agreements, their owners and the members' names and returns the text,
or None when nothing is open (then no digest is posted).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence

from commands.core import i18n
from commands.core.names import display_name
from commands.core.rich import Rich, text
from commands.parsing.dates import format_date_short
from storage.figures.agreements import is_overdue
from storage.models import Agreement

_LINE_LIMIT = 120


def _short(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= _LINE_LIMIT else flat[: _LINE_LIMIT - 1].rstrip() + "…"


def _number(a: Agreement) -> Rich:
    return Rich(f"#{a.number}", f"<b>#{a.number}</b>")


def digest_text(
    *,
    lang: str,
    now: dt.datetime,
    open_items: Sequence[Agreement],
    owners: Mapping[int, Sequence[str]],
    done_since: Sequence[Agreement] = (),
    names: Mapping[str, str] | None = None,
) -> Rich | None:
    """The digest, or None when nothing is open; `now` in the room's zone."""
    if not open_items:
        return None
    today = now.date()
    names = names or {}
    week_end = today + dt.timedelta(days=6 - today.weekday())

    def order(a: Agreement) -> tuple[int, dt.date, int]:
        if a.due_date is None:
            return (2, dt.date.max, a.number)
        return (0 if is_overdue(a, now) else 1, a.due_date, a.number)

    items = sorted(open_items, key=order)
    overdue = sum(1 for a in items if is_overdue(a, now))
    this_week = sum(
        1
        for a in items
        if a.due_date is not None and not is_overdue(a, now) and today <= a.due_date <= week_end
    )

    def due(a: Agreement) -> Rich:
        if a.due_date is None:
            return i18n.t(lang, "digest.no_due")
        date = format_date_short(a.due_date, lang, today)
        if is_overdue(a, now):
            return i18n.t(lang, "digest.overdue", date=date)
        if a.due_date <= week_end:
            return i18n.t(lang, "digest.due_this_week", date=date)
        return i18n.t(lang, "digest.due", date=date)

    groups: dict[str | None, list[Agreement]] = {}
    for a in items:
        assert a.id is not None
        people: list[str | None] = list(owners.get(a.id) or []) or [None]
        for owner in people:
            groups.setdefault(owner, []).append(a)
    ordered = sorted(
        groups, key=lambda o: (o is None, display_name(o, names).casefold() if o else "")
    )
    _year, week, _ = today.isocalendar()
    lines: list[Rich] = [
        i18n.t(lang, "digest.title", week=week),
        i18n.t(lang, "digest.summary", open=len(items), overdue=overdue, this_week=this_week),
    ]
    for owner in ordered:
        lines.append(Rich("", ""))
        if owner is None:
            lines.append(i18n.t(lang, "digest.nobody"))
        else:
            # Names only, no pills: the weekly digest must not notify everyone.
            name: str = display_name(owner, names)
            lines.append(Rich(name, f"<b>{html.escape(name)}</b>"))
        for a in groups[owner]:
            line = i18n.t(
                lang, "digest.line", number=_number(a), text=text(_short(a.text)), due=due(a)
            )
            lines.append(line)
    if done_since:
        lines.append(Rich("", ""))
        numbers = ", ".join(f"#{a.number}" for a in done_since)
        lines.append(i18n.t(lang, "digest.done", count=len(done_since), numbers=numbers))
    lines.append(Rich("", ""))
    lines.append(i18n.t(lang, "digest.hint", number=items[0].number))
    return Rich.join(lines)
