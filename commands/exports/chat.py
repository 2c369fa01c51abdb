"""`!export [format] [zeitraum] [alle]`: the coordination gets the file by direct message.

Scope: the room where it was asked, or with `alle`/`all` every room. The format defaults
to XLSX; the period to everything. The file goes to the coordinator's direct-message room
(encrypted where that room is), and the room is told so. Every format, JSON too, holds the
same sections: results, never single answers (the operator's complete dump is the command
line's alone).

The file is made after the command, off the database thread (the `export` file job: a
whole history takes seconds to render, and every room would wait for it meanwhile), from
one consistent state of the database; the member's direct messages keep their order.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.effects import LaterFile, Reply
from commands.core.errors import CommandError
from commands.core.file_jobs import CONFIG_PARAM, FileJob
from commands.core.registry import Router, fold
from commands.core.rich import Rich, code
from commands.core.room_names import room_label
from commands.exports.rendering import Format
from commands.exports.run import DEFAULT_FORMAT, FORMATS, export, filename, find_format, make_scope
from commands.exports.sections import Scope
from commands.parsing.periods import PeriodError, parse_period, refusal
from storage import rooms
from storage.exports import Window
from storage.figures.period import Period

router = Router()

EXPORT_JOB = "export"

_ALL_ROOMS = {"alle", "all", "allerooms", "alleraeume"}


def _formats_text() -> Rich:
    return Rich.join([code(name) for name in FORMATS], ", ")


def _parse(ctx: Context, args: str) -> tuple[Format, Period | None, bool]:
    words = args.split()
    all_rooms = bool(words) and fold(words[-1]) in _ALL_ROOMS
    if all_rooms:
        words = words[:-1]
    fmt = find_format(words[0]) if words else None
    if fmt is not None:
        words = words[1:]
    rest = " ".join(words)
    period: Period | None = None
    if rest:
        try:
            period = parse_period(rest, ctx.now.astimezone(ctx.tz).date())
        except PeriodError as exc:
            word_only = len(words) == 1 and rest.replace("-", "").isalpha()
            if fmt is None and word_only and exc.key == "period.unreadable":
                raise CommandError(
                    "export.unknown_word", value=rest, formats=_formats_text()
                ) from None
            raise refusal(exc, rest) from None
    fmt = fmt or FORMATS[DEFAULT_FORMAT]
    return fmt, period, all_rooms


@router.command("export", role=Role.COORDINATION)
def export_command(ctx: Context, args: str) -> list[Reply | LaterFile]:
    fmt, period, all_rooms = _parse(ctx, args)
    label = None if all_rooms else room_label(ctx.db, ctx.room_id, ctx.lang)
    scope = make_scope(
        room_ids=None if all_rooms else (ctx.room_id,),
        period=period,
        lang=ctx.lang,
        tz=ctx.tz,
        now=ctx.now,
    )
    # The file is named by the room's name, or its ID (an unnamed room's label would give
    # every unnamed room's file the same name).
    name = filename(fmt, None if all_rooms else rooms.room_label(ctx.db, ctx.room_id), period)
    where = i18n.plain(ctx.lang, "export.all_rooms") if all_rooms else label or ctx.room_id
    caption = i18n.t(ctx.lang, "export.caption", filename=name, rooms=where)
    return [
        LaterFile(
            filename=name,
            mimetype=fmt.mimetype,
            job=FileJob(EXPORT_JOB, job_params(fmt, scope), lang=ctx.lang),
            caption=caption,
            to_user=ctx.sender,
        ),
        Reply(
            i18n.t(ctx.lang, "export.sent", filename=name),
            in_reply_to=ctx.event_id,
        ),
    ]


def job_params(fmt: Format, scope: Scope) -> dict[str, Any]:
    """What the `export` job (make_export) is handed: the chat's `!export` and the
    dashboard's download (commands.desk.dashboard_data) order the same file."""
    window = scope.window
    return {
        "format": fmt.name,
        "rooms": None if window.room_ids is None else list(window.room_ids),
        "start": None if window.start is None else window.start.isoformat(),
        "end": None if window.end is None else window.end.isoformat(),
        "lang": scope.lang,
        "tz": scope.tz.key,
        "now": scope.now.isoformat(),
    }


def _moment(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


@router.file_job(EXPORT_JOB)
def make_export(db: Session, params: Mapping[str, Any]) -> bytes:
    """The file of one `!export`, from what the command checked and stored."""
    room_ids = params["rooms"]
    scope = Scope(
        Window(
            None if room_ids is None else tuple(room_ids),
            _moment(params["start"]),
            _moment(params["end"]),
        ),
        params["lang"],
        ZoneInfo(params["tz"]),
        dt.datetime.fromisoformat(params["now"]),
        # The config's offices, which the renderer hands every job (never stored with it).
        dict(params.get(CONFIG_PARAM, {}).get("offices", {})),
    )
    out = io.BytesIO()
    export(db, FORMATS[params["format"]], scope, out)
    return out.getvalue()
