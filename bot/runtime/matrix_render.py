"""Effects as Matrix event content: replies (in threads too), native polls, edits, files,
pictures, state events.

Pure: content in, content out. What is known only at send time is left out here and filled
in by the sender: the event ID an edit or a poll end relates to (`with_target`), the
uploaded file's URL or encryption keys, a picture's thumbnail (`with_media`), the room's
current state a state event is merged into (`merged_state`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from commands.core.effects import (
    Edit,
    File,
    Image,
    LaterFile,
    PollEnd,
    PollStart,
    Reply,
    RoomState,
)

HTML = "org.matrix.custom.html"

# MSC3381 names: unstable (what Element sends and reads today) and stable.
POLL_START_UNSTABLE = "org.matrix.msc3381.poll.start"
POLL_END_UNSTABLE = "org.matrix.msc3381.poll.end"
POLL_START_STABLE = "m.poll.start"
POLL_END_STABLE = "m.poll.end"
_TEXT_UNSTABLE = "org.matrix.msc1767.text"


def _mentions(user_ids: Iterable[str]) -> dict[str, Any]:
    # Only the users the text names are notified (intentional mentions, MSC3952).
    ids = list(user_ids)
    return {"user_ids": ids} if ids else {}


def _thread_relation(root: str, in_reply_to: str | None) -> dict[str, Any]:
    """What Element sends inside a thread: the thread relation, and for clients without
    threads a reply to the latest event it knows, marked as only a fallback."""
    return {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": in_reply_to or root},
    }


# In the content of the bot's greeting on joining a room: clients and tests can tell it
# from the answers to commands.
GREETING_MARK = "org.gremienbot.greeting"


def render_reply(reply: Reply) -> dict[str, Any]:
    content: dict[str, Any] = {
        "msgtype": "m.notice" if reply.notice else "m.text",
        "body": reply.body,
        "format": HTML,
        "formatted_body": reply.html,
        "m.mentions": _mentions(reply.mentions),
    }
    if reply.thread_root:
        content["m.relates_to"] = _thread_relation(reply.thread_root, reply.in_reply_to)
    elif reply.in_reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply.in_reply_to}}
    return content


def poll_fallback_text(poll: PollStart) -> str:
    """What clients without poll support show: the question and numbered answers, as
    matrix-js-sdk writes it, unless the effect brings its own text."""
    if poll.fallback is not None:
        return poll.fallback.plain
    lines = [poll.question] + [f"{i}. {a.text}" for i, a in enumerate(poll.answers, 1)]
    return "\n".join(lines)


def render_poll_start(poll: PollStart, *, stable: bool = False) -> tuple[str, dict[str, Any]]:
    """The event type and content of a native poll; `stable` picks the m.poll.* names."""
    fallback = poll_fallback_text(poll)
    content: dict[str, Any]
    if stable:
        content = {
            "m.text": [{"body": fallback}],
            "m.poll": {
                "kind": "m.disclosed" if poll.disclosed else "m.undisclosed",
                "max_selections": poll.max_selections,
                "question": {"m.text": [{"body": poll.question}]},
                "answers": [{"m.id": a.id, "m.text": [{"body": a.text}]} for a in poll.answers],
            },
        }
        event_type = POLL_START_STABLE
    else:
        content = {
            _TEXT_UNSTABLE: fallback,
            POLL_START_UNSTABLE: {
                "kind": "org.matrix.msc3381.poll."
                + ("disclosed" if poll.disclosed else "undisclosed"),
                "max_selections": poll.max_selections,
                "question": {_TEXT_UNSTABLE: poll.question},
                "answers": [{"id": a.id, _TEXT_UNSTABLE: a.text} for a in poll.answers],
            },
        }
        event_type = POLL_START_UNSTABLE
    if poll.thread_root:
        content["m.relates_to"] = _thread_relation(poll.thread_root, None)
    return event_type, content


def render_poll_end(
    end: PollEnd,
    *,
    stable: bool = False,
    start_event_id: str | None = None,
    counts: Mapping[str, int] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The end of a poll, referring to its start, with the results as text.

    `start_event_id` None leaves the reference for the sender to fill in (`with_target`).
    The stable form may carry the `counts` by answer ID (`m.poll.results`).
    """
    relation: dict[str, Any] = {"rel_type": "m.reference"}
    if start_event_id is not None:
        relation["event_id"] = start_event_id
    text = end.results.plain
    if stable:
        content: dict[str, Any] = {
            "m.relates_to": relation,
            "m.text": [{"body": text}],
            # matrix-js-sdk accepts an end only with this (empty) block.
            POLL_END_STABLE: {},
        }
        if counts is not None:
            content["m.poll.results"] = dict(counts)
        return POLL_END_STABLE, content
    return POLL_END_UNSTABLE, {
        "m.relates_to": relation,
        POLL_END_UNSTABLE: {},
        _TEXT_UNSTABLE: text,
    }


