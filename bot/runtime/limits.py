"""Every message fits the homeserver's event size limit: a long one is split at line breaks.

The homeserver refuses an event over 65,536 bytes, counted as the whole event's JSON with
its encryption overhead (Megolm's base64 adds about a third). A reply carries its text
twice (plain `body` and HTML `formatted_body`), so its text may take about half of what
is left. `split_rich` cuts a text into parts that each fit, between lines, keeping the
HTML of each part well-formed and each part's mentions to the people it names.
"""

from __future__ import annotations

import html
import re
from json.encoder import encode_basestring_ascii

from commands.core.rich import Rich

# Bytes of content JSON a message may have (plain and HTML together): leaves room for the
# event's envelope and the encryption overhead in an encrypted room.
CONTENT_BUDGET = 40_000
# More parts than this is no message any more: the rest is left out, with a log line.
MAX_PARTS = 20

_BR = "<br>"
_TAG = re.compile(r"<(/?)(b|code)>")


def _cost(value: str) -> int:
    # With every non-ASCII character escaped: never less than the UTF-8 JSON, whichever
    # form the client library or the encryption ends up with. (json.dumps' own string
    # encoder, called directly: a message of 30,000 short lines is measured line by line.)
    return len(encode_basestring_ascii(value))


def fits(rich: Rich, budget: int = CONTENT_BUDGET) -> bool:
    return _cost(rich.plain) + _cost(rich.html) <= budget


def split_rich(rich: Rich, budget: int = CONTENT_BUDGET) -> list[Rich]:
    """`rich` itself when it fits, else parts of whole lines that each fit."""
    if fits(rich, budget):
        return [rich]
    plain_lines = rich.plain.split("\n")
    html_lines = rich.html.split(_BR)
    if len(plain_lines) != len(html_lines):
        # Lines cannot be paired up: the parts carry the plain text only.
        html_lines = [html.escape(line) for line in plain_lines]
    parts: list[Rich] = []
    plain_part: list[str] = []
    html_part: list[str] = []
    size = 0
    for plain_line, html_line, line_size in _fitting_lines(plain_lines, html_lines, budget):
        if plain_part and size + line_size > budget:
            parts.append(_part(plain_part, html_part, rich.mentions))
            plain_part, html_part, size = [], [], 0
        plain_part.append(plain_line)
        html_part.append(html_line)
        size += line_size
    if plain_part:
        parts.append(_part(plain_part, html_part, rich.mentions))
    return _balanced(parts)


def _fitting_lines(
    plain_lines: list[str], html_lines: list[str], budget: int
) -> list[tuple[str, str, int]]:
    """The lines with their cost, one that alone exceeds the budget cut into plain pieces
    that fit."""
    out: list[tuple[str, str, int]] = []
    for plain_line, html_line in zip(plain_lines, html_lines, strict=True):
        cost = _cost(plain_line) + _cost(html_line)
        if cost <= budget:
            out.append((plain_line, html_line, cost))
            continue
        # Escaping can grow a character to six bytes (&quot;) and JSON to six (\u0000).
        step = max(1, budget // 16)
        for start in range(0, len(plain_line), step):
            piece = plain_line[start : start + step]
            escaped = html.escape(piece)
            out.append((piece, escaped, _cost(piece) + _cost(escaped)))
    return out


def _part(plain_lines: list[str], html_lines: list[str], mentions: tuple[str, ...]) -> Rich:
    markup = _BR.join(html_lines)
    named = tuple(user for user in mentions if user in markup)
    return Rich("\n".join(plain_lines), markup, named)


def _balanced(parts: list[Rich]) -> list[Rich]:
    """Bold or code that runs across a cut is closed before it and reopened after it."""
    out: list[Rich] = []
    carried: list[str] = []
    for part in parts:
        markup = "".join(f"<{tag}>" for tag in carried) + part.html
        still_open: list[str] = []
        for closing, tag in _TAG.findall(markup):
            if closing and still_open and still_open[-1] == tag:
                still_open.pop()
            elif not closing:
                still_open.append(tag)
        markup += "".join(f"</{tag}>" for tag in reversed(still_open))
        carried = still_open
        out.append(Rich(part.plain, markup, part.mentions))
    return out
