"""`!übersicht` / `!overview`: every committee's open and overdue agreements, grouped by
owner, with its punctuality, each overdue one with the reason its owners gave (or that
they gave none), and the possible duplicate work across committees.

Coordination only. An overview that would not fit a few messages (many rooms with many
open agreements) shows each committee in one line and points to `!export` instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.figure_lines import punctuality
from commands.core.registry import Router
from commands.core.rich import Rich, bold, text
from commands.core.room import committee_zones
from commands.core.room_names import room_name
from commands.desk.overlaps import overlaps_of
from commands.desk.texts import overlap_lines, short
from commands.parsing.dates import format_date
from commands.parsing.periods import FIRST_YEAR
from storage import agreements as store
from storage import rooms
from storage.figures.agreements import AgreementFigures, agreement_figures, is_overdue
from storage.figures.period import days
from storage.models import Agreement

router = Router()

# Plain characters beyond which the overview lists committees in one line each: with its
# HTML twin, that is about three messages of the homeserver's size.
DETAIL_LIMIT = 30_000


@router.command("übersicht", aliases=("overview",), role=Role.COORDINATION)
def overview(ctx: Context, args: str) -> Rich:
    zone = ctx.defaults.zone
    now = ctx.now.astimezone(zone)
    committees = rooms.committee_rooms(ctx.db)
    labels = {r.room_id: room_name(ctx.lang, r.room_id, r.name) for r in committees}
    open_items = store.open_agreements(ctx.db, with_due_date=False)
    by_room: dict[str, list[Agreement]] = {room_id: [] for room_id in labels}
    for a in open_items:
        by_room.setdefault(a.room_id, []).append(a)
    # Since the first agreement: every due date that has passed.
    since_ever = days(dt.date(FIRST_YEAR, 1, 1), now.date())
    zones = committee_zones(ctx.db, zone, committees)
    counted = agreement_figures(ctx.db, since_ever, zones, ctx.now)
    overlaps = overlaps_of(open_items, ctx.defaults)
    order = sorted(labels, key=lambda r: (labels[r].casefold(), r))
    total_overdue = sum(counted[r].overdue_now for r in order)
    head = [
        bold(i18n.plain(ctx.lang, "desk.overview.title", date=format_date(now.date(), ctx.lang))),
        i18n.t(
            ctx.lang,
            "desk.overview.summary" if open_items else "desk.overview.summary_empty",
            rooms=len(order),
            open=len(open_items),
            overdue=total_overdue,
        ),
    ]
    tail = [Rich("", ""), *overlap_lines(ctx.lang, overlaps, labels)]
    # A cheap estimate first: rendering ten thousand lines only to drop them costs a second.
    estimate = sum(len(a.text) for a in open_items) + 60 * len(open_items)
    if estimate <= 2 * DETAIL_LIMIT:
        owners = store.owners_of(ctx.db, [a.id for a in open_items if a.id is not None])
        detail: list[Rich] = []
        for room_id in order:
            detail.append(Rich("", ""))
            detail.extend(
                _room(
                    ctx,
                    labels[room_id],
                    by_room[room_id],
                    owners,
                    counted[room_id],
                    ctx.now.astimezone(zones[room_id]),
                )
            )
        full = Rich.join([*head, *detail, *tail])
        if len(full.plain) <= DETAIL_LIMIT:
            return full
    compact = [Rich("", "")]
    compact.extend(
        _room_line(
            ctx,
            labels[room_id],
            by_room[room_id],
            counted[room_id],
            ctx.now.astimezone(zones[room_id]),
        )
        for room_id in order
    )
    pointer = i18n.t(
        ctx.lang,
        "desk.overview.compact",
        export=ctx.prefix + "export",
    )
    return Rich.join([*head, *compact, *tail, Rich("", ""), pointer])


def _room_line(
    ctx: Context, label: str, items: Sequence[Agreement], f: AgreementFigures, now: dt.datetime
) -> Rich:
    return i18n.t(
        ctx.lang,
        "desk.overview.room",
        room=bold(label),
        open=f.open_now,
        overdue=f.overdue_now,
        rate=punctuality(ctx.lang, f, "desk.overview.punctuality"),
    )


def _room(
    ctx: Context,
    label: str,
    items: Sequence[Agreement],
    owners: Mapping[int, Sequence[str]],
    f: AgreementFigures,
    now: dt.datetime,
) -> list[Rich]:
    lines = [_room_line(ctx, label, items, f, now)]
    groups: dict[str | None, list[Agreement]] = {}
    nobody: list[str | None] = [None]
    for a in sorted(items, key=lambda a: (not is_overdue(a, now), _due_order(a), a.number)):
        assert a.id is not None
        for owner in [*owners.get(a.id, ())] or nobody:
            groups.setdefault(owner, []).append(a)
    ordered = sorted(groups, key=lambda o: (o is None, ctx.display_name(o).casefold() if o else ""))
    for owner in ordered:
        who = (
            i18n.plain(ctx.lang, "desk.overview.nobody")
            if owner is None
            else ctx.display_name(owner)
        )
        entries = Rich.join([_entry(ctx, a, now) for a in groups[owner]], "; ")
        lines.append(i18n.t(ctx.lang, "desk.overview.owner", name=who, items=entries))
    return lines


def _due_order(a: Agreement) -> dt.date:
    return a.due_date if a.due_date is not None else dt.date.max


def _entry(ctx: Context, a: Agreement, now: dt.datetime) -> Rich:
    values: dict[str, object] = {"number": bold(f"#{a.number}"), "text": text(short(a.text))}
    if a.due_date is None:
        return i18n.t(ctx.lang, "desk.overview.entry", **values)
    values["date"] = format_date(a.due_date, ctx.lang)
    if not is_overdue(a, now):
        return i18n.t(ctx.lang, "desk.overview.entry_due", **values)
    if a.delay_reason:
        values["reason"] = i18n.t(
            ctx.lang, "desk.overview.reason", reason=text(short(a.delay_reason, 120))
        )
    else:
        values["reason"] = i18n.t(ctx.lang, "desk.control.no_reason")
    return i18n.t(ctx.lang, "desk.overview.entry_overdue", **values)
