"""The outbox sender with every effect kind, against a stand-in for the homeserver: what
refers to another message is sent after it with its event ID, waits while it is not sent,
fails once it failed for good; files are uploaded; each queue keeps its order."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from nio import RoomSendError, RoomSendResponse, UploadResponse

from bot.runtime.dbthread import DbThread
from bot.runtime.incoming import queue_effects
from bot.runtime.sender import OutboxSender
from commands.core.effects import AnyEffect, Edit, File, PollAnswer, PollEnd, PollStart, Reply
from commands.core.rich import text
from storage import outbox
from storage.db import Database
from storage.models import OutboxFile, OutboxMessage

ROOM = "!gremium:example.org"
OTHER = "!andere:example.org"
NOW = dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)


@dataclass
class FakeRoom:
    encrypted: bool = False
    users: dict[str, object] = field(default_factory=dict)


class FakeHomeserver:
    """Takes events like room_send does; refuses rooms in `refusing` with `errcode`."""

    user_id = "@bot:example.org"
    should_query_keys = False

    def __init__(self) -> None:
        self.rooms: dict[str, FakeRoom] = {ROOM: FakeRoom(), OTHER: FakeRoom()}
        self.events: list[tuple[str, str, dict[str, Any], str | None]] = []
        self.uploads: list[bytes] = []
        self.refusing: dict[str, str] = {}

    async def room_send(
        self,
        room_id: str,
        message_type: str,
        content: dict[str, Any],
        tx_id: str | None = None,
        ignore_unverified_devices: bool = False,
    ) -> RoomSendResponse | RoomSendError:
        if room_id in self.refusing:
            return RoomSendError("refused", self.refusing[room_id], room_id=room_id)
        self.events.append((room_id, message_type, content, tx_id))
        return RoomSendResponse(f"$ev{len(self.events)}", room_id)

    async def upload(self, data: Any, **kwargs: Any) -> tuple[UploadResponse, None]:
        self.uploads.append(data.read())
        return UploadResponse(f"mxc://example.org/{len(self.uploads)}"), None

    def bodies(self) -> list[str]:
        return [_body(content) for _, _, content, _ in self.events]


def _body(content: dict[str, Any]) -> str:
    for key in ("body", "org.matrix.msc1767.text"):
        if key in content:
            return str(content[key])
    return ""


@pytest.fixture
def dbt() -> Iterator[DbThread]:
    thread = DbThread()
    yield thread
    thread.close()


@pytest.fixture
def homeserver() -> FakeHomeserver:
    return FakeHomeserver()


@pytest.fixture
def sender(sqlite_db: Database, dbt: DbThread, homeserver: FakeHomeserver) -> OutboxSender:
    s = OutboxSender(
        sqlite_db, dbt, client=lambda: homeserver, clock=lambda: NOW, max_retry_wait=0.1
    )
    s.enabled = True
    return s


def _queue(db: Database, source: str, room: str, effects: Sequence[AnyEffect]) -> None:
    with db.session() as s:
        queue_effects(s, source, room, effects)


def _row(db: Database, key: str) -> OutboxMessage:
    with db.session() as s:
        row = outbox.by_key(s, key)
        assert row is not None
        return row


POLL = PollStart(question="Zufrieden?", answers=(PollAnswer("a1", "ja"),), key="poll:1:start")


async def test_a_poll_end_and_an_edit_go_out_after_their_targets_with_their_event_ids(
    sqlite_db: Database, sender: OutboxSender, homeserver: FakeHomeserver
) -> None:
    _queue(
        sqlite_db,
        "$cmd",
        ROOM,
        [
            POLL,
            Reply(text("Karte"), key="card:1"),
            Edit(target_key="card:1", rich=text("Karte, geändert"), key="card:1:e"),
            PollEnd(poll_key="poll:1:start", results=text("ja: 1"), key="poll:1:end"),
        ],
    )
    assert await sender.flush()
    start, _card, edit, end = homeserver.events
    assert start[1] == "org.matrix.msc3381.poll.start"
    assert edit[2]["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$ev2"}
    assert end[1] == "org.matrix.msc3381.poll.end"
    assert end[2]["m.relates_to"] == {"rel_type": "m.reference", "event_id": "$ev1"}
    # Each with the transaction ID of its own key.
    assert [e[3] for e in homeserver.events] == [
        outbox.txn_id_for(k, sqlite_db.secret)
        for k in ("poll:1:start", "card:1", "card:1:e", "poll:1:end")
    ]
    assert _row(sqlite_db, "poll:1:end").event_id == "$ev4"


async def test_a_message_waits_while_its_target_is_unsent_and_its_room_waits_behind_it(
    sqlite_db: Database, sender: OutboxSender, homeserver: FakeHomeserver
) -> None:
    _queue(sqlite_db, "$a", ROOM, [Reply(text("Original"), key="orig")])
    with sqlite_db.session() as s:  # a row in another room's queue, relating to it
        target = outbox.by_key(s, "orig")
        assert target is not None
        outbox.enqueue(
            s,
            key="edit",
            room_id=OTHER,
            content={
                "msgtype": "m.notice",
                "body": "* neu",
                "m.relates_to": {"rel_type": "m.replace"},
            },
            kind="edit",
            target_id=target.id,
        )
    _queue(sqlite_db, "$b", OTHER, [Reply(text("danach"))])
    homeserver.refusing[ROOM] = "M_UNKNOWN"
    assert not await sender.flush()
    assert homeserver.events == []  # the other room waits behind its waiting edit
    del homeserver.refusing[ROOM]
    await asyncio.sleep(0.11)  # the refused room's backoff (max_retry_wait) runs out
    assert await sender.flush()
    assert homeserver.bodies() == ["Original", "* neu", "danach"]
    _original, edit, _after = homeserver.events
    # An edit goes to the room of the message it replaces.
    assert edit[0] == ROOM
    assert edit[2]["m.relates_to"]["event_id"] == "$ev1"


async def test_a_target_that_failed_for_good_fails_what_refers_to_it(
    sqlite_db: Database,
    sender: OutboxSender,
    homeserver: FakeHomeserver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _queue(sqlite_db, "$cmd", ROOM, [POLL, PollEnd(poll_key="poll:1:start", results=text("x"))])
    _queue(sqlite_db, "$later", ROOM, [Reply(text("weiter"))])
    with sqlite_db.session() as s:
        start = outbox.by_key(s, "poll:1:start")
        assert start is not None
        assert start.id is not None
        outbox.mark_attempt_failed(s, start.id, "M_FORBIDDEN", give_up=True)
    with caplog.at_level(logging.ERROR):
        assert await sender.flush()
    assert homeserver.bodies() == ["weiter"]
    end = _row(sqlite_db, "reply:$cmd:1")
    assert end.status == "failed"
    assert "failed" in (end.last_error or "")
    assert "cannot be sent" in caplog.text


async def test_a_file_is_uploaded_at_send_time_and_sent_as_m_file(
    sqlite_db: Database, sender: OutboxSender, homeserver: FakeHomeserver
) -> None:
    data = b"Nr;Verabredung\n1;Bericht\n"
    _queue(sqlite_db, "$export", ROOM, [File(filename="liste.csv", data=data, mimetype="text/csv")])
    assert await sender.flush()
    assert homeserver.uploads == [data]
    [(room, event_type, content, _)] = homeserver.events
    assert (room, event_type) == (ROOM, "m.room.message")
    assert content == {
        "msgtype": "m.file",
        "body": "liste.csv",
        "filename": "liste.csv",
        "info": {"mimetype": "text/csv", "size": len(data)},
        "url": "mxc://example.org/1",
    }
    with sqlite_db.session() as s:
        assert s.get(OutboxFile, _row(sqlite_db, "reply:$export:0").id) is None


async def test_a_member_s_messages_go_to_their_room_in_order(
    sqlite_db: Database,
    sender: OutboxSender,
    homeserver: FakeHomeserver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    async def room_for(client: Any, user_id: str) -> str | None:
        asked.append(user_id)
        # A new room is not ready before the sync brings it: twice "not yet".
        return OTHER if len(asked) > 2 else None

    monkeypatch.setattr(sender.delivery.direct, "room_for", room_for)
    anna = "@anna:example.org"
    _queue(
        sqlite_db,
        "$ev",
        ROOM,
        [
            Reply(text("eins"), to_user=anna, key="dm:1"),
            Reply(text("zwei"), to_user=anna),
            Reply(text("im Raum")),
        ],
    )
    assert not await sender.flush()
    assert homeserver.bodies() == ["im Raum"]  # the member's messages wait, in order
    assert await sender.flush()
    assert homeserver.bodies() == ["im Raum", "eins", "zwei"]
    assert {room for room, *_ in homeserver.events[1:]} == {OTHER}
    assert _row(sqlite_db, "dm:1").room_id == OTHER
    assert json.loads(_row(sqlite_db, "dm:1").content)["body"] == "eins"


async def test_a_room_the_homeserver_refuses_backs_off_alone_and_never_holds_up_another(
    sqlite_db: Database, sender: OutboxSender, homeserver: FakeHomeserver
) -> None:
    homeserver.refusing[ROOM] = "M_UNKNOWN"
    for i in range(150):  # more than one batch of the refused room's messages
        _queue(sqlite_db, f"$stuck{i}", ROOM, [Reply(text(f"stuck {i}"))])
    assert not await sender.flush()
    _queue(sqlite_db, "$fresh", OTHER, [Reply(text("Antwort im anderen Raum"))])
    # The refused room is in its backoff: the other room's answer goes out at once.
    assert not await sender.flush()
    assert homeserver.bodies() == ["Antwort im anderen Raum"]
    assert sender._skipped() == {ROOM}
    del homeserver.refusing[ROOM]
    await asyncio.sleep(0.11)  # the backoff (at most max_retry_wait) runs out
    assert await sender.flush()
    assert homeserver.bodies()[1:] == [f"stuck {i}" for i in range(150)]
