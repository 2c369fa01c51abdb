"""The operator's `gremienbot export` (bot/transfer.py reaches it through
commands/features.py): the flags' format, section and period, checked; then the same
export as the chat's `!export`. A refusal names the flags to change, in English, as the
rest of the command line does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session

from commands.agreements.offices import configured_offices
from commands.core.defaults import Defaults
from commands.exports.formats import dump_format, plain_csv_format
from commands.exports.rendering import Format, Progress
from commands.exports.run import FORMATS, SECTIONS, export, filename, find_section, make_scope
from commands.exports.sections import Section
from commands.parsing.periods import (
    FIRST_YEAR,
    PeriodError,
    check_range,
    last_year,
    parse_day,
    parse_period,
)
from storage.figures.period import Period, days

EXPORT_FORMATS: tuple[str, ...] = tuple(FORMATS)
EXPORT_SECTIONS: tuple[str, ...] = tuple(s.name for s in SECTIONS)


class ExportRefused(Exception):
    """What the operator asked for cannot be exported; the message says why."""


@dataclass(frozen=True)
class OperatorExport:
    fmt: Format
    sections: tuple[Section, ...]
    period: Period | None

    @property
    def format_name(self) -> str:
        return self.fmt.name

    @property
    def complete(self) -> bool:
        """The complete dump (backup, migration), not the coordination's sections."""
        return not self.fmt.takes_period

    def write(
        self,
        db: Session,
        out: BinaryIO,
        progress: Progress,
        *,
        room_ids: tuple[str, ...] | None,
        defaults: Defaults,
        now: dt.datetime,
    ) -> None:
        """Every room's rows (`room_ids` None) or those rooms', in the configured language
        and time zone."""
        scope = make_scope(
            room_ids=room_ids,
            period=self.period,
            lang=defaults.language,
            tz=defaults.zone,
            now=now,
            offices=configured_offices(defaults),
        )
        export(db, self.fmt, scope, out, progress, self.sections)

    def filename(self, room_label: str | None) -> str:
        return filename(self.fmt, room_label, self.period)


def operator_export(
    *,
    format_name: str,
    section_name: str | None,
    out: Path,
    date_from: str | None,
    date_to: str | None,
    today: dt.date,
    period_text: str | None = None,
) -> OperatorExport:
    """What `--format`, `--section`, `--out`, `--period` or `--from` and `--to` ask for;
    `ExportRefused` when they do not fit together."""
    fmt, sections = _format(format_name, section_name, out)
    if period_text is not None:
        if date_from is not None or date_to is not None:
            raise ExportRefused("give --period, or --from and --to, not both")
        period: Period | None = _named_period(period_text, today)
    else:
        period = _period(date_from, date_to, today)
    if period is not None and not fmt.takes_period:
        raise ExportRefused("the JSON dump is the complete record: --from/--to do not apply")
    return OperatorExport(fmt, sections, period)


def _day(text: str | None, flag: str) -> dt.date | None:
    if text is None:
        return None
    day = parse_day(text)
    if day is None:
        raise ExportRefused(f"{flag} {text!r} is no date: use YYYY-MM-DD or DD.MM.YYYY")
    return day


def _named_period(text: str, today: dt.date) -> Period:
    """The period in the chat's language (`!export`, `!bericht`): "2026", "Q1 2026"…"""
    try:
        return parse_period(text, today)
    except PeriodError as exc:
        raise ExportRefused(
            f"--period {text!r}: {exc.key.removeprefix('period.').replace('_', ' ')}; "
            "use e.g. 2026, 'Q1 2026', 'März 2026', 'letztes Jahr', '01.01.2026-31.03.2026'"
        ) from None


def _period(date_from: str | None, date_to: str | None, today: dt.date) -> Period | None:
    first, last = _day(date_from, "--from"), _day(date_to, "--to")
    if first is None and last is None:
        return None
    if first is None or last is None:
        raise ExportRefused("give both --from and --to, or neither")
    try:  # the same years as the chat's `!export`
        check_range(days(first, last), today)
    except PeriodError:
        latest = last_year(today)
        raise ExportRefused(
            f"--from and --to must lie between {FIRST_YEAR}-01-01 and {latest}-12-31"
        ) from None
    if last < first:
        raise ExportRefused(f"--to {last} is before --from {first}")
    return days(first, last)


def _format(
    format_name: str, section_name: str | None, out: Path
) -> tuple[Format, tuple[Section, ...]]:
    """The format and the sections to write. `json` on the command line is the operator's
    complete dump (backup, migration); csv is a ZIP of the sections (a `.zip` name) or one
    section as a plain CSV file (`--section`)."""
    if format_name == "json":
        if section_name is not None:
            raise ExportRefused("the JSON dump is the complete record: --section does not apply")
        return dump_format(), SECTIONS
    section = find_section(section_name) if section_name is not None else None
    sections = (section,) if section is not None else SECTIONS
    if format_name != "csv":
        return FORMATS[format_name], sections
    zipped = out.suffix.lower() == ".zip"
    if section is None and not zipped:
        raise ExportRefused(
            f"csv writes several tables: give --out a .zip name for all of them, "
            f"or --section {'|'.join(EXPORT_SECTIONS)} for one plain CSV file"
        )
    if section is not None and zipped:
        raise ExportRefused(
            f"--section {section_name} writes one plain CSV file: name it .csv, not .zip"
        )
    return (plain_csv_format(), sections) if section is not None else (FORMATS["csv"], sections)
