"""People named in a command, read the way real clients send them.

Element puts a pill in `formatted_body` (`<a href="https://matrix.to/#/@anna:example.org">Anna
Schmidt</a>`), the pill's label ("Anna Schmidt") in the plain `body`, and the user IDs in
`m.mentions` (the bot layer passes pills and m.mentions as `ctx.mentions`, the HTML as
`ctx.html_body`). People also type `@anna:example.org`, or `@anna` for someone on the bot's
own server. `take_mentions` finds all of them and returns the text with them taken out, so
"Entwurf an Schulamt Anna Schmidt bis Freitag" becomes "Entwurf an Schulamt bis Freitag".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote

from commands.core.context import Context
from commands.core.errors import CommandError

# A user ID typed as text: "@anna", "@anna.schmidt:example.org", "@ben:matrix.example.org:8448".
_TYPED = re.compile(
    r"(?<![\w@/])@(?P<local>[A-Za-z0-9._=\-/+]+)"
    r"(?::(?P<server>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*(?::\d+)?))?"
)
_PILL_HREF = re.compile(r"^(?:https://matrix\.to/#/|matrix:u/)(?P<id>[^?/]+)")
# Words that join or introduce names: removed with the names they stand between or before.
_JOINERS = re.compile(r"^(?:\s|,|&|\+|/|\bund\b|\band\b|\bsowie\b)*$", re.IGNORECASE)
_DANGLING = re.compile(r"(?:^|\s)(?:für|fuer|for|von|durch)\s*$", re.IGNORECASE)
_DEADLINE_AHEAD = re.compile(
    r"^\s*(?:$|(?:bis|by|until|till|am|zum|sp(?:ä|ae)testens)\b)", re.IGNORECASE
)


@dataclass(frozen=True)
class Pill:
    user_id: str
    label: str
    offset: int  # where the label starts in the HTML's text


@dataclass(frozen=True)
class Mentions:
    user_ids: tuple[str, ...]
    text: str  # what was written, without the names


class _PillParser(HTMLParser):
    """Pills of a formatted_body, with where each sits in the text; the reply quote skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.length = 0
        self.pills: list[Pill] = []
        self._pill: tuple[str, int, list[str]] | None = None
        self._in_reply = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mx-reply":
            self._in_reply += 1
        elif tag == "br" and not self._in_reply:
            self._add("\n")
        elif tag == "a" and not self._in_reply:
            m = _PILL_HREF.match(dict(attrs).get("href") or "")
            if m:
                user_id = unquote(m["id"])
                if not user_id.startswith("@"):
                    user_id = "@" + user_id  # matrix:u/anna:example.org
                self._pill = (user_id, self.length, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply":
            self._in_reply = max(0, self._in_reply - 1)
        elif tag == "a" and self._pill is not None:
            user_id, offset, label = self._pill
            self.pills.append(Pill(user_id, "".join(label).strip(), offset))
            self._pill = None

    def handle_data(self, data: str) -> None:
        if self._in_reply:
            return
        if self._pill is not None:
            self._pill[2].append(data)
        self._add(data)

    def _add(self, data: str) -> None:
        self.text.append(data)
        self.length += len(data)


def pills(html: str) -> tuple[list[Pill], str]:
    """The pills of an HTML body, and the body's text (without the reply quote)."""
    parser = _PillParser()
    parser.feed(html)
    parser.close()
    return parser.pills, "".join(parser.text)


def _word(label: str) -> re.Pattern[str]:
    """`label` as a whole word, optionally written with a leading "@"."""
    return re.compile(r"(?<![\w@])@?" + re.escape(label) + r"(?!\w)", re.IGNORECASE)


def _free(spans: Sequence[tuple[int, int, str]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e, _ in spans)


def _search(
    text: str, needle: re.Pattern[str], spans: list[tuple[int, int, str]], start: int = 0
) -> tuple[int, int] | None:
    for m in needle.finditer(text, max(0, min(start, len(text)))):
        if _free(spans, m.start(), m.end()):
            return m.start(), m.end()
    return None


def _traces(ctx: Context, user_id: str) -> list[re.Pattern[str]]:
    """How `user_id` may appear in the plain text: full ID, @localpart, display name."""
    local = user_id.split(":", 1)[0].lstrip("@")
    found = [
        _word(user_id.lstrip("@")),
        re.compile(r"(?<![\w@])@" + re.escape(local) + r"(?![\w:])"),
    ]
    if ctx.members and ctx.members.get(user_id):
        found.append(_word(ctx.members[user_id]))
    return found


def _resolve_typed(ctx: Context, local: str, server: str | None) -> str:
    if server:
        user_id = f"@{local}:{server}"
        if ctx.members is not None and user_id not in ctx.members:
            same = [u for u in ctx.members if u.lower() == user_id.lower()]
            if len(same) == 1:
                return same[0]
        return user_id
    user_id = f"@{local}:{ctx.server_name}"
    if ctx.members is None:
        return user_id.lower()
    if user_id in ctx.members:
        return user_id
    same = [u for u in ctx.members if u.lower() == user_id.lower()]
    if len(same) == 1:
        return same[0]
    # "@Anna" typed without picking the pill: the one member called Anna.
    wanted = local.casefold()
    by_name = [
        u
        for u, name in ctx.members.items()
        if name and (name.casefold() == wanted or name.split()[0].casefold() == wanted)
    ]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        names = ", ".join(f"{ctx.display_name(u)} ({u})" for u in sorted(by_name))
        raise CommandError("mention.ambiguous", name="@" + local, names=names)
    return user_id


def _where_text_starts(html_text: str, text: str) -> int:
    """Where `text` (the arguments) begins in the HTML's text, after the command word and
    number; when it cannot be told, a position that makes the label search start early."""
    probe = text[:12]
    pos = 0
    for _ in range(4):
        if html_text.startswith(probe, pos):
            return pos
        m = re.compile(r"\s*\S+\s*").match(html_text, pos)
        if m is None:
            break
        pos = m.end()
    return len(html_text)


def take_mentions(ctx: Context, text: str) -> Mentions:
    """The people `text` names (in the order named) and `text` without them."""
    spans: list[tuple[int, int, str]] = []
    unplaced: list[str] = []

    # 1. Pills: their label is in the plain text near where the HTML has it.
    if ctx.html_body:
        found, html_text = pills(ctx.html_body)
        skip = _where_text_starts(html_text, text)
        cursor = 0
        for pill in found:
            where = None
            if pill.label:
                needle = _word(pill.label)
                where = _search(text, needle, spans, max(cursor, pill.offset - skip))
                where = (
                    where or _search(text, needle, spans, cursor) or _search(text, needle, spans)
                )
            for trace in _traces(ctx, pill.user_id) if where is None else ():
                where = _search(text, trace, spans)
                if where:
                    break
            if where is None:
                unplaced.append(pill.user_id)
                continue
            spans.append((*where, pill.user_id))
            cursor = where[1]

    # 2. m.mentions without a pill: find their name, ID or @localpart in the text. A reply
    # names the replied-to sender in m.mentions without the text naming them: not an owner.
    placed = {u for *_, u in spans} | set(unplaced)
    for user_id in ctx.mentions:
        if user_id in placed:
            continue
        where = None
        for trace in _traces(ctx, user_id):
            where = _search(text, trace, spans)
            if where:
                break
        if where is not None:
            spans.append((*where, user_id))
        elif ctx.reply_to is None and "<mx-reply" not in (ctx.html_body or ""):
            unplaced.append(user_id)
        placed.add(user_id)

    # 3. IDs typed as text.
    for m in _TYPED.finditer(text):
        local = m["local"].rstrip(".-/")
        server = m["server"].rstrip(".") if m["server"] else None
        end = m.start() + 1 + len(local) + (1 + len(server) if server else 0)
        if not local or not _free(spans, m.start(), end):
            continue
        spans.append((m.start(), end, _resolve_typed(ctx, local, server)))

    spans.sort()
    ordered = _unique([u for *_, u in spans] + unplaced)
    return Mentions(tuple(ordered), _remove(text, spans))


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _remove(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """Take the names out, with the "und"/commas between them and a "für" left dangling.

    Only the seams where names were are tidied; the rest of the text stays as written.
    """
    if not spans:
        return text.strip()
    groups: list[list[int]] = []
    for start, end, _ in sorted(spans):
        if groups and _JOINERS.match(text[groups[-1][1] : start]):
            groups[-1][1] = end
        else:
            groups.append([start, end])
    pieces: list[str] = []
    pos = 0
    for start, end in groups:
        before = text[pos:start]
        colon = re.match(r"[ \t]*:", text[end:])
        if colon:
            end += colon.end()
        elif _DEADLINE_AHEAD.match(text[end:]):
            before = _DANGLING.sub("", before)
        pieces.append(before)
        pos = end
    pieces.append(text[pos:])
    out = ""
    for piece in pieces:
        left, right = out.rstrip(" \t"), piece.lstrip(" \t")
        glue = not left or left.endswith("\n") or not right or right[0] in ",.;:!?)\n"
        out = left + ("" if glue else " ") + right
    return out.strip(" \t\n,;:")


def require_in_room(ctx: Context, user_ids: Iterable[str]) -> None:
    """Refuse people who are not members of this room (when the members are known)."""
    if ctx.members is None:
        return
    missing = [u for u in user_ids if u not in ctx.members]
    if missing:
        key = "mention.not_in_room_one" if len(missing) == 1 else "mention.not_in_room_many"
        raise CommandError(key, names=", ".join(missing))
