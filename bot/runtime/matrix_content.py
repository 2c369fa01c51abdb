"""Translate between Matrix event content and what the command layer works with."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from commands.core.effects import Reply

_PILL = re.compile(r"""href=["']https://matrix\.to/#/((?:@|%40)[^"'?/]+)""")


def mentioned_users(content: dict[str, Any]) -> tuple[str, ...]:
    """User IDs the sender's client marked: m.mentions first, then pills in the HTML."""
    found: list[str] = []
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict):
        for uid in mentions.get("user_ids") or []:
            if isinstance(uid, str) and uid not in found:
                found.append(uid)
    html = content.get("formatted_body")
    if isinstance(html, str):
        for raw in _PILL.findall(html):
            uid = unquote(raw)
            if uid not in found:
                found.append(uid)
    return tuple(found)


def replied_to(content: dict[str, Any]) -> str | None:
    rel = content.get("m.relates_to")
    if isinstance(rel, dict):
        inner = rel.get("m.in_reply_to")
        if isinstance(inner, dict) and isinstance(inner.get("event_id"), str):
            return str(inner["event_id"])
    return None


_REPLY_FALLBACK = re.compile(r"^(> .*\n)+\n", re.MULTILINE)


def strip_reply_fallback(body: str) -> str:
    """Older clients quote the replied-to message in the body; the command follows it."""
    return _REPLY_FALLBACK.sub("", body, count=1) if body.startswith("> ") else body


def render_reply(reply: Reply) -> dict[str, Any]:
    content: dict[str, Any] = {
        "msgtype": "m.notice" if reply.notice else "m.text",
        "body": reply.body,
        "format": "org.matrix.custom.html",
        "formatted_body": reply.html,
        # Only the users the text names are notified (intentional mentions, MSC3952).
        "m.mentions": {"user_ids": list(reply.mentions)} if reply.mentions else {},
    }
    if reply.in_reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply.in_reply_to}}
    return content
