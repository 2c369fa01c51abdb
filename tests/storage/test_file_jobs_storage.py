"""Files made later (`!export`), on SQLite and PostgreSQL: the job reads one consistent
snapshot; the command stores the row with its job and no file, and a bot started after a
crash makes the file (in a process of its own, as it runs); a job that fails becomes the
internal-error answer, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from bot.runtime.dbthread import DbThread
from bot.runtime.incoming import BotSettings, IncomingMessage, handle_message
from bot.runtime.renderer import Renderer, make_file
from commands.core.defaults import Defaults
from commands.exports.chat import EXPORT_JOB, make_export
from commands.features import build_registry
from storage import outbox
from storage.db import Database
from storage.models import Agreement, OutboxFile, OutboxKind, OutboxMessage
from storage.snapshot import snapshot
from tests import seed

ROOM = "!gremium:example.org"
ANNA = "@anna:example.org"
COORDINATOR = "@buero:example.org"
NOW = dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)
REGISTRY = build_registry()
SETTINGS = BotSettings(
    server_name="example.org",
    prefix="!",
    coordinators=frozenset({COORDINATOR}),
    registry=REGISTRY,
    defaults=Defaults(),
)


def _agreements(s: Session) -> int:
    return s.exec(select(func.count()).select_from(Agreement)).one()


def _seed(db: Database, texts: tuple[str, ...] = ("Bericht an das Schulamt",)) -> None:
    with db.session() as s:
        seed.room(s, ROOM, joined_at=NOW - dt.timedelta(days=30))
        for text in texts:
            seed.agreement(s, ROOM, text, by=ANNA, at=NOW - dt.timedelta(days=1))


def _export(db: Database, body: str = "!export json") -> None:
    msg = IncomingMessage(
        room_id=ROOM, event_id="$export", sender=COORDINATOR, timestamp=NOW, body=body
    )
    assert handle_message(db, msg, SETTINGS, lambda: NOW) == 2


def _rows(db: Database) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _texts(raw: bytes) -> list[str]:
    section = next(s for s in json.loads(raw)["sections"] if s["name"] == "agreements")
    keys = [c["key"] for c in section["columns"]]
    return [dict(zip(keys, row, strict=True))["text"] for row in section["rows"]]


def test_a_snapshot_does_not_see_what_is_committed_after_it_began(db: Database) -> None:
    _seed(db, ("eins", "zwei"))
    with snapshot(db) as s:
        with db.session() as other:  # a command, meanwhile, in the database thread
            seed.agreement(other, ROOM, "drei", by=ANNA, at=NOW)
        assert _agreements(s) == 2
    with db.session() as s:
        assert _agreements(s) == 3


def test_the_export_job_reads_the_state_of_its_start(db: Database) -> None:
    _seed(db)
    _export(db)
    [row, _notice] = _rows(db)
    assert row.file_job is not None
    params = json.loads(row.file_job)["params"]

    def during(s: Session, p: Mapping[str, Any]) -> bytes:
        # Written while the export runs: not in the file.
        with db.session() as other:
            seed.agreement(other, ROOM, "später verabredet", by=ANNA, at=NOW)
        return make_export(s, p)

    assert _texts(make_file(db, during, params)) == ["Bericht an das Schulamt"]
    with db.session() as s:
        assert _agreements(s) == 2


def test_the_command_stores_the_job_and_a_restarted_bot_makes_the_file(db: Database) -> None:
    _seed(db)
    _export(db)
    # The bot stops (or crashes) here: the command's transaction holds the job, no file.
    file_row, notice = _rows(db)
    assert file_row.id is not None
    assert (file_row.kind, file_row.to_user, file_row.status) == ("file", COORDINATOR, "pending")
    assert file_row.file_job is not None
    assert json.loads(file_row.file_job)["name"] == EXPORT_JOB
    assert "size" not in json.loads(file_row.content)["info"]
    assert json.loads(notice.content)["body"].startswith("Der Export „gremienbot-gremium-")
    with db.session() as s:
        assert s.get(OutboxFile, file_row.id) is None

    async def next_start() -> list[str]:
        made: list[str] = []
        done = asyncio.Event()
        dbt = DbThread(max_retry_wait=0.1)

        def on_made(queue: str) -> None:
            made.append(queue)
            done.set()

        renderer = Renderer(db, dbt, REGISTRY.file_jobs, language="de", on_made=on_made)
        running = asyncio.create_task(renderer.run())
        try:
            # A process is spawned for the job.
            await asyncio.wait_for(done.wait(), 120)
        finally:
            await renderer.close()
            running.cancel()
            dbt.close()
        return made

    assert asyncio.run(next_start()) == [COORDINATOR]
    with db.session() as s:
        stored = s.get(OutboxFile, file_row.id)
        assert stored is not None
        row = outbox.get(s, file_row.id)
        assert row is not None
    assert (stored.filename, stored.mimetype) == (
        "gremienbot-gremium-example-org.json",
        "application/json",
    )
    assert _texts(bytes(stored.data)) == ["Bericht an das Schulamt"]
    assert row.file_job is None
    assert (row.kind, row.status) == ("file", "pending")
    assert json.loads(row.content)["info"] == {"mimetype": "application/json", "size": stored.size}


def test_a_failed_job_is_answered_as_an_internal_error_and_not_tried_again(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    _seed(db)
    _export(db)

    def broken(s: Session, params: Mapping[str, Any]) -> bytes:
        raise RuntimeError("the disk is full")

    renderer = Renderer(db, DbThread(), {EXPORT_JOB: broken}, language="de", separate_process=False)
    with caplog.at_level(logging.ERROR):
        assert renderer.run_pending() == 1
    [row, _notice] = _rows(db)
    body = json.loads(row.content)["body"]
    assert body.startswith("Das hat leider nicht geklappt – ein Fehler bei mir")
    code = re.search(r"F-[A-Z0-9]{6}", body)
    assert code is not None
    assert code.group() in caplog.text
    assert "the disk is full" in caplog.text
    assert (row.kind, row.file_job, row.status) == (OutboxKind.REPLY, None, "pending")
    with db.session() as s:
        assert s.get(OutboxFile, row.id) is None
    assert renderer.run_pending() == 0


def slow(s: Session, params: Mapping[str, Any]) -> bytes:
    """A job that is still running when the bot stops (in its process: importable)."""
    time.sleep(60)
    return b""


def test_a_job_ended_by_the_bot_stopping_is_still_owed_not_failed(db: Database) -> None:
    _seed(db)
    _export(db)

    async def stop_while_it_runs() -> float:
        dbt = DbThread(max_retry_wait=0.1)
        renderer = Renderer(db, dbt, {EXPORT_JOB: slow}, language="de")
        running = asyncio.create_task(renderer.run())
        for _ in range(600):
            if renderer.busy:
                break
            await asyncio.sleep(0.05)
        assert renderer.busy
        await asyncio.sleep(1)
        started = time.perf_counter()
        await renderer.close()
        took = time.perf_counter() - started
        running.cancel()
        dbt.close()
        return took

    assert asyncio.run(stop_while_it_runs()) < 10
    file_row, _notice = _rows(db)
    assert file_row.file_job is not None
    assert (file_row.kind, file_row.status) == ("file", "pending")
