"""Effects into the outbox: one row each, in the transaction of whatever caused them.

Each row is rendered as far as it can be now. An edit and a poll's end go where the
message they refer to went, and refer to its row: the event ID it became is filled in by
the sender once that one is sent. A file keeps its bytes in a table of its own and is
uploaded at send time; a file made later keeps its job instead, until the renderer
(bot.runtime.renderer) has made it. A message for a member (`to_user`) waits for the sender to find
that member's direct-message room. A state event keeps its state key beside its content
(matrix_render.render_state), in its room's queue like a message.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from sqlmodel import Session

from bot.runtime.limits import MAX_PARTS, split_rich
from bot.runtime.matrix_render import (
    POLL_START_STABLE,
    render_edit,
    render_file,
    render_poll_end,
    render_poll_start,
    render_reply,
    render_state,
)
from commands.core.effects import (
    AnyEffect,
    Edit,
    File,
    LaterFile,
    PollEnd,
    PollStart,
    Reply,
    RoomState,
)
from storage import outbox
from storage.models import OutboxKind, OutboxMessage

log = logging.getLogger(__name__)


def enqueue_effect(
    s: Session, key: str, room_id: str, effect: AnyEffect, *, stable_polls: bool = False
) -> OutboxMessage:
    """Store one effect for sending under `key`; `room_id` is the room of its cause.

    Raises outbox.UnknownTarget when an edit or a poll end names no stored message.
    """
    if isinstance(effect, PollEnd | Edit):
        return _enqueue_related(s, key, effect)
    to_user = effect.to_user
    common: dict[str, Any] = {
        "key": key,
        "room_id": None if to_user else (effect.room_id or room_id),
        "to_user": to_user,
        "ref_kind": effect.ref_kind,
        "ref_id": effect.ref_id,
    }
    if isinstance(effect, Reply):
        return _enqueue_reply(s, effect, common)
    if isinstance(effect, PollStart):
        event_type, content = render_poll_start(effect, stable=stable_polls)
        return outbox.enqueue(
            s, content=content, event_type=event_type, kind=OutboxKind.POLL_START, **common
        )
    if isinstance(effect, RoomState):
        if to_user is not None:
            raise ValueError(f"{key}: a state event belongs to a room, not a direct message")
        return outbox.enqueue(
            s,
            content=render_state(effect),
            event_type=effect.event_type,
            kind=OutboxKind.STATE,
            **common,
        )
    assert isinstance(effect, File | LaterFile)
    job = effect.job.to_json() if isinstance(effect, LaterFile) else None
    row = outbox.enqueue(
        s, content=render_file(effect), kind=OutboxKind.FILE, file_job=job, **common
    )
    assert row.id is not None
    if isinstance(effect, File):
        outbox.attach_file(
            s, row.id, filename=effect.filename, mimetype=effect.mimetype, data=effect.data
        )
    return row


def _enqueue_reply(s: Session, reply: Reply, common: dict[str, Any]) -> OutboxMessage:
    """A reply too long for one event goes out as several, in order; the first keeps the
    key, the reference to its object and the relation to the command."""
    parts = split_rich(reply.rich)
    if len(parts) > MAX_PARTS:
        log.warning(
            "message %s would take %d parts; sending the first %d",
            common["key"],
            len(parts),
            MAX_PARTS,
        )
        parts = parts[:MAX_PARTS]
    first = outbox.enqueue(
        s, content=render_reply(dataclasses.replace(reply, rich=parts[0])), **common
    )
    for n, part in enumerate(parts[1:], start=2):
        rest = dataclasses.replace(reply, rich=part, in_reply_to=None, ref_kind=None, ref_id=None)
        outbox.enqueue(
            s,
            content=render_reply(rest),
            **{**common, "key": f"{common['key']}:part{n}", "ref_kind": None, "ref_id": None},
        )
    return first


def _enqueue_related(s: Session, key: str, effect: PollEnd | Edit) -> OutboxMessage:
    if isinstance(effect, PollEnd):
        target = outbox.target_of(s, effect.poll_key)
        if target.kind != OutboxKind.POLL_START:
            raise outbox.UnknownTarget(f"{effect.poll_key!r} names no poll")
        # Answered in the form the poll started with.
        event_type, content = render_poll_end(effect, stable=target.event_type == POLL_START_STABLE)
        kind = OutboxKind.POLL_END
    else:
        target = outbox.target_of(s, effect.target_key)
        # An edit always replaces the original event, also when it follows another edit.
        while target.kind == OutboxKind.EDIT and target.target_id is not None:
            original = outbox.get(s, target.target_id)
            assert original is not None
            target = original
        if target.kind != OutboxKind.REPLY:
            raise outbox.UnknownTarget(f"{effect.target_key!r} names no text message")
        before = json.loads(target.content)
        event_type = "m.room.message"
        content = render_edit(
            effect,
            msgtype=before.get("msgtype", "m.notice"),
            previous_mentions=(before.get("m.mentions") or {}).get("user_ids") or (),
        )
        kind = OutboxKind.EDIT
    # Where the target went (a room, or the member's direct-message room), in its queue.
    return outbox.enqueue(
        s,
        key=key,
        room_id=target.room_id,
        to_user=target.to_user,
        target_id=target.id,
        content=content,
        event_type=event_type,
        kind=kind,
        ref_kind=effect.ref_kind,
        ref_id=effect.ref_id,
    )