def render_edit(
    edit: Edit,
    *,
    msgtype: str = "m.notice",
    previous_mentions: Iterable[str] = (),
    target_event_id: str | None = None,
) -> dict[str, Any]:
    """An edit: "* " + the text for clients without edits, the full new content in
    `m.new_content`, and an `m.replace` relation to the original event.

    Only users the new text names and the original did not are notified again (MSC3952:
    the top-level mentions of an edit are the new ones).
    """
    rich = edit.rich
    before = set(previous_mentions)
    relation: dict[str, Any] = {"rel_type": "m.replace"}
    if target_event_id is not None:
        relation["event_id"] = target_event_id
    return {
        "msgtype": msgtype,
        "body": "* " + rich.plain,
        "format": HTML,
        "formatted_body": "* " + rich.html,
        "m.mentions": _mentions(u for u in rich.mentions if u not in before),
        "m.new_content": {
            "msgtype": msgtype,
            "body": rich.plain,
            "format": HTML,
            "formatted_body": rich.html,
            "m.mentions": _mentions(rich.mentions),
        },
        "m.relates_to": relation,
    }


def render_file(file: File | LaterFile) -> dict[str, Any]:
    """An m.file message without its upload; the sender adds `url` or the encrypted `file`
    (`with_media`). An `Image` becomes an m.image with its size in pixels, which clients
    show in the timeline; the sender adds its thumbnail.

    With a caption, `body` is the caption and `filename` the name (media captions,
    Matrix 1.10); without, `body` is the name.
    """
    content: dict[str, Any] = {
        "msgtype": "m.file",
        "body": file.filename,
        "filename": file.filename,
        "info": {"mimetype": file.mimetype},
    }
    if isinstance(file, File):  # a later file's size is added once it is made
        content["info"]["size"] = len(file.data)
    if isinstance(file, Image):
        content["msgtype"] = "m.image"
        content["info"]["w"] = file.width
        content["info"]["h"] = file.height
    if file.caption is not None:
        content["body"] = file.caption.plain
        content["format"] = HTML
        content["formatted_body"] = file.caption.html
        content["m.mentions"] = _mentions(file.caption.mentions)
    return content


def with_media(
    content: Mapping[str, Any],
    uploaded: Mapping[str, Any],
    thumbnail: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A file or picture message with its upload: `uploaded` is ``{"url": …}`` or, in an
    encrypted room, ``{"file": EncryptedFile}`` (bot.crypto.attachments). A picture's
    `thumbnail` is (its upload in the same form, its {w, h, mimetype, size}); it goes into
    `info` as ``thumbnail_url`` or ``thumbnail_file`` beside ``thumbnail_info``, as the
    specification's ImageInfo has it."""
    filled = copy.deepcopy(dict(content))
    filled.update(copy.deepcopy(dict(uploaded)))
    if thumbnail is not None:
        upload, about = thumbnail
        info = dict(filled.get("info") or {})
        for name, value in upload.items():  # url -> thumbnail_url, file -> thumbnail_file
            info[f"thumbnail_{name}"] = copy.deepcopy(value)
        info["thumbnail_info"] = dict(about)
        filled["info"] = info
    return filled


def with_target(content: Mapping[str, Any], event_id: str) -> dict[str, Any]:
    """The content with the event ID of the event it relates to (known once that is sent)."""
    filled = copy.deepcopy(dict(content))
    relation = dict(filled.get("m.relates_to") or {})
    relation["event_id"] = event_id
    filled["m.relates_to"] = relation
    return filled


def render_state(state: RoomState) -> dict[str, Any]:
    """What the outbox keeps of a state event (a row of kind `state`): its state key and
    content, and the object to merge (`RoomState.merge`) where it is merged; the event
    type is the row's own."""
    kept: dict[str, Any] = {"state_key": state.state_key, "content": copy.deepcopy(state.content)}
    if state.merge is not None:
        kept["merge"] = state.merge
    return kept


def state_parts(kept: Mapping[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    """A state row's (state key, content, object to merge), as `render_state` kept them."""
    merge = kept.get("merge")
    return str(kept["state_key"]), dict(kept["content"]), merge if isinstance(merge, str) else None


def merged_state(
    current: Mapping[str, Any], content: Mapping[str, Any], merge: str
) -> dict[str, Any]:
    """The room's `current` content with the entries of `content[merge]` merged into its
    object `merge`: each replaces the entry of its name, None removes it; every other key
    of `current` stays as it is (another widget's place in the layout)."""
    filled = copy.deepcopy(dict(current))
    had = filled.get(merge)
    entries = dict(had) if isinstance(had, Mapping) else {}
    for name, value in (content.get(merge) or {}).items():
        if value is None:
            entries.pop(name, None)
        else:
            entries[name] = copy.deepcopy(value)
    filled[merge] = entries
    return filled
