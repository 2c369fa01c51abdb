"""What every format module shares: the format's declaration and the progress it reports.
Kept out of formats.py, the list of formats, which imports every format module."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from sqlmodel import Session

from commands.exports.sections import Scope, Section, Value

# (what is being written, rows so far): a terminal shows it while a long export runs.
Progress = Callable[[str, int], None]
Render = Callable[[Session, Sequence[Section], Scope, BinaryIO, Progress], None]
PROGRESS_EVERY = 5000


def no_progress(_what: str, _rows: int) -> None:
    return None


def counted(
    rows: Iterator[tuple[Value, ...]], what: str, progress: Progress
) -> Iterator[tuple[Value, ...]]:
    n = 0
    for n, row in enumerate(rows, 1):
        if n % PROGRESS_EVERY == 0:
            progress(what, n)
        yield row
    progress(what, n)


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    mimetype: str
    render: Render
    # False: the format is the complete record (the JSON dump), a period does not apply.
    takes_period: bool = True
