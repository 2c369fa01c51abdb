"""JSON, in two kinds.

`render` (the coordination's `!export json`): the same sections as every other format,
as data: each section with its columns and rows, values typed (dates ISO, moments ISO
with the export's offset). Results only, never single answers: it holds exactly what the
spreadsheet holds — poll results as counts per answer from 3 answers on, else the number
of answers — and no vote, free text or participant.

`render_dump` (the operator's `gremienbot export --format json`): the complete dump of the
database (storage.dump) for backup and migration, restored by `gremienbot import`. It is
the record itself, so the sections and the period do not apply; it is never sent to chat.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence
from typing import BinaryIO

from sqlmodel import Session

from commands.exports.rendering import Progress, counted
from commands.exports.sections import Column, Scope, Section, Value
from storage import dump

FORMAT = "gremienbot-export"
VERSION = 1


def _value(column: Column, value: Value, scope: Scope) -> str | int | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(scope.tz).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if column.labels is not None and value is not None:
        # Language-free keys (a state, an action), as stored: "overdue", "pulse".
        return str(value)
    return value


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def render(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    window = scope.window
    period = None
    if window.start is not None and window.end is not None:
        last = window.end.astimezone(scope.tz) - dt.timedelta(days=1)
        period = {
            "first": window.start.astimezone(scope.tz).date().isoformat(),
            "last": last.date().isoformat(),
        }
    rooms = sorted(window.room_ids) if window.room_ids is not None else None
    text.write("{\n")
    text.write(f'"format": {_dumps(FORMAT)},\n"version": {VERSION},\n')
    text.write(f'"language": {_dumps(scope.lang)},\n"timezone": {_dumps(str(scope.tz))},\n')
    generated = scope.now.astimezone(scope.tz).isoformat(timespec="seconds")
    text.write(f'"generated_at": {_dumps(generated)},\n')
    text.write(f'"period": {_dumps(period)},\n"rooms": {_dumps(rooms)},\n')
    text.write('"sections": [')
    for n, section in enumerate(sections):
        described = [
            {"key": c.key, "title": title, "type": str(c.type)}
            for c, title in zip(section.columns, section.headers(scope.lang), strict=True)
        ]
        text.write(",\n" if n else "\n")
        text.write(f'{{"name": {_dumps(section.name)}, ')
        text.write(f'"title": {_dumps(section.title(scope.lang))},\n')
        text.write(f'"columns": {_dumps(described)},\n"rows": [')
        columns = section.columns
        for i, row in enumerate(counted(section.rows(db, scope), section.name, progress)):
            values = [_value(c, v, scope) for c, v in zip(columns, row, strict=True)]
            text.write(",\n" if i else "\n")
            text.write(_dumps(values))
        text.write("\n]}")
    text.write("\n]\n}\n")
    text.flush()
    # The caller owns `out`: leave it open.
    text.detach()


def render_dump(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    room_ids = scope.window.room_ids
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    dump.write_dump(
        db.connection(),
        text,
        room_ids=list(room_ids) if room_ids is not None else None,
        progress=progress,
    )
    text.flush()
    # The caller owns `out`: leave it open.
    text.detach()
