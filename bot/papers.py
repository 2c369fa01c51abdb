"""`gremienbot report`: the PDF papers on the command line — the Beschlusskontrolle
(`bericht`), the evaluation (`auswertung`) and a meeting's minutes (`protokoll`), the same
PDFs the chat's `!bericht pdf`, `!auswertung pdf` and `!sitzung protokoll N pdf` send.

Bad input (an unknown room, a period that cannot be used, a meeting that does not exist)
is one line on stderr and exit code 2, and no file is written; the PDF goes to a
temporary file beside the target, renamed into place once complete.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from sqlmodel import Session

from bot.config import Config
from bot.transfer import USAGE_ERROR, Refused, one_room, write_beside
from commands.core import i18n
from commands.core.defaults import Defaults
from commands.core.errors import CommandError
from commands.core.room import room_language
from commands.features import Paper, evaluation_paper, minutes_paper, render_pdf, report_paper
from commands.parsing.periods import past_period
from storage.db import Database
from storage.figures.period import Period, previous_month, year


def run_report(config: Config, args: argparse.Namespace) -> int:
    defaults = config.build_defaults()
    now = dt.datetime.now(defaults.zone)
    out: Path = args.out
    db = Database(config.database_url)
    try:
        _check(args)
        if not out.parent.is_dir():
            raise Refused(f"{out.parent} is no directory")
        with db.session(write=False) as s:
            paper = _paper(s, args, defaults, now)
        pdf = render_pdf(paper)
        write_beside(out, lambda f: f.write(pdf))
    except Refused as exc:
        print(f"report: {exc}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        db.dispose()
    print(f"{out}: {paper.title} ({paper.header}), {len(pdf):,} bytes")
    return 0


def _check(args: argparse.Namespace) -> None:
    """The arguments that do not fit the kind, before anything is read."""
    if args.kind == "protokoll":
        if args.room is None or args.meeting is None:
            raise Refused("--kind protokoll needs --room and --meeting (the meeting's number)")
        if args.period is not None:
            raise Refused("--kind protokoll takes no --period: the meeting is its date")
        if args.meeting < 1:
            raise Refused(f"--meeting {args.meeting}: a meeting's number is 1 or more")
    elif args.meeting is not None:
        raise Refused(f"--meeting is for --kind protokoll, not {args.kind}")


def _paper(s: Session, args: argparse.Namespace, defaults: Defaults, now: dt.datetime) -> Paper:
    room_id = None if args.room is None else one_room(s, args.room).room_id
    lang = defaults.language if room_id is None else room_language(s, room_id, defaults.language)
    try:
        if args.kind == "protokoll":
            assert room_id is not None
            return minutes_paper(s, room_id, args.meeting, lang, defaults=defaults, now=now)
        period = _period(args.kind, args.period, now.date())
        make = evaluation_paper if args.kind == "auswertung" else report_paper
        return make(s, room_id, period, lang, defaults=defaults, now=now)
    except CommandError as exc:
        raise Refused(i18n.plain(lang, exc.key, **exc.values)) from None


def _period(kind: str, text: str | None, today: dt.date) -> Period:
    if text is None:
        return year(today.year) if kind == "auswertung" else previous_month(today)
    # A period that cannot be used: the chat's answer (a CommandError, as _paper reports).
    return past_period(text, today)
