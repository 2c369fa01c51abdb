"""`!dashboard einrichten` / `!dashboard entfernen`: the coordinating office puts its
dashboard beside a room as an Element widget, or takes it out again (issue 24).

A dialog in a committee room whose power levels are as Synapse makes them (state events
need 50) shows what the bot stores to send: the widget's state event, its pin at the top
of the room and the answer. The sender then puts them into a homeserver stand-in that
keeps the room's state as Synapse does (the same content again is no new event)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from nio import (
    MatrixRoom,
    RoomGetStateEventError,
    RoomGetStateEventResponse,
    RoomPutStateResponse,
)
from sqlmodel import select

from bot.runtime.dbthread import DbThread
from bot.runtime.incoming import queue_effects
from bot.runtime.matrix_render import state_parts
from bot.runtime.sender import OutboxSender
from commands.core.dashboard_link import DashboardLink
from commands.core.defaults import Defaults
from commands.core.effects import RoomState
from commands.core.power import StateLevels, may_send_state, user_level
from commands.desk.dashboard_setup import (
    LAYOUT_TYPE,
    WIDGET_ID,
    WIDGETS_TYPE,
    pinned_layout,
    unpinned_layout,
    widget_content,
)
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.dialog import ANNA, BOT, CHAIR, COORDINATOR, ROOM, Dialog, Sent

PUBLIC_URL = "https://bot.example.org/dashboard"
WIDGET_URL = (
    "https://bot.example.org/dashboard/#/?room=$matrix_room_id"
    "&lang=$org.matrix.msc2873.client_language&theme=$org.matrix.msc2873.client_theme"
    "&widgetId=$matrix_widget_id"
)
CONFIGURED = Defaults(features={"dashboard": DashboardLink(public_url=PUBLIC_URL)})


@dataclass
class CommitteeRoom(Dialog):
    """A dialog whose room has power levels as Synapse makes them: state events need
    `state_default` unless `event_levels` names their type."""

    state_default: int = 50
    event_levels: dict[str, int] = field(default_factory=dict)

    def matrix_room(self, room_id: str | None = None, sender: str = "") -> MatrixRoom:
        room = super().matrix_room(room_id, sender)
        if room_id in (None, self.room_id):
            room.power_levels.defaults.state_default = self.state_default
            room.power_levels.events.update(self.event_levels)
        return room


def committee_room(
    db: Database, *, bot_level: int = 100, defaults: Defaults = CONFIGURED, **levels: Any
) -> CommitteeRoom:
    return CommitteeRoom(db, defaults=defaults, power_levels={CHAIR: 50, BOT: bot_level}, **levels)


@dataclass(frozen=True)
class Put:
    """A state event the bot stored to send: type, state key, content, merged or not."""

    event_type: str
    state_key: str
    content: dict[str, Any]
    merge: str | None


def state_of(sent: list[Sent]) -> list[Put]:
    return [
        Put(s.event_type, *state_parts(s.content))
        for s in sent
        if s.event_type in (WIDGETS_TYPE, LAYOUT_TYPE)
    ]


def answer_of(sent: list[Sent]) -> str:
    (answer,) = [s for s in sent if s.event_type == "m.room.message"]
    return answer.body


def everything_stored(db: Database) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.exec(select(OutboxMessage)))


# ------------------------------------------------------------------ setting it up


def test_a_coordinator_sets_up_the_dashboard_as_a_widget_pinned_at_the_top(
    sqlite_db: Database,
) -> None:
    room = committee_room(sqlite_db)
    sent = room.say(COORDINATOR, "!dashboard einrichten")

    widget, pin = state_of(sent)
    assert widget == Put(
        WIDGETS_TYPE,
        "gremienbot-dashboard",
        {
            "type": "m.custom",
            "url": WIDGET_URL,
            "name": "Gremienbot",
            "id": "gremienbot-dashboard",
            "creatorUserId": BOT,
            "data": {"title": "Verabredungen im Blick"},
            "waitForIframeLoad": False,
        },
        None,
    )
    # No capabilities asked for: Element shows no dialog about what the widget may do.
    assert "capabilities" not in widget.content
    assert pin == Put(
        LAYOUT_TYPE,
        "",
        {"widgets": {WIDGET_ID: {"container": "top", "index": 0, "width": 100, "height": 50}}},
        "widgets",
    )
    answer = answer_of(sent)
    assert answer.startswith("Das Dashboard ist eingerichtet: Es steht oben im Raum")
    assert "`!dashboard entfernen` nimmt es wieder heraus." in answer
    # The state comes first: the answer says what is done.
    assert [s.event_type for s in sent] == [WIDGETS_TYPE, LAYOUT_TYPE, "m.room.message"]


def test_the_widget_address_carries_nothing_but_the_template_after_the_hash() -> None:
    content = widget_content(PUBLIC_URL + "/", BOT, "de")
    base, fragment = content["url"].split("#", 1)
    assert base == PUBLIC_URL + "/"
    assert fragment == (
        "/?room=$matrix_room_id&lang=$org.matrix.msc2873.client_language"
        "&theme=$org.matrix.msc2873.client_theme&widgetId=$matrix_widget_id"
    )


def test_an_english_room_gets_the_dashboard_in_english(sqlite_db: Database) -> None:
    room = committee_room(sqlite_db)
    room.say(CHAIR, "!einstellungen sprache en")
    sent = room.say(COORDINATOR, "!dashboard setup")

    widget, _pin = state_of(sent)
    assert widget.content["data"] == {"title": "Agreements at a glance"}
    assert widget.content["url"] == WIDGET_URL
    answer = answer_of(sent)
    assert answer.startswith("The dashboard is set up: it is at the top of the room")
    assert "`!dashboard remove` takes it out again." in answer


def test_setting_it_up_twice_leaves_one_widget_with_the_same_content(
    sqlite_db: Database,
) -> None:
    room = committee_room(sqlite_db)
    first = state_of(room.say(COORDINATOR, "!dashboard einrichten"))
    again = state_of(room.say(COORDINATOR, "!dashboard einrichten"))
    # The same state key and content: the room keeps one widget, unchanged (a homeserver
    # takes the same content again without a new event, see the sender's tests below).
    assert again == first
    assert {(p.event_type, p.state_key) for p in first + again} == {
        (WIDGETS_TYPE, WIDGET_ID),
        (LAYOUT_TYPE, ""),
    }


@pytest.mark.parametrize("who", [ANNA, CHAIR], ids=["member", "chair"])
def test_a_member_or_a_chair_is_refused_and_nothing_changes(sqlite_db: Database, who: str) -> None:
    room = committee_room(sqlite_db)
    sent = room.say(who, "!dashboard einrichten")
    assert state_of(sent) == []
    assert answer_of(sent) == (
        "`!dashboard einrichten` ist der Koordination (Bildungsbüro) vorbehalten. Bitte "
        "wenden Sie sich dorthin."
    )
    assert state_of(room.say(who, "!dashboard entfernen")) == []
    assert all(row.kind != "state" for row in everything_stored(sqlite_db))


def test_without_moderator_rights_the_bot_says_so_and_changes_nothing(
    sqlite_db: Database,
) -> None:
    room = committee_room(sqlite_db, bot_level=0)
    sent = room.say(COORDINATOR, "!dashboard einrichten")
    assert state_of(sent) == []
    assert answer_of(sent) == (
        "Das Dashboard kann ich hier nicht einrichten: Dafür brauche ich in diesem Raum "
        "Moderationsrechte. Bitte jemanden mit Admin-Rechten, sie mir in den "
        "Raumeinstellungen unter „Rollen & Berechtigungen“ zu geben, und schreiben Sie "
        "dann noch einmal `!dashboard einrichten`. Ich habe nichts geändert."
    )


def test_where_widgets_need_admin_rights_the_bot_asks_for_those(sqlite_db: Database) -> None:
    room = committee_room(sqlite_db, bot_level=50, event_levels={WIDGETS_TYPE: 100})
    room.say(CHAIR, "!einstellungen sprache en")
    sent = room.say(COORDINATOR, "!dashboard setup")
    assert state_of(sent) == []
    answer = answer_of(sent)
    assert answer.startswith("I cannot set up the dashboard here: for that I need admin rights")
    assert "then type `!dashboard setup` again. I have changed nothing." in answer


def test_a_custom_level_above_admin_is_named_by_its_number(sqlite_db: Database) -> None:
    room = committee_room(sqlite_db, bot_level=100, event_levels={WIDGETS_TYPE: 150})
    sent = room.say(COORDINATOR, "!dashboard entfernen")
    assert state_of(sent) == []
    assert "mindestens Stufe 150" in answer_of(sent)


def test_where_the_bot_may_not_pin_it_the_widget_comes_unpinned_and_it_says_why(
    sqlite_db: Database,
) -> None:
    room = committee_room(sqlite_db, bot_level=50, event_levels={LAYOUT_TYPE: 100})
    sent = room.say(COORDINATOR, "!dashboard einrichten")
    assert [p.event_type for p in state_of(sent)] == [WIDGETS_TYPE]
    answer = answer_of(sent)
    assert "Sie finden es in den Raumdetails unter „Erweiterungen“" in answer
    assert "Oben im Raum anheften konnte ich es nicht, dafür fehlen mir hier Admin-Rechte" in answer


def test_without_a_dashboard_address_the_operator_must_set_it_up_first(
    sqlite_db: Database,
) -> None:
    room = committee_room(sqlite_db, defaults=Defaults())
    sent = room.say(COORDINATOR, "!dashboard einrichten")
    assert state_of(sent) == []
    assert answer_of(sent).startswith(
        "Das Dashboard ist für diesen Bot noch nicht freigeschaltet: Das muss zuerst der "
        "Betrieb bei der Einrichtung des Bots tun"
    )


def test_removing_empties_the_widget_and_unpins_only_it(sqlite_db: Database) -> None:
    room = committee_room(sqlite_db)
    room.say(COORDINATOR, "!dashboard einrichten")
    sent = room.say(COORDINATOR, "!dashboard entfernen")
    assert state_of(sent) == [
        Put(WIDGETS_TYPE, WIDGET_ID, {}, None),
        Put(LAYOUT_TYPE, "", {"widgets": {WIDGET_ID: None}}, "widgets"),
    ]
    assert answer_of(sent) == (
        "Das Dashboard ist aus diesem Raum entfernt. `!dashboard einrichten` richtet es wieder ein."
    )


def test_the_dashboard_without_a_word_asks_which_and_shows_how(sqlite_db: Database) -> None:
    room = committee_room(sqlite_db)
    sent = room.say(COORDINATOR, "!dashboard")
    assert state_of(sent) == []
    answer = answer_of(sent)
    assert "einrichten oder entfernen?" in answer
    assert "`!dashboard einrichten` · `!dashboard entfernen`" in answer


# ------------------------------------------------------------------ the power levels


def test_the_power_levels_are_read_as_the_specification_says() -> None:
    # No power levels at all: every member may send state.
    assert may_send_state(user_level(None, BOT), StateLevels.of(None), WIDGETS_TYPE)
    # Power levels without `state_default`: 50; a type of its own; levels as strings.
    levels = StateLevels.of({"events": {LAYOUT_TYPE: "100", "x.broken": "viel"}})
    assert levels.needed(WIDGETS_TYPE) == 50
    assert levels.needed(LAYOUT_TYPE) == 100
    assert levels.needed("x.broken") == 50
    content = {"users": {BOT: "50"}, "users_default": 10}
    assert user_level(content, BOT) == 50
    assert user_level(content, ANNA) == 10
    # Unknown levels (no room at hand) are as strict as the specification's defaults.
    assert not may_send_state(0, StateLevels(), WIDGETS_TYPE)


# ------------------------------------------------------------------ sending it


class Homeserver:
    """Keeps the room's state as Synapse does: putting the same content again by the
    same sender returns the event there is, and makes no new one."""

    user_id = BOT

    def __init__(self) -> None:
        self.rooms: dict[str, object] = {ROOM: object()}
        self.state: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.puts: list[tuple[str, str, dict[str, Any]]] = []
        self._ids = itertools.count(1)

    async def room_put_state(
        self, room_id: str, event_type: str, content: dict[str, Any], state_key: str = ""
    ) -> RoomPutStateResponse:
        self.puts.append((event_type, state_key, content))
        had = self.state.get((event_type, state_key))
        if had is not None and had[1] == content:
            return RoomPutStateResponse(had[0], room_id)
        event_id = f"$state{next(self._ids)}"
        self.state[(event_type, state_key)] = (event_id, content)
        return RoomPutStateResponse(event_id, room_id)

    async def room_get_state_event(
        self, room_id: str, event_type: str, state_key: str = ""
    ) -> RoomGetStateEventResponse | RoomGetStateEventError:
        had = self.state.get((event_type, state_key))
        if had is None:
            return RoomGetStateEventError("not found", "M_NOT_FOUND", room_id=room_id)
        return RoomGetStateEventResponse(had[1], event_type, state_key, room_id)

    async def room_send(self, room_id: str, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("state is put, never sent as a message")

    def content(self, event_type: str, state_key: str) -> dict[str, Any]:
        return self.state[(event_type, state_key)][1]


@pytest.fixture
def dbt() -> Iterator[DbThread]:
    thread = DbThread()
    yield thread
    thread.close()


def _sender(db: Database, dbt: DbThread, homeserver: Homeserver) -> OutboxSender:
    sender = OutboxSender(
        db,
        dbt,
        client=lambda: homeserver,
        clock=lambda: dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC),
        max_retry_wait=0.1,
    )
    sender.enabled = True
    return sender


async def _send(
    db: Database, dbt: DbThread, homeserver: Homeserver, source: str, *effects: RoomState
) -> None:
    with db.session() as s:
        queue_effects(s, source, ROOM, list(effects))
    assert await _sender(db, dbt, homeserver).flush()


OTHER_PIN = {"container": "top", "index": 1, "width": 50, "height": 40}


async def test_the_widget_is_put_as_room_state_and_other_pinned_widgets_stay(
    sqlite_db: Database, dbt: DbThread
) -> None:
    homeserver = Homeserver()
    homeserver.state[(LAYOUT_TYPE, "")] = ("$jitsi", {"widgets": {"jitsi": OTHER_PIN}})
    widget = RoomState(
        event_type=WIDGETS_TYPE,
        state_key=WIDGET_ID,
        content=widget_content(PUBLIC_URL, BOT, "de"),
    )
    await _send(sqlite_db, dbt, homeserver, "$cmd1", widget, pinned_layout())

    assert homeserver.content(WIDGETS_TYPE, WIDGET_ID)["url"] == WIDGET_URL
    assert homeserver.content(LAYOUT_TYPE, "") == {
        "widgets": {
            "jitsi": OTHER_PIN,
            WIDGET_ID: {"container": "top", "index": 0, "width": 100, "height": 50},
        }
    }
    stored = everything_stored(sqlite_db)
    assert [row.status for row in stored] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert stored[0].event_id == homeserver.state[(WIDGETS_TYPE, WIDGET_ID)][0]

    # Set up again: the room's state stays as it was, with no new state event.
    before = dict(homeserver.state)
    await _send(sqlite_db, dbt, homeserver, "$cmd2", widget, pinned_layout())
    assert homeserver.state == before

    # Removed: the widget emptied, only its own pin gone.
    emptied = RoomState(event_type=WIDGETS_TYPE, state_key=WIDGET_ID, content={})
    await _send(sqlite_db, dbt, homeserver, "$cmd3", emptied, unpinned_layout())
    assert homeserver.content(WIDGETS_TYPE, WIDGET_ID) == {}
    assert homeserver.content(LAYOUT_TYPE, "") == {"widgets": {"jitsi": OTHER_PIN}}


async def test_a_resend_after_a_crash_leaves_the_state_as_sent_once(
    sqlite_db: Database, dbt: DbThread
) -> None:
    homeserver = Homeserver()
    widget = RoomState(
        event_type=WIDGETS_TYPE,
        state_key=WIDGET_ID,
        content=widget_content(PUBLIC_URL, BOT, "de"),
    )
    await _send(sqlite_db, dbt, homeserver, "$cmd1", widget, pinned_layout())
    sent_state = dict(homeserver.state)
    # The bot died after the homeserver took them, before it noted that: still owed.
    with sqlite_db.session() as s:
        for row in s.exec(select(OutboxMessage)):
            row.status = OutboxStatus.PENDING
            s.add(row)
    assert await _sender(sqlite_db, dbt, homeserver).flush()

    assert len(homeserver.puts) == 4  # each put twice …
    assert homeserver.state == sent_state  # … and the room has each once, as first sent
    layout = homeserver.content(LAYOUT_TYPE, "")
    assert list(layout["widgets"]) == [WIDGET_ID]
