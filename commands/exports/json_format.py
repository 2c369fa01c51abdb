"""JSON: the complete dump of the database (storage.dump), of all rooms or of the scope's
rooms. It is the record itself, so the sections and the period do not apply."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO

from sqlmodel import Session

from commands.exports.formats import Progress
from commands.exports.sections import Scope, Section
from storage import dump


def render(
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
