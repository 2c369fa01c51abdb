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
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

from sqlmodel import Session

from bot.config import Config
from bot.forget import write_subject_access
from commands.features import ExportRefused, operator_export
from storage import dump, rooms
from storage import exports as export_store
from storage.db import Database
from storage.migrate import current_revision, head_revision
from storage.models import Room
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


def one_room(s: Session, ref: str) -> Room:
    """The one room `ref` names (its ID or its name); Refused when none or several do."""
    found = export_store.find_rooms(s, ref)
    if not found:
        raise Refused(f"no room {ref!r} (give its room ID or its name)")
    if len(found) > 1:
        ids = ", ".join(r.room_id for r in found)
        raise Refused(f"several rooms are named {ref!r}: {ids}; give the ID")
    return found[0]


def write_beside(out: Path, write: Callable[[BinaryIO], object]) -> None:
    """`write` into a file beside `out`, renamed into place when it is done: a failed run
    leaves no file, and never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_export(config: Config, args: argparse.Namespace) -> int:
    if getattr(args, "user", None) is not None:
        return write_subject_access(config, args)
    out: Path = args.out
    defaults = config.build_defaults()
    now = dt.datetime.now(defaults.zone)
    try:
        job = operator_export(
            format_name=args.format,
            section_name=getattr(args, "section", None),
            out=out,
            date_from=args.date_from,
            date_to=args.date_to,
            period_text=getattr(args, "period", None),
            today=now.date(),
        )
        if not out.parent.is_dir():
            raise Refused(f"{out.parent} is no directory")
    except (ExportRefused, Refused) as exc:
        print(f"export: {exc}", file=sys.stderr)
        return USAGE_ERROR
    db = Database(config.database_url)
    progress = TerminalProgress(sys.stderr)
    try:
        with db.session(write=False) as s:
            room_ids: tuple[str, ...] | None = None
            label = None
            if args.room is not None:
                room = one_room(s, args.room)
                room_ids, label = (room.room_id,), room.name or room.room_id
            write_beside(
                out,
                lambda f: job.write(s, f, progress, room_ids=room_ids, defaults=defaults, now=now),
            )
    except Refused as exc:
        print(f"export: {exc}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        progress.done()
        db.dispose()
    print(f"{out}: {job.format_name} export written (suggested name {job.filename(label)})")
    if job.complete:
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
