"""The characters no text the bot stores or shows keeps, for every layer: the chat input
(commands.core.text_input), the names of rooms and members (bot.runtime.events,
storage.rooms) and an imported dump (storage.dump).

`clean`: control characters are removed, not shown: NUL and the other C0 controls except
newline and tab, DEL, the C1 controls, the bidirectional embeddings, overrides and isolates
(U+202A–U+202E, U+2066–U+2069: they make stored text read differently from what it is),
the byte order mark and the invisible zero-width characters (U+200B, U+2060–U+2064,
U+180E, U+00AD) and lone surrogates (PostgreSQL cannot store them). "\\r\\n" and a lone
"\\r", U+2028 and U+2029 become "\\n". Kept: the zero-width joiner and non-joiner (emoji
sequences, some scripts) and the left-to-right / right-to-left marks, which cannot reorder
text.

`one_line`: a name (of a room, of a member) as texts show it: cleaned, and every line break,
tab or run of spaces one space, so that a name can never start a line of its own in the
bot's texts.
"""

from __future__ import annotations

import re

_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029]")
_UNWANTED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u180e\u200b\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff]"
)


def clean(value: str) -> str:
    """`value` without control, bidi-override and invisible characters (see the module)."""
    if value.isascii() and value.isprintable():
        return value
    return _UNWANTED.sub("", _NEWLINES.sub("\n", value))


def one_line(value: str) -> str:
    """`value` cleaned, on one line, without leading or trailing spaces."""
    return " ".join(clean(value).split())
