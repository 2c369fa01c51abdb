"""What hostile members send: random Unicode, control and bidi characters, HTML, Markdown,
numbers at the limits, mentions of people who are not there, very long lines."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# fmt: off
PIECES = [
    "\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\r", "\r\n", "\n", "\t", "\u2028",
    "\u202e", "\u202d", "\u2066", "\u2069", "\u200b", "\u200d", "\u200f", "\ufeff", "\ud800",
    "\udfff", "\U0010ffff", "👩\u200d💻", "👍🏽", "ä", "ß", "İ", "ﬃ", "ǅ", "Σ", "ع",
    "<b>", "</b>", "<a ", "</a>", '<a href="https://matrix.to/#/@x:s1">X</a>',
    "<script>alert(1)</script>", '<img src=x onerror="1">', "<mx-reply>", "</mx-reply>",
    "&amp;", "&#0;", "&#x202e;", "&lt;", "<!--", "-->", "<![CDATA[",
    "**", "`", "```", "_", "~~", "[x](javascript:alert(1))", "> ", "|", "{", "}", "{0}",
    "{text}", "%s", "\\", "@", "@anna", "@anna:example.org", "@ben", "@x:s1", "@nobody:evil",
    "@room", "#", "#1", "#0", "#-1", "1", "2", "0", "-1", "00", "4294967296",
    "9223372036854775808", "99999999999999999999", "1e309", "NaN", "3,5", "2026", "1/2/2026",
    "9999/12/31", "15.12.", "31.02.", "29.02.", "KW 53", "KW 0", "um 25 Uhr", "24:61",
    "bis", "bis Freitag", "bis auf", "by", "am", "zum", "Mo", "Montag", "nächsten",
    "in 99999 Tagen", "morgen 10 Uhr", "jeden Montag", "täglich", "anonym", "alle",
    "start", "ende", "plan", "sprache", "en", "de", "zeitzone", "Europe/Berlin", "csv",
    "json", "vorsitz", "koordination", "mitglied", "ja", "nein", "5", "3 Tage", " " * 40,
]
# fmt: on

piece = st.sampled_from(PIECES)
word = st.one_of(
    piece,
    st.text(max_size=20),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)
# A few words, a random string, or a very long line of one piece.
args = st.one_of(
    st.lists(word, max_size=12).map(" ".join),
    st.text(max_size=300),
    st.builds(lambda p, n: p * n, piece, st.integers(min_value=0, max_value=3000)),
    st.builds(lambda n: "x" * n, st.sampled_from([1999, 2000, 2001, 4000, 4001, 5001, 30000])),
)

# JSON values as they may arrive in an event's content.
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    piece,
)
json_value: st.SearchStrategy[Any] = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.one_of(st.text(max_size=10), piece), inner, max_size=5)
    ),
    max_leaves=20,
)
