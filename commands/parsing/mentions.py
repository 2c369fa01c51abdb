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
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import unescape
from urllib.parse import unquote

from commands.core.context import Context
from commands.core.errors import CommandError
from commands.core.names import localpart
from commands.core.text_input import MAX_MENTIONS, check_length, check_with_names, one_line

# A user ID typed as text: "@anna", "@anna.schmidt:example.org", "@ben:matrix.example.org:8448".
_TYPED = re.compile(
    r"(?<![\w@/])@(?P<local>[A-Za-z0-9._=\-/+]+)"
    r"(?::(?P<server>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*(?::\d+)?))?"
)
# What a user ID looks like ("@localpart:server"); anything
# else a client put in m.mentions or a pill is no person.
_USER_ID = re.compile(r"@[^\s:]+:[^\s]+")
_PILL_HREF = re.compile(r"^(?:https://matrix\.to/#/|matrix:u/)(?P<id>[^?/]+)")
# Words that join or introduce names: removed with the names they stand between or before.
_JOINERS = re.compile(r"^(?:\s|,|&|\+|/|\bund\b|\band\b|\bsowie\b)*$", re.IGNORECASE)
_DANGLING = re.compile(r"(?:^|\s)(?:für|fuer|for|von|durch)\s*$", re.IGNORECASE)
_COLON = re.compile(r"[ \t]*:")
_DEADLINE_AHEAD = re.compile(
    r"\s*(?:$|(?:bis|by|until|till|am|zum|sp(?:ä|ae)testens)\b)", re.IGNORECASE
)


# A display name that reads like a user ID ("@chef:example.org"), anywhere in it.
_LOOKS_LIKE_ID = re.compile(r"@[^\s:]+:[^\s]")
# Characters that make two names look alike: formatting marks left out when comparing.
_INVISIBLE = re.compile("[\u200c\u200d\u200e\u200f]")


def _look(name: str) -> str:
    """What a name looks like, for telling whether two members' names can be confused."""
    return " ".join(unicodedata.normalize("NFKC", _INVISIBLE.sub("", name)).casefold().split())


def member_names(raw: Mapping[str, str | None]) -> dict[str, str]:
    """A room's members (user ID -> display name as set, None for none) as the bot shows
    them: each name cleaned and on one line, and, as Element does, with the user ID after
    it ("Anna (@anna:example.org)") where another member's name looks the same or the name
    reads like a user ID or carries direction marks, so nobody can pass for someone else.
    "" stands for no name (texts then show the user ID's own part)."""
    names = {uid: one_line(name or "") for uid, name in raw.items()}
    looks = Counter(_look(n) for n in names.values() if n)
    return {
        uid: (
            f"{name} ({uid})"
            if name
            and (looks[_look(name)] > 1 or _LOOKS_LIKE_ID.search(name) or _INVISIBLE.search(name))
            else name
        )
        for uid, name in names.items()
    }


def _own_name(user_id: str, name: str) -> str:
    """A member's display name without the user ID `member_names` may have added."""
    return name.removesuffix(f" ({user_id})")


def _named(ctx: Context, user_id: str) -> str:
    """A member named with their user ID ("Anna (@anna:example.org)"), once."""
    name = ctx.display_name(user_id)
    return name if name.endswith(f"({user_id})") else f"{name} ({user_id})"


@dataclass(frozen=True)
class Pill:
    user_id: str
    label: str
    offset: int  # where the label starts in the HTML's text


@dataclass(frozen=True)
class Mentions:
    user_ids: tuple[str, ...]
    text: str  # what was written, without the names


# One tag: `[^<>]*` cannot backtrack past the next "<" or ">", so the scan is linear (the
# standard library's HTMLParser is quadratic on some malformed input, e.g. "<a <a <a …").
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)>")
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


def pills(html: str) -> tuple[list[Pill], str]:
    """The pills of an HTML body, and the body's text (without the reply quote)."""
    found: list[Pill] = []
    text: list[str] = []
    length = 0
    in_reply = 0
    pill: tuple[str, int, list[str]] | None = None

    def add(data: str) -> None:
        nonlocal length
        if in_reply or not data:
            return
        if pill is not None:
            pill[2].append(data)
        text.append(data)
        length += len(data)

    pos = 0
    for m in _TAG.finditer(html):
        add(unescape(html[pos : m.start()]))
        pos = m.end()
        closing, tag = m[1] == "/", m[2].lower()
        if tag == "mx-reply":
            in_reply = max(0, in_reply - 1) if closing else in_reply + 1
        elif in_reply:
            continue
        elif tag == "br" and not closing:
            add("\n")
        elif tag == "a" and closing and pill is not None:
            user_id, offset, label = pill
            found.append(Pill(user_id, "".join(label).strip(), offset))
            pill = None
        elif tag == "a" and not closing:
            href = _HREF.search(m[3])
            target = unescape(next((g for g in href.groups() if g is not None), "")) if href else ""
            pm = _PILL_HREF.match(target)
            if pm:
                user_id = unquote(pm["id"])
                if not user_id.startswith("@"):
                    user_id = "@" + user_id  # matrix:u/anna:example.org
                pill = (user_id, length, [])
    add(unescape(html[pos:]))
    return found, "".join(text)


