"""Reading agreements: `!liste` / `!list` with filters and pages, `!zeige N` / `!show N`.

Lists name people without notifying them; they are sorted by due date (none last), overdue
ones marked, and paged: a long list says how many more there are, it is never cut silently.
`!liste pdf` sends the open ones as a PDF for the meeting's handout: made after the
command by the file job LIST_PDF_JOB (commands.papers.listing declares it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from commands.agreements.common import (
    date_text,
    due_text,
    label_due_text,
    moment_text,
    names,
    number,
    one_line,
    short_due_text,
    target,
    user_text,
)
from commands.core import i18n
from commands.core.context import Context, command_hint
from commands.core.effects import LaterFile, Reply
from commands.core.errors import CommandError
from commands.core.file_jobs import PDF_MIMETYPE, FileJob, file_name
from commands.core.registry import Router, fold
from commands.core.rich import Rich, bold, code
from commands.core.room_names import room_label
from commands.parsing.dates import format_date
from commands.parsing.mentions import take_mentions
from storage import agreements as store
from storage.figures.agreements import is_overdue
from storage.models import Agreement, AgreementHistory, AgreementStatus, HistoryAction, RefKind

router = Router()

PAGE_SIZE = 15
# Pages beyond this are answered as missing without a query (huge offsets overflow BIGINT).
MAX_PAGE = 10**6
HISTORY_SHOWN = 30

# `!liste pdf`: the word, and the file job that makes the PDF (commands.papers.listing).
PDF_WORD = "pdf"
LIST_PDF_JOB = "list-pdf"
# The open agreements a PDF lists at most (the rest counted): some pages, not a book.
PDF_MOST = 500


class Show(StrEnum):
    """What `!liste` shows; the values are its English words (`!list done`)."""

    OPEN = "open"
    MINE = "mine"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"
    ALL = "all"


# Filter words (folded: "überfällig" = "ueberfaellig") → filter.
_FILTERS: dict[str, Show] = {
    **{show.value: show for show in Show},
    "offen": Show.OPEN,
    "offene": Show.OPEN,
    "meine": Show.MINE,
    "my": Show.MINE,
    "ueberfaellig": Show.OVERDUE,
    "ueberfaellige": Show.OVERDUE,
    "erledigt": Show.DONE,
    "erledigte": Show.DONE,
    "verworfen": Show.CANCELLED,
    "verworfene": Show.CANCELLED,
    "canceled": Show.CANCELLED,
    "alle": Show.ALL,
}
_STATUSES: dict[Show, tuple[AgreementStatus, ...]] = {
    Show.OPEN: (AgreementStatus.OPEN,),
    Show.OVERDUE: (AgreementStatus.OPEN,),
    Show.DONE: (AgreementStatus.DONE,),
    Show.CANCELLED: (AgreementStatus.CANCELLED,),
    Show.ALL: store.STATUSES,
}
# The filter words a hint shows (`!liste erledigt 2`).
_WORDS: dict[str, dict[Show, str]] = {
    "de": {
        Show.OPEN: "offen",
        Show.MINE: "meine",
        Show.OVERDUE: "überfällig",
        Show.DONE: "erledigt",
        Show.CANCELLED: "verworfen",
        Show.ALL: "alle",
    },
    "en": {show: show.value for show in Show},
}


@dataclass(frozen=True)
class ListFilter:
    status: Show  # never MINE: that is `mine`
    mine: bool
    person: str | None
    page: int


def parse_filter(ctx: Context, args: str) -> ListFilter:
    found = take_mentions(ctx, args)
    if len(found.user_ids) > 1:
        raise CommandError("list.one_person")
    status, mine, page = Show.OPEN, False, 1
    for word in found.text.split():
        key = fold(word)
        if re.fullmatch(r"[0-9]{1,12}", key):
            page = int(key)
        elif re.fullmatch(r"[0-9]+", key):
            page = MAX_PAGE + 1  # no list is that long: answered as a page that does not exist
        elif _FILTERS.get(key) == Show.MINE:
            mine = True
        elif key in _FILTERS:
            status = _FILTERS[key]
        else:
            raise CommandError("list.unknown_filter", value=word)
    mine = mine and not found.user_ids  # "meine @ben" lists Ben's
    person = found.user_ids[0] if found.user_ids else (ctx.sender if mine else None)
    return ListFilter(status, mine, person, max(page, 1))


def _title(ctx: Context, f: ListFilter) -> str:
    if f.mine and f.status == Show.OPEN:
        return i18n.plain(ctx.lang, "list.title.mine")
    title = i18n.plain(ctx.lang, f"list.title.{f.status}")
    if f.person is None:
        return title
    return i18n.plain(
        ctx.lang, "list.title.for_person", title=title, name=ctx.display_name(f.person)
    )


def _command_for(ctx: Context, f: ListFilter, page: int) -> Rich:
    words = _WORDS["en" if ctx.lang == "en" else "de"]
    parts = [ctx.prefix + ("list" if ctx.lang == "en" else "liste"), words[f.status]]
    if f.mine:
        parts.append(words[Show.MINE])
    elif f.person:
        parts.append(f.person)
    if page > 1:
        parts.append(str(page))
    return code(" ".join(parts))


@router.command("liste", aliases=("list",))
def list_agreements(ctx: Context, args: str) -> Rich | LaterFile:
    words = args.split()
    if words and fold(words[0]) == PDF_WORD:
        if len(words) > 1:
            cmd = code(f"{ctx.prefix}{'list' if ctx.lang == 'en' else 'liste'} {PDF_WORD}")
            raise CommandError("papers.list.only_open", cmd=cmd)
        return list_pdf(ctx)
    f = parse_filter(ctx, args)
    page = store.query(
        ctx.db,
        ctx.room_id,
        statuses=_STATUSES[f.status],
        owner=f.person,
        overdue_at=ctx.now if f.status == Show.OVERDUE else None,
        limit=PAGE_SIZE,
        offset=(f.page - 1) * PAGE_SIZE if f.page <= MAX_PAGE else 0,
    )
    title = _title(ctx, f)
    pages = max(1, math.ceil(page.total / PAGE_SIZE))
    if page.total == 0:
        return i18n.t(ctx.lang, "list.empty", title=title)
    if f.page > pages:
        raise CommandError("list.no_page", page=f.page, pages=pages, cmd=_command_for(ctx, f, 1))
    if pages > 1:
        header = i18n.t(
            ctx.lang,
            "list.header_paged",
            title=bold(title),
            total=page.total,
            page=f.page,
            pages=pages,
        )
    else:
        header = i18n.t(ctx.lang, "list.header", title=bold(title), total=page.total)
    owners = store.owners_of(ctx.db, [a.id for a in page.items if a.id is not None])
    lines = [header]
    lines.extend(
        _line(ctx, a, owners.get(a.id or 0, []), show_status=f.status == Show.ALL)
        for a in page.items
    )
    remaining = page.total - (f.page - 1) * PAGE_SIZE - len(page.items)
    if remaining > 0:
        lines.append(
            i18n.t(ctx.lang, "list.more", count=remaining, cmd=_command_for(ctx, f, f.page + 1))
        )
    return Rich.join(lines)


def list_pdf(ctx: Context) -> LaterFile:
    """The room's open agreements as a PDF, made by the file job. The owners' names are
    the room's display names, which only the command knows: they go with the job by
    agreement (never a user ID), as the `!liste` answer would have shown them."""
    found = store.query(ctx.db, ctx.room_id, statuses=(AgreementStatus.OPEN,), limit=PDF_MOST)
    owners = store.owners_of(ctx.db, [a.id for a in found.items if a.id is not None])
    today = ctx.now.astimezone(ctx.tz).date()
    label = room_label(ctx.db, ctx.room_id, ctx.lang)
    params = {
        "room": ctx.room_id,
        "label": label,
        "lang": ctx.lang,
        "tz": ctx.tz.key,
        "now": ctx.now.isoformat(),
        "names": {str(a_id): names(ctx, users) for a_id, users in owners.items()},
    }
    return LaterFile(
        filename=file_name(
            i18n.plain(ctx.lang, "papers.list.filename"), label, today.isoformat(), extension="pdf"
        ),
        mimetype=PDF_MIMETYPE,
        job=FileJob(LIST_PDF_JOB, params, lang=ctx.lang),
        caption=i18n.t(ctx.lang, "papers.list.caption", date=format_date(today, ctx.lang)),
    )


def _line(ctx: Context, a: Agreement, owners: list[str], *, show_status: bool) -> Rich:
    rich = i18n.t(
        ctx.lang,
        "list.line",
        number=number(a),
        text=user_text(one_line(a.text)),
        owners=names(ctx, owners),
        due=short_due_text(ctx, a.due_date, a.due_time),
    )
    if is_overdue(a, ctx.now):
        rich = rich + i18n.t(ctx.lang, "list.marker_overdue")
    elif show_status and a.status != AgreementStatus.OPEN:
        status = i18n.plain(ctx.lang, f"agreement.status.{a.status}")
        rich = rich + i18n.t(ctx.lang, "list.marker_status", status=status)
    return rich


# ---------------------------------------------------------------------------------- !zeige


@router.command("zeige", aliases=("show",))
def show(ctx: Context, args: str) -> Reply:
    a, _rest = target(ctx, args)
    assert a.id is not None
    owners = store.owners(ctx.db, a.id)
    status = i18n.plain(ctx.lang, f"agreement.status.{a.status}")
    overdue = is_overdue(a, ctx.now)
    if overdue:
        status += " – " + i18n.plain(ctx.lang, "agreement.overdue")
    if a.status != AgreementStatus.OPEN and a.closed_at is not None:
        status_line = i18n.t(
            ctx.lang, "agreement.show.status_since", status=status, date=date_text(ctx, a.closed_at)
        )
    else:
        status_line = i18n.t(ctx.lang, "agreement.show.status", status=status)
    lines: list[Rich] = [
        number(a) + " " + user_text(a.text),
        status_line,
        i18n.t(ctx.lang, "agreement.show.owners", owners=names(ctx, owners)),
        i18n.t(ctx.lang, "agreement.show.due", due=label_due_text(ctx, a.due_date, a.due_time)),
    ]
    # A delay's reason stays readable after it is done; an overdue one without says so.
    if a.delay_reason is not None:
        lines.append(i18n.t(ctx.lang, "agreement.show.reason", reason=user_text(a.delay_reason)))
    elif overdue:
        example = command_hint(ctx, "grund", "reason", a.number, "…")
        lines.append(i18n.t(ctx.lang, "agreement.show.no_reason", cmd=example))
    lines += [
        i18n.t(
            ctx.lang,
            "agreement.show.created",
            name=ctx.display_name(a.created_by),
            date=date_text(ctx, a.created_at),
        ),
        i18n.t(ctx.lang, "agreement.show.history"),
    ]
    entries = store.history(ctx.db, a.id)
    if len(entries) > HISTORY_SHOWN:
        hidden = len(entries) - HISTORY_SHOWN
        lines.append(i18n.t(ctx.lang, "agreement.history.older", count=hidden))
        entries = entries[hidden:]
    lines.extend(history_line(ctx, h) for h in entries)
    return Reply(
        Rich.join(lines), in_reply_to=ctx.event_id, ref_kind=RefKind.AGREEMENT, ref_id=a.id
    )


def history_line(ctx: Context, h: AgreementHistory) -> Rich:
    lang = ctx.lang
    key = f"agreement.history.{h.action}"
    if h.action == HistoryAction.ASSIGNED:
        what = i18n.t(
            lang,
            key,
            old=names(ctx, store.parse_owners_value(h.old_value)),
            new=names(ctx, store.parse_owners_value(h.new_value)),
        )
    elif h.action == HistoryAction.DUE_CHANGED:
        what = i18n.t(
            lang,
            key,
            old=due_text(ctx, *store.parse_due_value(h.old_value)),
            new=due_text(ctx, *store.parse_due_value(h.new_value)),
        )
    elif h.action == HistoryAction.EDITED:
        what = i18n.t(lang, key, old=user_text(one_line(h.old_value or "", 200)))
    elif i18n.has(lang, key):
        what = i18n.t(lang, key)
    else:
        what = user_text(h.action)
    if h.note:
        what = i18n.t(lang, "agreement.history.with_note", what=what, note=user_text(h.note))
    return i18n.t(
        lang,
        "agreement.history.line",
        when=moment_text(ctx, h.at),
        who=ctx.display_name(h.actor),
        what=what,
    )
