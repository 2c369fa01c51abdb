"""`!dashboard einrichten` against a real Synapse (issue 24): the coordinating office adds
the dashboard to a room as an Element widget, read back from the room's state; a second
time changes nothing; a member is refused and changes nothing; `!dashboard entfernen`
empties it again."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from nio import (
    RoomCreateResponse,
    RoomGetStateEventError,
    RoomGetStateEventResponse,
    RoomGetStateResponse,
)

from bot.devtools.member import Member, SeenMessage
from tests.integration.conftest import BotFactory, MemberFactory

pytestmark = pytest.mark.synapse

WIDGETS = "im.vector.modular.widgets"
LAYOUT = "io.element.widgets.layout"
WIDGET_ID = "gremienbot-dashboard"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def answer(member: Member, room_id: str, bot_user: str, body: str) -> SeenMessage:
    """Send `body` and wait for the bot's answer to it; the bot sends the room's state
    before the answer, in the same queue, so the state is in place once it arrives."""
    sent = await member.send(room_id, body)

    def answers() -> list[SeenMessage]:
        return [m for m in member.messages_from(bot_user, room_id) if m.in_reply_to == sent]

    await member.wait_until(lambda: bool(answers()), timeout=30)
    return answers()[0]


async def state_content(member: Member, room_id: str, event_type: str, key: str) -> Any:
    """The content of a state event as the member's client reads it from Synapse
    (GET /rooms/{room}/state/{type}/{key}); None where the room has none."""
    resp = await member.client.room_get_state_event(room_id, event_type, key)
    if isinstance(resp, RoomGetStateEventError):
        assert resp.status_code == "M_NOT_FOUND", resp
        return None
    assert isinstance(resp, RoomGetStateEventResponse), resp
    return resp.content


async def dashboard_ids(member: Member, room_id: str) -> dict[tuple[str, str], str]:
    """The event IDs of the widget's state event and of the layout that pins it."""
    resp = await member.client.room_get_state(room_id)
    assert isinstance(resp, RoomGetStateResponse), resp
    keys = {(WIDGETS, WIDGET_ID), (LAYOUT, "")}
    found = {(e["type"], e["state_key"]): e["event_id"] for e in resp.events}
    return {key: event_id for key, event_id in found.items() if key in keys}


async def test_the_coordinating_office_adds_the_dashboard_once_and_removes_it(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    buero = await make_member("buero")
    anna = await make_member("anna")
    port = free_port()
    public_url = f"http://127.0.0.1:{port}/dashboard"
    bot = await make_bot(
        coordination=[buero.user_id],
        dashboard={"listen": f"127.0.0.1:{port}", "public_url": public_url},
    )
    # The room's creator gives the bot moderator rights, as for a bot it trusts; Synapse's
    # rooms let state events be sent from 50 on.
    created = await buero.client.room_create(
        name="Bildungsbüro",
        invite=[bot.user_id, anna.user_id],
        power_level_override={"users": {bot.user_id: 50}},
    )
    assert isinstance(created, RoomCreateResponse), created
    room = created.room_id
    await buero.wait_until(lambda: room in buero.client.rooms, timeout=10)
    await anna.join(room)
    await buero.wait_for_member(room, bot.user_id)
    await buero.wait_for_member(room, anna.user_id)
    await anna.wait_until(lambda: bot.user_id in anna.client.rooms[room].users)

    # A member may not: refused, and the room has no widget.
    refused = await answer(anna, room, bot.user_id, "!dashboard einrichten")
    assert "der Koordination (Bildungsbüro) vorbehalten" in refused.body
    assert await state_content(buero, room, WIDGETS, WIDGET_ID) is None

    done = await answer(buero, room, bot.user_id, "!dashboard einrichten")
    assert "Das Dashboard ist eingerichtet: Es steht oben im Raum" in done.body
    widget = await state_content(buero, room, WIDGETS, WIDGET_ID)
    assert widget == {
        "type": "m.custom",
        "url": f"{public_url}/#/?room=$matrix_room_id"
        "&lang=$org.matrix.msc2873.client_language&theme=$org.matrix.msc2873.client_theme"
        "&widgetId=$matrix_widget_id",
        "name": "Gremienbot",
        "id": WIDGET_ID,
        "creatorUserId": bot.user_id,
        "data": {"title": "Verabredungen im Blick"},
        "waitForIframeLoad": False,
    }
    pinned = {"container": "top", "index": 0, "width": 100, "height": 50}
    assert await state_content(buero, room, LAYOUT, "") == {"widgets": {WIDGET_ID: pinned}}
    first = await dashboard_ids(buero, room)
    assert len(first) == 2

    # Again: the same widget and pin, as the same state events (no new ones).
    again = await answer(buero, room, bot.user_id, "!dashboard einrichten")
    assert "Das Dashboard ist eingerichtet" in again.body
    assert await state_content(buero, room, WIDGETS, WIDGET_ID) == widget
    assert await dashboard_ids(buero, room) == first

    removed = await answer(buero, room, bot.user_id, "!dashboard entfernen")
    assert "Das Dashboard ist aus diesem Raum entfernt" in removed.body
    assert await state_content(buero, room, WIDGETS, WIDGET_ID) == {}
    assert await state_content(buero, room, LAYOUT, "") == {"widgets": {}}