def _word(label: str) -> re.Pattern[str]:
    """`label` as a whole word, optionally written with a leading "@"."""
    return re.compile(r"(?<![\w@])@?" + re.escape(label) + r"(?!\w)", re.IGNORECASE)


class _Taken:
    """The spans of the text already given to a person, with a mask of the characters they
    cover, so that "is this match free?" costs the match's length, not the spans' count."""

    def __init__(self, length: int) -> None:
        self.spans: list[tuple[int, int, str]] = []
        self._mask = bytearray(length + 1)

    def free(self, start: int, end: int) -> bool:
        return self._mask.find(1, start, max(end, start + 1)) < 0

    def add(self, start: int, end: int, user_id: str) -> None:
        self.spans.append((start, end, user_id))
        self._mask[start:end] = b"\x01" * (end - start)


def _search(
    text: str, needle: re.Pattern[str], taken: _Taken, start: int = 0
) -> tuple[int, int] | None:
    for m in needle.finditer(text, max(0, min(start, len(text)))):
        if m.end() > m.start() and taken.free(m.start(), m.end()):
            return m.start(), m.end()
    return None


def _traces(ctx: Context, user_id: str) -> list[re.Pattern[str]]:
    """How `user_id` may appear in the plain text: full ID, @localpart, display name."""
    local = localpart(user_id)
    found = [
        _word(user_id.lstrip("@")),
        re.compile(r"(?<![\w@])@" + re.escape(local) + r"(?![\w:])"),
    ]
    if ctx.members and ctx.members.get(user_id):
        found.append(_word(ctx.members[user_id]))
        own = _own_name(user_id, ctx.members[user_id])
        if own != ctx.members[user_id]:
            found.append(_word(own))
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
        for u, shown in ctx.members.items()
        if (name := _own_name(u, shown))
        and (name.casefold() == wanted or name.split()[0].casefold() == wanted)
    ]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        names = ", ".join(_named(ctx, u) for u in sorted(by_name))
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
    """The people `text` names (in the order named) and `text` without them.

    The sizes (text, HTML, people) are checked before anything is parsed, and every step
    is linear in the text for each of at most MAX_MENTIONS people.
    """
    check_with_names(text, ctx.html_body, ctx.mentions)
    mentioned = [u for u in ctx.mentions if _USER_ID.fullmatch(u)]
    taken = _Taken(len(text))
    unplaced: list[str] = []

    # 1. Pills: their label is in the plain text near where the HTML has it.
    if ctx.html_body:
        found, html_text = pills(ctx.html_body)
        found = [p for p in found if _USER_ID.fullmatch(p.user_id)]
        check_length(_unique(p.user_id for p in found), MAX_MENTIONS, "input.too_many_mentions")
        skip = _where_text_starts(html_text, text)
        cursor = 0
        for pill in found:
            where = None
            if pill.label:
                needle = _word(pill.label)
                where = _search(text, needle, taken, max(cursor, pill.offset - skip))
                where = (
                    where or _search(text, needle, taken, cursor) or _search(text, needle, taken)
                )
            for trace in _traces(ctx, pill.user_id) if where is None else ():
                where = _search(text, trace, taken)
                if where:
                    break
            if where is None:
                unplaced.append(pill.user_id)
                continue
            taken.add(*where, pill.user_id)
            cursor = where[1]

    # 2. m.mentions without a pill: find their name, ID or @localpart in the text. A reply
    # names the replied-to sender in m.mentions without the text naming them: not an owner.
    placed = {u for *_, u in taken.spans} | set(unplaced)
    for user_id in mentioned:
        if user_id in placed:
            continue
        where = None
        for trace in _traces(ctx, user_id):
            where = _search(text, trace, taken)
            if where:
                break
        if where is not None:
            taken.add(*where, user_id)
        elif ctx.reply_to is None and "<mx-reply" not in (ctx.html_body or ""):
            unplaced.append(user_id)
        placed.add(user_id)

    # 3. IDs typed as text; each spelling resolved once, at most MAX_MENTIONS of them.
    resolved: dict[tuple[str, str | None], str] = {}
    for m in _TYPED.finditer(text):
        local = m["local"].rstrip(".-/")
        server = m["server"].rstrip(".") if m["server"] else None
        end = m.start() + 1 + len(local) + (1 + len(server) if server else 0)
        if not local or not taken.free(m.start(), end):
            continue
        key = (local, server)
        if key not in resolved:
            if len(resolved) >= MAX_MENTIONS:
                raise CommandError("input.too_many_mentions", limit=MAX_MENTIONS)
            resolved[key] = _resolve_typed(ctx, local, server)
        taken.add(m.start(), end, resolved[key])

    spans = sorted(taken.spans)
    ordered = _unique([u for *_, u in spans] + unplaced)
    check_length(ordered, MAX_MENTIONS, "input.too_many_mentions")
    return Mentions(tuple(ordered), _remove(text, spans))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


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
        colon = _COLON.match(text, end)
        if colon:
            end = colon.end()
        elif _DEADLINE_AHEAD.match(text, end):
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
