"""The `gremienbot` command: run, check-config, migrate, healthcheck, demo, crypto, export,
import, report, forget."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import logging
import os
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType

from bot.config import ENV_RECOVERY_KEY, Config, ConfigError, load_config
from bot.crypto import status as crypto_status
from bot.runtime.app import BotStartError, GremienBot
from bot.runtime.logs import setup_logging
from commands.features import EXPORT_FORMATS, EXPORT_SECTIONS
from storage.db import Database
from storage.migrate import current_revision, upgrade

log = logging.getLogger("gremienbot")

# The operator's tools, each loaded when its subcommand runs, so that `gremienbot run`
# imports nothing the running bot does not use (their code is about 1 MB of its memory,
# issue 21). tests/unit/test_architecture.py reads this table as imports of this module.
TOOLS = {
    "demo": "bot.devtools.demo",
    "export": "bot.transfer",
    "forget": "bot.forget",
    "import": "bot.transfer",
    "report": "bot.papers",
}
REPORT_KINDS = ("auswertung", "bericht", "protokoll")


def tool(command: str) -> ModuleType:
    """The module that carries out the operator's subcommand `command` (see TOOLS)."""
    return importlib.import_module(TOOLS[command])


def load_or_exit(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        print("The configuration has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    print(f"{args.config}: OK")
    print(f"  homeserver: {config.homeserver}")
    print(f"  user:       {config.user_id}")
    print(f"  login:      {'password' if config.password else 'access token'}")
    print(f"  data:       {config.data_dir}")
    print(f"  database:   {config.database_url.split('@')[-1]}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(config.database_url)
    before = current_revision(db.engine)
    upgrade(db.engine)
    after = current_revision(db.engine)
    print(f"database schema: {before or 'empty'} -> {after}")
    db.dispose()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    setup_logging(config.logging.level, config.logging.format)

    async def main() -> None:
        bot = GremienBot(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, bot.stop)
        await bot.start()
        log.info("gremienbot running as %s", config.user_id)
        await bot.run()

    try:
        asyncio.run(main())
    except BotStartError as exc:
        log.error("%s", exc)
        return 1
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """Ask the running bot's /healthz (the container's HEALTHCHECK): 0 healthy, 1 not."""
    config = load_or_exit(args.config)
    address = config.metrics.address
    if address is None:
        print("metrics.listen is not set: the bot has no health endpoint", file=sys.stderr)
        return 1
    host, port = address
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: ask it on this machine
        host = "127.0.0.1"
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as resp:
            print(resp.read().decode().strip())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode().strip() or str(exc), file=sys.stderr)
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
    return 1


def cmd_demo(args: argparse.Namespace) -> int:
    demo = tool("demo")
    return int(asyncio.run(demo.run_demo(keep=args.keep, output=args.output)))


def cmd_crypto(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    logging.basicConfig(level=logging.WARNING)
    if args.action == "status":
        return asyncio.run(crypto_status.cli_status(config))
    if args.action == "export-recovery-key":
        return crypto_status.cli_export(config)
    # import-recovery-key: from a file, the environment, or typed in (never an argument,
    # which would end up in the shell history and the process list).
    if args.key_file is not None:
        text = sys.stdin.read() if str(args.key_file) == "-" else args.key_file.read_text()
    elif os.environ.get(ENV_RECOVERY_KEY):
        text = os.environ[ENV_RECOVERY_KEY]
    elif sys.stdin.isatty():
        text = getpass.getpass("Recovery key: ")
    else:
        text = sys.stdin.read()
    return asyncio.run(crypto_status.cli_import(config, text.strip()))


def cmd_forget(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    return int(tool("forget").run_forget(config, args.user, yes=args.yes, names=args.name))


def cmd_export(args: argparse.Namespace) -> int:
    return int(tool("export").run_export(load_or_exit(args.config), args))


def cmd_import(args: argparse.Namespace) -> int:
    return int(tool("import").run_import(load_or_exit(args.config), args))


def cmd_report(args: argparse.Namespace) -> int:
    return int(tool("report").run_report(load_or_exit(args.config), args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gremienbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, text in (
        ("run", cmd_run, "run the bot"),
        ("check-config", cmd_check_config, "validate the configuration file"),
        ("migrate", cmd_migrate, "bring the database schema up to date"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
        p.set_defaults(func=func)
    health = sub.add_parser("healthcheck", help="ask the running bot's /healthz (exit 0: healthy)")
    health.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
    health.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (5)")
    health.set_defaults(func=cmd_healthcheck)
    crypto = sub.add_parser("crypto", help="encryption: status, recovery key export/import")
    crypto.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
    crypto.add_argument("action", choices=("status", "export-recovery-key", "import-recovery-key"))
    crypto.add_argument(
        "--key-file", type=Path, help="import: read the recovery key from this file ('-': stdin)"
    )
    crypto.set_defaults(func=cmd_crypto)
    _add_transfer_parsers(sub)
    _add_report_parser(sub)
    forget = sub.add_parser(
        "forget", help="erase a person: their user ID replaced by 'ehemaliges Mitglied N'"
    )
    forget.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
    forget.add_argument("--yes", action="store_true", help="do not ask before changing anything")
    forget.add_argument(
        "--name", action="append", default=[], help="a display name to replace in texts too"
    )
    forget.add_argument("user", help="the person's Matrix ID, e.g. @anna:example.org")
    forget.set_defaults(func=cmd_forget)
    demo = sub.add_parser("demo", help="show the bot on a throwaway local homeserver")
    demo.add_argument(
        "--keep",
        action="store_true",
        help="after the script keep the homeserver and the bot running for a Matrix client"
        " (prints URL, user and password) until Ctrl-C",
    )
    demo.add_argument(
        "--output", type=Path, metavar="DIR", help="save the files the bot sends (exports) here"
    )
    demo.set_defaults(func=cmd_demo)
    return parser


def _add_report_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rep = sub.add_parser(
        "report", help="write a PDF: the report (bericht), evaluation (auswertung) or minutes"
    )
    rep.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
    rep.add_argument("--kind", required=True, choices=REPORT_KINDS)
    rep.add_argument(
        "--room", help="a room ID or the room's name (bericht, auswertung: default every room)"
    )
    rep.add_argument(
        "--period",
        help="as in the chat: 2026, 'Q1 2026', 'März 2026', 'letztes Quartal'"
        " (bericht: default last month; auswertung: default this year)",
    )
    rep.add_argument("--meeting", type=int, help="protokoll: the meeting's number")
    rep.add_argument("--out", "-o", type=Path, required=True, help="the PDF file to write")
    rep.set_defaults(func=cmd_report)


def _add_transfer_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    exp = sub.add_parser("export", help="export agreements and their history to a file")
    exp.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
    exp.add_argument("--format", "-f", required=True, choices=list(EXPORT_FORMATS))
    exp.add_argument("--room", help="a room ID or the room's name (default: every room)")
    exp.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD or DD.MM.YYYY")
    exp.add_argument("--to", dest="date_to", help="last day, included")
    exp.add_argument(
        "--period",
        dest="period",
        help="instead of --from/--to, as in the chat: 2026, 'Q1 2026', 'März 2026', 'letztes Jahr'",
    )
    exp.add_argument(
        "--section",
        choices=list(EXPORT_SECTIONS),
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
    exp.set_defaults(func=cmd_export)
    imp = sub.add_parser("import", help="restore a JSON export into an empty database")
    imp.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
    imp.add_argument("file", type=Path, help="a file written by `export --format json`")
    imp.set_defaults(func=cmd_import)


def main(argv: list[str] | None = None) -> int:
    # Files the bot makes (database, keys, exports) are for its own user only.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
