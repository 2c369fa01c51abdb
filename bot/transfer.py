"""`gremienbot export` and `gremienbot import`: the coordination's exports and the restore
of a JSON dump, on the command line. Errors go to stderr with exit code 2, and then nothing
is written: an export goes to a temporary file renamed into place only when complete, an
import is one transaction. Long runs show progress on stderr when it is a terminal."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from bot.config import Config
from commands.exports.formats import Format, dump_format, plain_csv_format
from commands.exports.period import (
    FIRST_YEAR,
    Period,
    PeriodError,
    check_range,
    last_year,
    parse_day,
)
from commands.exports.run import FORMATS, SECTIONS, export, filename, find_section, make_scope
from commands.exports.sections import Section
from storage import dump, rooms
from storage import exports as export_store
from storage.db import Database
from storage.migrate import current_revision, head_revision
from storage.text import one_line

USAGE_ERROR = 2


class Refused(Exception):
    """What the operator asked for cannot be done; the message says why."""


class TerminalProgress:
    """Rows done per table, on one line of stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = stream.isatty()
        self.dirty = False

    def __call__(self, what: str, rows: int) -> None:
        if self.active:
            self.stream.write(f"\r\033[K{what}: {rows:,} rows")
            self.stream.flush()
            self.dirty = True

    def done(self) -> None:
        if self.dirty:
            self.stream.write("\n")
            self.stream.flush()


def _day(text: str | None, flag: str) -> dt.date | None:
    if text is None:
        return None
    day = parse_day(text)
    if day is None:
        raise Refused(f"{flag} {text!r} is no date: use YYYY-MM-DD or DD.MM.YYYY")
    return day


def _period(args: argparse.Namespace, today: dt.date) -> Period | None:
    first, last = _day(args.date_from, "--from"), _day(args.date_to, "--to")
    if first is None and last is None:
        return None
    if first is None or last is None:
        raise Refused("give both --from and --to, or neither")
    try:  # the same years as the chat's `!export`
        check_range(Period(first, last), today)
    except PeriodError:
        latest = last_year(today)
        raise Refused(
            f"--from and --to must lie between {FIRST_YEAR}-01-01 and {latest}-12-31"
        ) from None
    if last < first:
        raise Refused(f"--to {last} is before --from {first}")
    return Period(first, last)


def _format(args: argparse.Namespace, out: Path) -> tuple[Format, tuple[Section, ...]]:
    """The format and the sections to write. `json` on the command line is the operator's
    complete dump (backup, migration); csv is a ZIP of the sections (a `.zip` name) or one
    section as a plain CSV file (`--section`)."""
    name = getattr(args, "section", None)
    if args.format == "json":
        if name is not None:
            raise Refused("the JSON dump is the complete record: --section does not apply")
        return dump_format(), SECTIONS
    section = find_section(name) if name is not None else None
    sections = (section,) if section is not None else SECTIONS
    if args.format != "csv":
        return FORMATS[args.format], sections
    zipped = out.suffix.lower() == ".zip"
    if section is None and not zipped:
        raise Refused(
            f"csv writes several tables: give --out a .zip name for all of them, "
            f"or --section {'|'.join(s.name for s in SECTIONS)} for one plain CSV file"
        )
    if section is not None and zipped:
        raise Refused(f"--section {name} writes one plain CSV file: name it .csv, not .zip")
    return (plain_csv_format(), sections) if section is not None else (FORMATS["csv"], sections)


