"""`gremienbot forget @user:server` (erasure, Art. 17 DSGVO) and
`gremienbot export --user @user:server` (access, Art. 15 DSGVO) for the operator.

`forget` first works out what it would change, in a transaction it rolls back, and prints
that (rows per table); it asks before it changes anything (y/N on stdin) unless `--yes`
is given. The work itself is `storage.erasure`; docs/datenschutz.md explains it. The
erasure runs with SQLite's secure_delete on, and afterwards the database's files are
scrubbed (`storage.erasure.scrub`); what could not be, and what PostgreSQL keeps beyond
its tables, is printed as a "Note:".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from sqlmodel import Session

from bot.config import Config
from bot.runtime import voter_key
from storage import erasure
from storage.db import Database
from storage.migrate import current_revision, head_revision
from storage.voters import voter_hash

USAGE_ERROR = 2
_USER_ID = re.compile(r"@[^\s:]+:[^\s]+")


class Refused(Exception):
    pass


def check_user_id(value: str) -> str:
    if not _USER_ID.fullmatch(value):
        raise Refused(f"{value!r} is no Matrix user ID, expected e.g. @name:example.org")
    return value


def _voter_hash(key: bytes | None) -> erasure.VoterHash | None:
    """The bot's voter hash, when its key is there (never made here)."""
    if key is None:
        return None
    return lambda scope, user_id: voter_hash(key, scope, user_id)


def _database(config: Config, key: bytes | None = None) -> Database:
    db = Database(config.database_url, secret=key)
    here, head = current_revision(db.engine), head_revision()
    if here != head:
        db.dispose()
        raise Refused(
            f"the database is at schema revision {here or 'none'}, not {head}: "
            "run `gremienbot migrate` first"
        )
    return db


def run_forget(
    config: Config,
    user_id: str,
    *,
    yes: bool,
    names: Sequence[str] = (),
    stdin: TextIO | None = None,
    out: TextIO | None = None,
) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    # Where the config keeps it; else where it was before the config moved it (the bot
    # moves it there at its next start).
    key = voter_key.read(config.voter_key_path) or voter_key.read(
        config.data_dir / voter_key.KEY_FILE
    )
    try:
        check_user_id(user_id)
        db = _database(config, key)
    except Refused as exc:
        print(f"forget: {exc}", file=sys.stderr)
        return USAGE_ERROR
    hashing = _voter_hash(key)
    try:
        with Session(db.engine, expire_on_commit=False) as s:
            preview = erasure.erase(s, user_id, voter_hash=hashing, names=names)
            s.rollback()
        if preview.total == 0:
            print(f"Nothing is stored about {user_id}.", file=out)
            _scrub(db, [], out)
            return 0
        print(f"{user_id} would be replaced by {preview.pseudonym!r}:", file=out)
        if preview.names:
            print(f"  (and in texts the names {', '.join(preview.names)})", file=out)
        for line in preview.lines():
            print(f"  {line}", file=out)
        if hashing is None:
            print(
                f"  (no voter key at {config.voter_key_path}: poll answers are left as they "
                "are; they hold no user ID)",
                file=out,
            )
        if not yes:
            out.write("Apply these changes? [y/N] ")
            out.flush()
            answer = stdin.readline().strip().casefold()
            if answer not in ("y", "yes", "j", "ja"):
                print("Nothing was changed.", file=out)
                return 1
        with db.session() as s:
            erasure.secure_delete(s)
            done = erasure.erase(s, user_id, voter_hash=hashing, names=names)
        print(f"Done: {done.total} changes; {user_id} is now {done.pseudonym!r}.", file=out)
        _scrub(db, erasure.touched_tables(done), out)
    finally:
        db.dispose()
    if done.open_agreements:
        listed = ", ".join(f"#{n} in {room}" for room, n in done.open_agreements)
        print(
            f"Open agreements they owned (give them a new owner with !zuweisen): {listed}",
            file=out,
        )
    named = [
        key
        for key, users in (
            ("coordination", config.coordination),
            ("allowed_inviters.users", config.allowed_inviters.users),
        )
        if user_id in users
    ]
    if named:
        print(f"The config still names {user_id} under {', '.join(named)}: edit it.", file=out)
    print(
        "Messages in the rooms stay on the homeserver: removing them (redaction) is a "
        "matter for the room's moderators or the homeserver's administrator.",
        file=out,
    )
    return 0


def _scrub(db: Database, tables: list[str], out: TextIO) -> None:
    """The erased values out of the database's files too (storage.erasure.scrub)."""
    db.engine.dispose()  # no pooled connection of this process holds the WAL
    for line in erasure.scrub(db.engine, tables):
        print(f"Note: {line}.", file=out)


def write_subject_access(config: Config, args: argparse.Namespace) -> int:
    """`export --user`: everything stored about one person, as JSON."""
    out: Path = args.out
    try:
        user_id = check_user_id(args.user)
        if args.format != "json":
            raise Refused("--user writes JSON only: give --format json")
        if args.room is not None or args.date_from is not None or args.date_to is not None:
            raise Refused("--user exports everything about the person: no --room/--from/--to")
        if not out.parent.is_dir():
            raise Refused(f"{out.parent} is no directory")
        db = _database(config)
    except Refused as exc:
        print(f"export: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        with db.session(write=False) as s:
            data = erasure.subject_access(s, user_id, now=dt.datetime.now(dt.UTC))
    finally:
        db.dispose()
    fd, tmp = tempfile.mkstemp(prefix=".export-", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    rows = sum(len(t["rows"]) for t in data["tables"].values())
    print(f"{out}: everything stored about {user_id} ({rows} rows in {len(data['tables'])} tables)")
    return 0
