"""Text with a plain and an HTML form, built so that user text is always escaped."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

_MARKERS = re.compile(r"(\*\*|`)")


@dataclass(frozen=True)
class Rich:
    plain: str
    html: str
    mentions: tuple[str, ...] = ()

    def __add__(self, other: Rich | str) -> Rich:
        o = other if isinstance(other, Rich) else text(other)
        return Rich(self.plain + o.plain, self.html + o.html, _merge(self.mentions, o.mentions))

    @staticmethod
    def join(parts: Iterable[Rich | str], sep: Rich | str = "\n") -> Rich:
        s = sep if isinstance(sep, Rich) else text(sep)
        out: Rich | None = None
        for part in parts:
            p = part if isinstance(part, Rich) else text(part)
            out = p if out is None else out + s + p
        return out if out is not None else Rich("", "")


@dataclass(frozen=True)
class Mention:
    user_id: str
    display: str


def _merge(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(x for x in b if x not in a)


def text(value: str) -> Rich:
    """User (untrusted) text: escaped in HTML, newlines kept."""
    return Rich(value, html.escape(value).replace("\n", "<br>"))


def bold(value: str) -> Rich:
    """User or computed text in bold (escaped)."""
    return Rich(value, f"<b>{html.escape(value)}</b>")


def code(value: str) -> Rich:
    """A command the reader may type, as `code` (the backticks stay in the plain text)."""
    return Rich(f"`{value}`", f"<code>{html.escape(value)}</code>")


def mention(user_id: str, display: str) -> Rich:
    """A pill, the way Element renders and notifies mentions; plain text for what is no
    user ID (a person erased with `gremienbot forget` is "ehemaliges Mitglied N")."""
    if not (user_id.startswith("@") and ":" in user_id):
        return Rich(display or user_id, html.escape(display or user_id))
    href = "https://matrix.to/#/" + user_id
    return Rich(
        display,
        f'<a href="{html.escape(href, quote=True)}">{html.escape(display)}</a>',
        (user_id,),
    )


def template(tpl: str, values: dict[str, object]) -> Rich:
    """Fill a trusted catalogue template; `**b**` and `` `c` `` are its only markup.

    The markers may enclose placeholders (`**{usage}**`): they are toggles over the
    whole template, so values inside them are escaped and still rendered bold/code.
    A count's words agree with it through plural fields (`plural`).
    """
    if "|" in tpl:
        tpl = _PLURAL_FIELD.sub(lambda m: plural(m[1], m[2], values[m[1]]), tpl)
    plain_parts: list[str] = []
    html_parts: list[str] = []
    mentions: tuple[str, ...] = ()
    parts, trailing_html = _parsed(tpl)
    for plain_text, html_text, field_name in parts:
        plain_parts.append(plain_text)
        html_parts.append(html_text)
        if field_name is None:
            continue
        value = values[field_name]
        rich = value if isinstance(value, Rich) else text(str(value))
        plain_parts.append(rich.plain)
        html_parts.append(rich.html)
        mentions = _merge(mentions, rich.mentions)
    html_parts.append(trailing_html)
    return Rich("".join(plain_parts), "".join(html_parts), mentions)


@functools.lru_cache(maxsize=4096)
def _parsed(tpl: str) -> tuple[tuple[tuple[str, str, str | None], ...], str]:
    """A template's literal pieces, each as plain text and as HTML, with the placeholder
    after it (None: none), and what closes an unbalanced marker: parsed once per template
    (a catalogue holds a few thousand, and every reply fills several)."""
    parts: list[tuple[str, str, str | None]] = []
    bold = code = False
    for literal, field_name in _split_fields(tpl):
        plain_parts: list[str] = []
        html_parts: list[str] = []
        for token in _MARKERS.split(literal):
            if token == "**":
                html_parts.append("</b>" if bold else "<b>")
                bold = not bold
            elif token == "`":
                plain_parts.append("`")
                html_parts.append("</code>" if code else "<code>")
                code = not code
            elif token:
                plain_parts.append(token)
                html_parts.append(html.escape(token, quote=False).replace("\n", "<br>"))
        parts.append(("".join(plain_parts), "".join(html_parts), field_name))
    # An unbalanced marker in a catalogue text must not leave the HTML open.
    return tuple(parts), ("</code>" if code else "") + ("</b>" if bold else "")


# `{count|eine Antwort|# Antworten}`: a placeholder's name, then its forms (no braces).
_PLURAL_FIELD = re.compile(r"(?<!\{)\{(\w+)\|([^{}]*)\}")


def plural(name: str, forms: str, value: object) -> str:
    """The form of `forms` that agrees with the count `value`, with `#` standing for the
    number as given: `one|other` (German and English both take the singular for exactly
    1), or `zero|one|other` where zero reads better ("keine offenen Verabredungen").
    The chosen form is template text again: `#` becomes the placeholder `{name}`."""
    options = forms.split("|")
    if len(options) not in (2, 3):
        raise ValueError(f"plural field {{{name}|{forms}}} needs 2 or 3 forms")
    count = _count_of(value)
    if len(options) == 3 and count == 0:
        chosen = options[0]
    else:
        chosen = options[-2] if count == 1 else options[-1]
    return chosen.replace("#", "{" + name + "}")


def _count_of(value: object) -> int | None:
    """The count a placeholder's value stands for: an int, or a number already written
    out ("20.000", "1")."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    shown = str(value.plain if isinstance(value, Rich) else value)
    digits = shown.replace(".", "").replace(",", "")
    return int(digits) if digits.isdigit() else None


def _split_fields(tpl: str) -> list[tuple[str, str | None]]:
    """Split 'a {x} b' into [('a ', 'x'), (' b', None)]; '{{' and '}}' are literal braces."""
    out: list[tuple[str, str | None]] = []
    buf: list[str] = []
    i = 0
    while i < len(tpl):
        ch = tpl[i]
        if ch in "{}" and tpl[i : i + 2] in ("{{", "}}"):
            buf.append(ch)
            i += 2
            continue
        if ch == "{":
            end = tpl.index("}", i)
            out.append(("".join(buf), tpl[i + 1 : end]))
            buf = []
            i = end + 1
            continue
        buf.append(ch)
        i += 1
    out.append(("".join(buf), None))
    return out


def trusted(markup: str) -> Rich:
    """A trusted catalogue text with no placeholders (its `**`/`` ` `` markup is rendered)."""
    return template(markup.replace("{", "{{").replace("}", "}}"), {})