def run_export(config: Config, args: argparse.Namespace) -> int:
    if getattr(args, "user", None) is not None:
        from bot.forget import write_subject_access

        return write_subject_access(config, args)
    out: Path = args.out
    defaults = config.build_defaults()
    now = dt.datetime.now(defaults.zone)
    try:
        fmt, sections = _format(args, out)
        period = _period(args, now.date())
        if period is not None and not fmt.takes_period:
            raise Refused("the JSON dump is the complete record: --from/--to do not apply")
        if not out.parent.is_dir():
            raise Refused(f"{out.parent} is no directory")
    except Refused as exc:
        print(f"export: {exc}", file=sys.stderr)
        return USAGE_ERROR
    db = Database(config.database_url)
    progress = TerminalProgress(sys.stderr)
    try:
        with db.session() as s:
            room_ids: tuple[str, ...] | None = None
            label = None
            if args.room is not None:
                found = export_store.find_rooms(s, args.room)
                if not found:
                    raise Refused(f"no room {args.room!r} (give its room ID or its name)")
                if len(found) > 1:
                    ids = ", ".join(r.room_id for r in found)
                    raise Refused(f"several rooms are named {args.room!r}: {ids}; give the ID")
                room_ids, label = (found[0].room_id,), found[0].name or found[0].room_id
            scope = make_scope(
                room_ids=room_ids,
                period=period,
                lang=defaults.language,
                tz=defaults.zone,
                now=now,
            )
            # Written beside the target and renamed into place: a failed export leaves
            # no file, and never half of one.
            fd, tmp = tempfile.mkstemp(prefix=".export-", dir=out.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    export(s, fmt, scope, f, progress, sections)
                os.replace(tmp, out)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    except Refused as exc:
        print(f"export: {exc}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        progress.done()
        db.dispose()
    print(f"{out}: {fmt.name} export written (suggested name {filename(fmt, label, period)})")
    if not fmt.takes_period:
        print(f"{out}: the complete dump, for backup and migration: keep it like a database backup")
    return 0


def run_import(config: Config, args: argparse.Namespace) -> int:
    path: Path = args.file
    db = Database(config.database_url)
    progress = TerminalProgress(sys.stderr)
    try:
        here, head = current_revision(db.engine), head_revision()
        if here != head:
            raise Refused(
                f"the database is at schema revision {here or 'none'}, not {head}: "
                "run `gremienbot migrate` first"
            )
        try:
            with path.open(encoding="utf-8") as f:
                data = dump.read_dump(f)
        except OSError as exc:
            raise Refused(f"cannot read {path}: {exc.strerror}") from None
        restored = dump.restore(db.engine, data, progress)
        with db.session() as s:
            roles = rooms.all_roles(s)
    except (Refused, dump.DumpError) as exc:
        progress.done()
        print(f"import: {path}: {_one_line(str(exc))}; nothing was imported", file=sys.stderr)
        return USAGE_ERROR
    except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
        # A hostile file the checks above did not foresee: still one line, no traceback.
        progress.done()
        reason = _one_line(str(exc)) or type(exc).__name__
        print(
            f"import: {path}: not a dump this bot can restore ({reason}); nothing was imported",
            file=sys.stderr,
        )
        return USAGE_ERROR
    finally:
        db.dispose()
    progress.done()
    print(f"{path}: {restored.total} rows imported into {len(restored.rows)} tables")
    if roles:
        # Who may now do what a chair may: the operator checks it against the committees.
        print(f"Roles set with !rolle, as the file has them ({len(roles)}; check them):")
        for role in roles[:ROLES_SHOWN]:
            print(f"  {role.user_id} {role.role} in {role.room_id}")
        if len(roles) > ROLES_SHOWN:
            print(f"  … and {len(roles) - ROLES_SHOWN} more")
    return 0


ROLES_SHOWN = 30


def _one_line(message: str, limit: int = 300) -> str:
    """An error message as one line of the terminal: cleaned, shortened (a schema error
    may quote a hostile file's whole value)."""
    line = one_line(message)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    exp = sub.add_parser("export", help="export agreements and their history to a file")
    exp.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
    exp.add_argument("--format", "-f", required=True, choices=list(FORMATS))
    exp.add_argument("--room", help="a room ID or the room's name (default: every room)")
    exp.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD or DD.MM.YYYY")
    exp.add_argument("--to", dest="date_to", help="last day, included")
    exp.add_argument(
        "--section",
        choices=[s.name for s in SECTIONS],
        help="only this table; with csv: one plain CSV file instead of a ZIP",
    )
    exp.add_argument(
        "--out",
        "-o",
        type=Path,
        required=True,
        help="the file to write (csv: a .zip name for all tables, a .csv name with --section)",
    )
    exp.add_argument(
        "--user", help="everything stored about this person (@name:server), as JSON (Art. 15)"
    )
    exp.set_defaults(func=_cmd_export)
    imp = sub.add_parser("import", help="restore a JSON export into an empty database")
    imp.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
    imp.add_argument("file", type=Path, help="a file written by `export --format json`")
    imp.set_defaults(func=_cmd_import)


def _cmd_export(args: argparse.Namespace) -> int:
    from bot.cli import load_or_exit

    return run_export(load_or_exit(args.config), args)


def _cmd_import(args: argparse.Namespace) -> int:
    from bot.cli import load_or_exit

    return run_import(load_or_exit(args.config), args)
