"""What members type, bounded and cleaned before any parsing.

Bounds: a message the bot parses is checked against these limits first, so that no single
message can make the bot work for long (every parser after them is linear in its input).
A refusal is a `CommandError` with an `input.*` text of the room's language
(commands/locales/*/input.yaml).

Cleaning (`clean`, and `one_line` for names): storage.text, shared with the names of rooms
and members and with an imported dump; it says which characters go.
"""

from __future__ import annotations

from collections.abc import Sized

from commands.core.errors import CommandError
from storage.text import clean as clean
from storage.text import one_line as one_line

# The longest text any command stores is the rules of procedure (20,000 characters): the
# whole message may be a little longer than that.
MAX_BODY_CHARS = 24_000
# Arguments searched for people and dates (`!verabredung`, `!liste`, `!zuweisen`, `!rolle`):
# an agreement's text (2,000) with its owners and due date fits many times over.
MAX_TEXT_WITH_NAMES = 5_000
# The HTML (formatted_body) of such a message, without an older client's reply quote.
MAX_HTML_CHARS = 20_000
# People one message may name (m.mentions, pills and typed IDs, each counted once).
MAX_MENTIONS = 50
# A date as people write it ("Freitag, den 4. Dezember 2026 um 10:30 Uhr" has 8 words).
MAX_DATE_CHARS = 120
MAX_DATE_WORDS = 12


def strip_html_reply(html: str) -> str:
    """The HTML without an older client's reply quote (`<mx-reply>…</mx-reply>` first)."""
    if not html.startswith("<mx-reply>"):
        return html
    end = html.find("</mx-reply>")
    return html[end + len("</mx-reply>") :] if end >= 0 else html


def check_length(value: Sized, limit: int, key: str = "input.too_long") -> None:
    """Refuse `value` longer than `limit` (characters, or items for `input.too_many_*`)."""
    if len(value) > limit:
        raise CommandError(key, length=len(value), limit=limit)


def check_command(args: str) -> None:
    """The bound of every command's arguments, for the dispatcher to check before a
    handler parses anything (the handlers' own limits are all lower)."""
    check_length(args, MAX_BODY_CHARS)


def check_with_names(text: str, html: str | None, mentions: Sized) -> None:
    """The bounds of a command whose text is searched for people: checked first."""
    check_length(text, MAX_TEXT_WITH_NAMES)
    check_length(mentions, MAX_MENTIONS, "input.too_many_mentions")
    if html:
        check_length(strip_html_reply(html), MAX_HTML_CHARS, "input.html_too_long")


def one_line_text(value: str, limit: int, prefix: str, cmd: object) -> str:
    """A one-line text a member gives (an office, a reason for a delay), cleaned and with
    single spaces; refused as `<prefix>.one_line`, `<prefix>.too_long` (with `length` and
    `limit`) or `<prefix>.empty` (nothing but punctuation, e.g. a copied "…"), where `cmd`
    shows an example."""
    if "\n" in value or "\r" in value:
        raise CommandError(f"{prefix}.one_line", cmd=cmd)
    if len(value) > 2 * limit:  # refused before cleaning costs anything
        raise CommandError(f"{prefix}.too_long", length=len(value), limit=limit)
    given = " ".join(clean(value).split())
    if len(given) > limit:
        raise CommandError(f"{prefix}.too_long", length=len(given), limit=limit)
    if not any(ch.isalnum() for ch in given):
        raise CommandError(f"{prefix}.empty", cmd=cmd)
    return given
