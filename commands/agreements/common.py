"""What the agreement commands share: finding #N, who may change it, dates, rendering."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.errors import CommandError, PermissionDenied, UsageError
from commands.core.names import name_list
from commands.core.rich import Rich, bold, text
from commands.core.text_input import MAX_DATE_CHARS, clean
from commands.core.when import When
from commands.parsing.dates import (
    YEARS_AHEAD_LIMIT,
    format_date,
    format_date_short,
    format_datetime,
    format_time,
    format_when,
    parse_when,
    too_far_ahead,
)
from storage import agreements as store
from storage.models import Agreement, RefKind

TEXT_LIMIT = 2000

_NUMBER = re.compile(r"#?([0-9]+)[.:,]?")
_NO_DUE_WORDS = frozenset({"ohne", "keine", "kein", "none", "no", "-", "–"})


# ------------------------------------------------------------------------------ small parts


def number(a: Agreement) -> Rich:
    return bold(f"#{a.number}")


def one_line(value: str, limit: int = 120) -> str:
    """For lists: on one line, long texts shortened with a visible "…"."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def check_text(value: str, *, empty_key: str = "agreement.empty_text") -> str:
    """The text to store: control and bidi-override characters removed (text_input.clean),
    not empty, not longer than TEXT_LIMIT."""
    if len(value) > 2 * TEXT_LIMIT:  # refused before cleaning costs anything
        raise CommandError("agreement.too_long", length=len(value.strip()), limit=TEXT_LIMIT)
    cleaned = clean(value).strip()
    if not cleaned:
        raise UsageError(empty_key)
    if len(cleaned) > TEXT_LIMIT:
        raise CommandError("agreement.too_long", length=len(cleaned), limit=TEXT_LIMIT)
    return cleaned


# ----------------------------------------------------------------------------- which one


def target(ctx: Context, args: str) -> tuple[Agreement, str]:
    """The agreement a command is about, and the rest of its arguments.

    A number ("3" or "#3") comes first; without one, a reply to the bot's message about an
    agreement means that agreement.
    """
    stripped = args.strip()
    head, rest = _first_word(stripped)
    m = _NUMBER.fullmatch(head) if head else None
    if m:
        digits = m[1].lstrip("0") or "0"
        found = store.by_number(ctx.db, ctx.room_id, int(digits)) if len(digits) <= 12 else None
        if found is None:
            raise CommandError(
                "agreement.no_such",
                number=bold("#" + one_line(digits, 20)),
                cmd=command_hint(ctx, "liste alle", "list all"),
            )
        return found, rest
    ref = referenced(ctx)
    if ref is not None:
        return ref, stripped
    if not head:
        raise UsageError("agreement.which")
    raise UsageError(
        "agreement.not_a_number", value=head, cmd=command_hint(ctx, "liste alle", "list all")
    )


def _first_word(value: str) -> tuple[str, str]:
    parts = value.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], (parts[1].strip() if len(parts) > 1 else "")


def referenced(ctx: Context) -> Agreement | None:
    """The agreement of the bot message this command replies to, if it is one of ours."""
    if ctx.extra.get("ref_kind") != RefKind.AGREEMENT or ctx.extra.get("ref_id") is None:
        return None
    found = store.by_id(ctx.db, int(ctx.extra["ref_id"]))
    if found is None or found.room_id != ctx.room_id:
        raise CommandError("agreement.other_room")
    return found


# ---------------------------------------------------------------------------- permissions


def may_change(ctx: Context, a: Agreement, owners: Sequence[str]) -> bool:
    """Owners, whoever recorded it, chair and coordination."""
    return ctx.role >= Role.CHAIR or ctx.sender in owners or ctx.sender == a.created_by


def require_may_change(ctx: Context, a: Agreement, owners: Sequence[str]) -> None:
    if not may_change(ctx, a, owners):
        raise PermissionDenied(
            "agreement.may_not_change",
            number=number(a),
            owners=names(ctx, owners),
            creator=ctx.display_name(a.created_by),
        )


# ----------------------------------------------------------------------------------- dates


def is_no_due(value: str) -> bool:
    return value.strip().casefold() in _NO_DUE_WORDS


def parse_due(ctx: Context, value: str) -> When:
    """A due date that resolves and is not in the past; else a question back.

    A date another feature names (`bis zur nächsten Sitzung`: the meetings) comes first.
    """
    if len(value) > MAX_DATE_CHARS:  # no date is written that long: not parsed at all
        raise CommandError("agreement.date_unclear", value=one_line(value, MAX_DATE_CHARS))
    when = ctx.registry.named_due_date(ctx, value) or parse_when(value, now=ctx.now)
    if when is None:
        raise CommandError("agreement.date_unclear", value=value.strip())
    today = ctx.now.date()
    clock = ctx.now.time().replace(second=0, microsecond=0, tzinfo=None)
    if when.date < today or (when.date == today and when.time is not None and when.time < clock):
        raise CommandError("agreement.date_past", date=format_when(when, ctx.lang))
    if too_far_ahead(when.date, today):
        raise CommandError(
            "agreement.date_too_far", date=format_when(when, ctx.lang), years=YEARS_AHEAD_LIMIT
        )
    return when


def due_text(ctx: Context, due_date: dt.date | None, due_time: dt.time | None) -> str:
    if due_date is None:
        return i18n.plain(ctx.lang, "agreement.no_due")
    return format_when(When(due_date, due_time), ctx.lang)


def label_due_text(ctx: Context, due_date: dt.date | None, due_time: dt.time | None) -> str:
    """The due date after the label "Frist:" ("Frist: keine", not "Frist: ohne Frist")."""
    if due_date is None:
        return i18n.plain(ctx.lang, "agreement.due_none")
    return due_text(ctx, due_date, due_time)


def short_due_text(ctx: Context, due_date: dt.date | None, due_time: dt.time | None) -> str:
    """The due date in a list line: "So., 6.12." (the year only when it is another)."""
    return short_due(ctx.lang, ctx.now.astimezone(ctx.tz).date(), due_date, due_time)


def short_due(lang: str, today: dt.date, due_date: dt.date | None, due_time: dt.time | None) -> str:
    """`short_due_text` where no command is being answered (the papers), as of `today`."""
    if due_date is None:
        return i18n.plain(lang, "agreement.no_due")
    day = format_date_short(due_date, lang, today)
    return day if due_time is None else f"{day}, {format_time(due_time, lang)}"


def date_text(ctx: Context, moment: dt.datetime) -> str:
    return format_date(moment.astimezone(ctx.tz).date(), ctx.lang)


def moment_text(ctx: Context, moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(ctx.tz), ctx.lang)


# -------------------------------------------------------------------------------- people


def names(ctx: Context, user_ids: Sequence[str]) -> str:
    """People by name, without notifying them (for lists and history)."""
    if not user_ids:
        return i18n.plain(ctx.lang, "agreement.history.nobody")
    return name_list(user_ids, ctx.members)


def user_text(value: str) -> Rich:
    """What a member wrote, shown literally (HTML and Markdown escaped)."""
    return text(value)
