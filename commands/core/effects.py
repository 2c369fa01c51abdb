"""What a handler returns: effects, which the bot turns into Matrix events.

A handler never talks to Matrix. It returns effects: a reply, a native poll and its end,
a file (or one made later), a picture shown in the timeline, an edit of an earlier bot
message, a state event of the room; each may go to the command's room, another room, or
(but a state event) one member's direct-message room with the bot. `bot/` stores every
effect in the outbox under a stable key in the transaction of the command, and sends it
with a transaction ID derived from that key, so each is sent exactly once, even after a
crash (a state event has no transaction ID: resent after a crash it sets the same
content again, which Synapse takes without a second event).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from commands.core.file_jobs import FileJob
from commands.core.rich import Rich


@dataclass(frozen=True, kw_only=True)
class Effect:
    """Where an effect goes and what it is about.

    `room_id` None means the room of the command; `to_user` sends it to that member's
    direct-message room with the bot instead (created on first use). `ref_kind`/`ref_id`
    tie the sent event to the object it is about, so that a reaction or a reply to it
    later acts on that object. `key` names the effect for later effects that refer to the
    event it becomes (an edit, a poll's end); it must be unique for all time, e.g.
    ``poll:42:start``.
    """

    room_id: str | None = None
    to_user: str | None = None
    ref_kind: str | None = None
    ref_id: int | None = None
    key: str | None = None


@dataclass(frozen=True)
class Reply(Effect):
    """A text message: `notice` (no notification sound) unless it must notify.

    A reply to a command written in a thread goes into that thread (`thread_root`).
    """

    rich: Rich
    in_reply_to: str | None = None
    notice: bool = True
    thread_root: str | None = None

    @property
    def body(self) -> str:
        return self.rich.plain

    @property
    def html(self) -> str:
        return self.rich.html

    @property
    def mentions(self) -> tuple[str, ...]:
        return self.rich.mentions


@dataclass(frozen=True)
class PollAnswer:
    id: str
    text: str


@dataclass(frozen=True)
class PollStart(Effect):
    """A native Matrix poll (MSC3381). `disclosed` False: results only once it ends."""

    question: str
    answers: tuple[PollAnswer, ...]
    disclosed: bool = True
    max_selections: int = 1
    # What clients without poll support show instead.
    fallback: Rich | None = None
    thread_root: str | None = None


@dataclass(frozen=True)
class PollEnd(Effect):
    """The end of the poll started by the effect named `poll_key`, with its results."""

    poll_key: str
    results: Rich


@dataclass(frozen=True)
class File(Effect):
    """A file (an export): uploaded, encrypted where the room is encrypted."""

    filename: str
    data: bytes
    mimetype: str
    caption: Rich | None = None


@dataclass(frozen=True, kw_only=True)
class Image(File):
    """A picture (a chart) that clients show in the timeline instead of offering it for
    download: sent as m.image with its size in pixels and a smaller thumbnail, which the
    bot makes when it sends it. `width`/`height` are the picture's own pixels (`png_size`
    reads them from a PNG)."""

    width: int
    height: int


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its header: the IHDR chunk, which the
    format puts first, right after the signature."""
    if len(data) < 24 or data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@dataclass(frozen=True)
class LaterFile(Effect):
    """A file made after the command by `job` (commands.core.file_jobs), off the database
    thread: a large export. Sent as a `File` would be; its message keeps its place in its
    queue meanwhile."""

    filename: str
    mimetype: str
    job: FileJob
    caption: Rich | None = None


@dataclass(frozen=True)
class Edit(Effect):
    """New text for the earlier bot message that the effect named `target_key` became."""

    target_key: str
    rich: Rich


@dataclass(frozen=True)
class RoomState(Effect):
    """A state event of the command's room (or `room_id`; never a direct message): the
    dashboard's widget (commands.desk.dashboard_setup). The homeserver keeps one event per
    type and state key, and a resend of the same content changes nothing.

    `merge` names an object in `content` whose entries are merged, when it is sent, into
    that object of the room's current event instead of replacing the event: each entry
    replaces the one of its name, an entry None removes it, everything else the room has
    stays (a layout that lists other widgets too). The handler checks the bot's level
    before it returns one (`ctx.state_levels`)."""

    event_type: str
    state_key: str
    content: dict[str, Any]
    merge: str | None = None


# An Image is a File: wherever a File goes, it goes too.
AnyEffect = Reply | PollStart | PollEnd | File | LaterFile | Edit | RoomState

# What a handler returns: text (a reply to the command) or effects, one or several.
HandlerResult = AnyEffect | Rich | Sequence[AnyEffect | Rich]
