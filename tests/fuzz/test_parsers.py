"""The parsers of what members type (commands.parsing, commands.core.text_input): any text,
never an exception but a refusal, results within their declared bounds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from commands.core.context import Context
from commands.core.defaults import Defaults
from commands.core.errors import CommandError
from commands.core.text_input import MAX_MENTIONS, clean
from commands.parsing import dates, recurrence
from commands.parsing.date_words import language_set, tokenize
from commands.parsing.mentions import pills, take_mentions
from tests.dialog import ANNA, BEN, NOW_FOR_TESTS, REGISTRY
from tests.fuzz.strategies import args, piece

nows = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2200, 12, 31)).map(
    lambda d: d.replace(tzinfo=ZoneInfo("Europe/Berlin"))
)
languages = st.sampled_from([("de", "en"), ("de",), ("en",), ("fr",)])
htmls = st.lists(
    st.one_of(piece, args, st.sampled_from(['<a href="https://matrix.to/#/@anna:example.org">',
                                            '<a href="matrix:u/ben:example.org">', "</a>",
                                            "<br>", "<mx-reply>", "</mx-reply>"])),
    max_size=20,
).map("".join)  # fmt: skip


@given(args, nows, languages)
def test_dates_never_fail(text: str, now: dt.datetime, langs: tuple[str, ...]) -> None:
    when = dates.parse_when(text, now=now, languages=langs)
    assert when is None or isinstance(when.date, dt.date)
    body, when_text = dates.split_deadline(text, now=now, languages=langs)
    assert isinstance(body, str)
    assert when_text is None or isinstance(when_text, str)
    prefix = dates.split_when_prefix(text, now=now, languages=langs)
    assert prefix is None or isinstance(prefix[1], str)
    duration = dates.parse_duration(text, langs)
    assert duration is None or dt.timedelta(0) < duration <= dt.timedelta(days=366)
    clock = dates.parse_clock(text, langs)
    assert clock is None or isinstance(clock, dt.time)
    found = recurrence.parse_recurrence(text, languages=langs)
    if found is not None:
        assert found[0].next_after(now) > now
    toks = tokenize(text, language_set(langs))
    assert toks is None or len(toks) <= 3 * 12


markers = st.sampled_from(["bis", "by", "until", "am", "zum", "bis spätestens", "bis 1/2/2026"])


@given(st.lists(st.one_of(piece, markers), max_size=400).map(" ".join))
def test_many_markers_try_few_dates(text: str) -> None:
    _body, when_text = dates.split_deadline(text, now=NOW_FOR_TESTS)
    assert when_text is None or len(when_text) <= len(text)


@given(htmls)
def test_pills_never_fail(html: str) -> None:
    found, text = pills(html)
    assert all(p.user_id.startswith("@") for p in found)
    assert isinstance(text, str)


@given(st.text())
def test_clean_removes_what_it_promises(value: str) -> None:
    cleaned = clean(value)
    assert clean(cleaned) == cleaned
    assert "\r" not in cleaned
    for char in cleaned:
        code = ord(char)
        assert char in "\n\t" or not (code < 0x20 or 0x7F <= code <= 0x9F)
        assert not 0x202A <= code <= 0x202E
        assert not 0x2066 <= code <= 0x2069
        assert not 0xD800 <= code <= 0xDFFF
        assert char not in "\ufeff\u200b"
    cleaned.encode("utf-8")  # storable


mentions_lists = st.lists(
    st.one_of(st.sampled_from([ANNA, BEN, "@nobody:evil", "@x:s1", ""]), st.text(max_size=20)),
    max_size=60,
).map(tuple)


@given(args, st.none() | htmls, mentions_lists, st.booleans())
def test_take_mentions_answers_or_refuses(
    text: str, html: str | None, mentioned: tuple[str, ...], known: bool
) -> None:
    ctx = Context(
        room_id="!r:example.org",
        sender=ANNA,
        event_id="$e",
        now=NOW_FOR_TESTS,
        lang="de",
        tz=ZoneInfo("Europe/Berlin"),
        defaults=Defaults(),
        db=None,  # type: ignore[arg-type]
        registry=REGISTRY,
        server_name="example.org",
        mentions=mentioned,
        members={ANNA: "Anna Schmidt", BEN: "Ben", "@ben2:example.org": "Ben"} if known else None,
        html_body=html,
    )
    refused = ""
    try:
        found = take_mentions(ctx, text)
    except CommandError as exc:
        refused = exc.key
    if refused:
        assert refused.startswith(("input.", "mention."))
        return
    assert len(found.user_ids) <= MAX_MENTIONS
    assert len(found.text) <= len(text)
