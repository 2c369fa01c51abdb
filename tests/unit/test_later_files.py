"""A file made later (`!export`): the sender holds its message, and those after it in the
member's queue, until the file is made, without counting the wait as a failure; other
queues go on meanwhile. In a dialog the file still arrives, or the failure's answer."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from sqlmodel import Session

from bot.runtime.dbthread import DbThread
from bot.runtime.incoming import queue_effects
from bot.runtime.renderer import Renderer
from bot.runtime.sender import OutboxSender
from commands.core.effects import LaterFile, Reply
from commands.core.file_jobs import FileJob
from commands.core.rich import text
from commands.exports import chat
from storage import outbox
from storage.db import Database
from tests.dialog import COORDINATOR, ROOM, Dialog
from tests.unit.test_outbox_sender import OTHER, FakeHomeserver

NOW = dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)
ANNA = "@anna:example.org"
DATA = b"Nr;Verabredung\n1;Bericht\n"


def _csv(s: Session, params: Mapping[str, Any]) -> bytes:
    return DATA


@pytest.fixture
def dbt() -> Iterator[DbThread]:
    thread = DbThread()
    yield thread
    thread.close()


async def test_the_sender_holds_the_file_and_what_follows_it_until_the_file_is_made(
    sqlite_db: Database, dbt: DbThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    homeserver = FakeHomeserver()
    wanted: list[bool] = []
    sender = OutboxSender(
        sqlite_db,
        dbt,
        client=lambda: homeserver,
        clock=lambda: NOW,
        max_retry_wait=0.1,
        file_wanted=lambda: wanted.append(True),
    )
    sender.enabled = True

    async def room_for(client: Any, user_id: str) -> str:
        return OTHER

    monkeypatch.setattr(sender.delivery.direct, "room_for", room_for)
    job = FileJob("csv", {"rooms": [ROOM]}, lang="de")
    with sqlite_db.session() as s:
        queue_effects(
            s,
            "$export",
            ROOM,
            [
                LaterFile(filename="liste.csv", mimetype="text/csv", job=job, to_user=ANNA),
                Reply(text("nach der Datei"), to_user=ANNA),
                Reply(text("im Raum")),
            ],
        )
    assert not await sender.flush()  # the member's queue waits
    assert homeserver.bodies() == ["im Raum"]
    assert wanted
    with sqlite_db.session() as s:
        held = outbox.by_key(s, "reply:$export:0")
        assert held is not None
        assert (held.status, held.attempts, held.last_error) == ("pending", 0, None)

    renderer = Renderer(
        sqlite_db,
        dbt,
        {"csv": _csv},
        language="de",
        on_made=sender.file_made,
        separate_process=False,
    )
    assert renderer.run_pending() == 1
    sender.file_made(ANNA)
    assert await sender.flush()
    assert homeserver.bodies() == ["im Raum", "liste.csv", "nach der Datei"]
    assert homeserver.uploads == [DATA]
    file_event = homeserver.events[1]
    assert file_event[0] == OTHER
    assert file_event[2]["info"] == {"mimetype": "text/csv", "size": len(DATA)}


def test_a_dialog_still_gets_the_export_by_direct_message(dialog: Dialog) -> None:
    file_msg, notice = dialog.say(COORDINATOR, "!export csv")
    assert (file_msg.to_user, file_msg.content["msgtype"]) == (COORDINATOR, "m.file")
    assert file_msg.content["info"]["size"] > 0
    assert notice.room_id == ROOM


def test_a_failed_export_sends_the_internal_error_in_the_file_s_place(
    dialog: Dialog, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(chat, "export", broken)
    with caplog.at_level(logging.ERROR):
        failure, notice = dialog.say(COORDINATOR, "!export")
    assert failure.to_user == COORDINATOR
    assert failure.content["msgtype"] == "m.notice"
    assert failure.body.startswith("Das hat leider nicht geklappt – ein Fehler bei mir")
    assert "renderer broke" in caplog.text
    assert "sie finden ihn in ihrer direktnachricht" in notice.body.lower()
    # Answered once: nothing is left to make.
    assert dialog.bot.make_files() == 0
