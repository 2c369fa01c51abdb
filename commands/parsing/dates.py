"""Reading and writing dates the way committee members type them.

Everything here is pure: no clock, no I/O. The caller passes ``now`` (timezone-aware) and gets
dates in the same zone back. What cannot be resolved with confidence comes back as None, so the
bot asks back instead of guessing.

Text is folded first (lower case, umlauts spelt "ae/oe/ue", "ß" as "ss"), so "März", "Maerz" and
"MÄRZ" are one word. The folded words are turned into tokens of a small bilingual vocabulary and a
fixed grammar resolves the token sequence; a word outside the vocabulary makes the whole text
unresolvable, which is what keeps "morgen 10 Uhr Raum buchen" from swallowing "Raum".
dateparser only gets numeric forms our own grammar has no rule for ("2026/12/04"): it reads
"15.12." as a time of day and guesses on "nächste Woche", so it must not see those.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Callable, Sequence

from commands.core.text_input import MAX_DATE_CHARS
from commands.core.when import When
from commands.parsing.date_words import (
    DE_MONTHS,
    DE_WD_SHORT,
    EN_MONTHS,
    EN_WD_SHORT,
    NUMBER_WORDS,
    UNIT_WORDS,
    Tok,
    fold,
    language_set,
    tokenize,
)

__all__ = [
    "fold",
    "format_date",
    "format_date_short",
    "format_datetime",
    "format_time",
    "format_when",
    "parse_clock",
    "parse_duration",
    "parse_when",
    "split_deadline",
    "split_when_prefix",
]


_DAY = dt.timedelta(days=1)

# A due date or snooze further ahead than this is a typo, not a plan ("bis 9999/12/31"):
# it is refused on input, so that nothing stored can overflow the reminder arithmetic.
YEARS_AHEAD_LIMIT = 10


def too_far_ahead(day: dt.date, today: dt.date) -> bool:
    return (day - today).days > 365 * YEARS_AHEAD_LIMIT + YEARS_AHEAD_LIMIT // 4 + 1


# ---------------------------------------------------------------------------------------------
# Times of day


def _clock(hour: int, minute: int, ampm: int | None = None) -> dt.time | None:
    if ampm is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm else 0)
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return dt.time(hour, minute)
    return None


_INVALID = object()


def _take_time(toks: list[Tok]) -> tuple[list[Tok], dt.time | None] | None:
    """Split the time of day off; None when a time is malformed, named twice or left dangling."""
    rest: list[Tok] = []
    found: dt.time | None = None
    dayparts: list[int] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.kind == "DAYPART":
            dayparts.append(tok.n)
            i += 1
            continue
        has_at = tok.kind == "AT"
        j = i + 1 if has_at else i
        cur = toks[j] if j < len(toks) else None
        nxt = toks[j + 1] if j + 1 < len(toks) else None
        clock: dt.time | object | None = None
        end = j + 1
        if cur is None:
            return None  # "um" at the very end
        if cur.kind == "TIME":
            ampm = None
            if nxt is not None and nxt.kind == "AMPM":
                ampm, end = nxt.n, end + 1
            clock = _clock(cur.n, cur.m, ampm) or _INVALID
        elif cur.kind == "NUM" and nxt is not None and nxt.kind == "AMPM":
            clock, end = _clock(cur.n, 0, nxt.n) or _INVALID, end + 1
        elif cur.kind == "NUM" and nxt is not None and nxt.kind == "OCLOCK":
            clock = _clock(cur.n, 0) or _INVALID
        elif cur.kind == "DOT2" and cur.y == 2 and (has_at or (nxt and nxt.kind == "OCLOCK")):
            clock = _clock(cur.n, cur.m) or _INVALID
        elif has_at and cur.kind == "NUM":
            clock = _clock(cur.n, 0) or _INVALID
        elif has_at:
            return None
        if clock is None:
            rest.append(tok)
            i += 1
            continue
        if clock is _INVALID or found is not None:
            return None
        assert isinstance(clock, dt.time)
        found = clock
        if end < len(toks) and toks[end].kind == "OCLOCK":
            end += 1
        i = end
    if any(t.kind in ("AMPM", "OCLOCK", "TIME") for t in rest):
        return None  # "pm" or "Uhr" with no hour, or "24:61" style leftovers
    if dayparts:
        if found is None:
            # "morgen Abend" names no hour; only noon is precise enough to be a time.
            return (rest, dt.time(12, 0)) if dayparts == [1] else None
        late = 2 in dayparts or (3 in dayparts and found.hour >= 6)
        if late and 1 <= found.hour <= 11:
            found = found.replace(hour=found.hour + 12)
    return rest, found


def parse_clock(text: str, languages: Sequence[str] = ("de", "en")) -> dt.time | None:
    """A bare time of day: "9:00", "9 Uhr", "um 14.30 Uhr", "3pm"; None for anything else."""
    toks = tokenize(text, language_set(languages))
    if not toks:
        return None
    taken = _take_time([t for t in toks if t.kind != "FILL"])
    if taken is None or taken[0]:
        return None
    return taken[1]


# ---------------------------------------------------------------------------------------------
# Calendar arithmetic


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _shift_month(year: int, month: int, offset: int) -> tuple[int, int]:
    y, m = divmod(month - 1 + offset, 12)
    return year + y, m + 1


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = _shift_month(day.year, day.month, months)
    return dt.date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def _not_past(today: dt.date, make: Callable[[int], dt.date | None]) -> dt.date | None:
    """The first date ``make(year)`` from today on, within a year; None if there is none."""
    limit = _add_months(today, 12)
    for year in (today.year, today.year + 1):
        day = make(year)
        if day is not None and today <= day < limit:
            return day
    return None


def _upcoming(today: dt.date, weekday: int, *, include_today: bool) -> dt.date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return today + ahead * _DAY


def _monday(today: dt.date, weeks: int = 0) -> dt.date:
    return today - today.weekday() * _DAY + dt.timedelta(weeks=weeks)


def _iso_friday(year: int, week: int) -> dt.date | None:
    try:
        return dt.date.fromisocalendar(year, week, 5)
    except ValueError:
        return None


def _anchor(today: dt.date, pos: str, period: str, offset: int) -> dt.date | None:
    """End/middle/beginning of this (offset 0) or the next (1) week, month, quarter or year.

    "Ende der Woche" is the working week's Friday; once it has passed, next week's. The start of
    the current period is always behind us, so "Anfang des Monats" is left to asking back.
    """
    if pos == "BEGIN" and offset == 0:
        return None
    if period == "WEEK":
        if pos == "END":
            if offset == 0:
                return _upcoming(today, 4, include_today=True)
            return _monday(today, 1) + 4 * _DAY
        return _monday(today, offset) + (2 * _DAY if pos == "MID" else dt.timedelta())
    if period == "MONTH":
        y, m = _shift_month(today.year, today.month, offset)
        return {"END": _month_end(y, m), "MID": dt.date(y, m, 15), "BEGIN": dt.date(y, m, 1)}[pos]
    if period == "QUARTER":
        y, m = _shift_month(today.year, (today.month - 1) // 3 * 3 + 1, 3 * offset)
        if pos == "END":
            return _month_end(*_shift_month(y, m, 2))
        return dt.date(y, m, 1) if pos == "BEGIN" else None
    if period == "YEAR":
        year = today.year + offset
        return {"END": dt.date(year, 12, 31), "BEGIN": dt.date(year, 1, 1)}.get(pos)
    return None


def _month_pos(year: int, month: int, pos: str) -> dt.date | None:
    if not 1 <= month <= 12:
        return None
    return {
        "END": _month_end(year, month),
        "MID": dt.date(year, month, 15),
        "BEGIN": dt.date(year, month, 1),
    }[pos]


def _day_month(today: dt.date, day: int, month: int, year: int | None) -> dt.date | None:
    if year is not None:
        return _safe_date(year, month, day) if 1900 <= year <= 2999 else None
    return _not_past(today, lambda y: _safe_date(y, month, day))


def _day_of_month(today: dt.date, day: int) -> dt.date | None:
    for offset in range(3):
        y, m = _shift_month(today.year, today.month, offset)
        found = _safe_date(y, m, day)
        if found is not None and found >= today:
            return found
    return None


def _kw(today: dt.date, week: int, year: int | None) -> dt.date | None:
    """Calendar week (ISO) as its Friday: a deadline "KW 14" means by the end of that week."""
    if year is not None:
        return _iso_friday(year, week)
    base = today.isocalendar().year
    for y in (base, base + 1):
        friday = _iso_friday(y, week)
        if friday is not None and friday >= today:
            return friday
    return None


# ---------------------------------------------------------------------------------------------
# The grammar


def _resolve(toks: list[Tok], today: dt.date, year: int | None = None) -> dt.date | None:
    """Date for a token sequence without time of day; ``year`` was split off the end."""
    if year is None and len(toks) >= 2 and toks[-1].kind == "NUM" and toks[-1].n >= 1000:
        return _resolve(toks[:-1], today, toks[-1].n)
    if year is not None:
        return _resolve_with_year(toks, today, year)
    match toks:
        case [Tok("TODAY")]:
            return today
        case [Tok("TOMORROW")]:
            return today + _DAY
        case [Tok("DAYAFTER")]:
            return today + 2 * _DAY
        case [Tok("WD", wd)] | [Tok("NEXT"), Tok("WD", wd)]:
            return _upcoming(today, wd, include_today=False)
        case [Tok("THIS"), Tok("WD", wd)]:
            return _upcoming(today, wd, include_today=True)
        case [Tok("AFTERNEXT"), Tok("WD", wd)]:
            return _upcoming(today, wd, include_today=False) + 7 * _DAY
        case [Tok("WD", wd), Tok("THIS" | "NEXT" | "AFTERNEXT" as which), Tok("WEEK")] | [
            Tok("THIS" | "NEXT" | "AFTERNEXT" as which),
            Tok("WEEK"),
            Tok("WD", wd),
        ]:
            return _monday(today, ("THIS", "NEXT", "AFTERNEXT").index(which)) + wd * _DAY
        case [Tok("IN"), Tok("NUM", n), Tok("UNIT", 2)]:
            return today + n * _DAY if n <= 3660 else None
        case [Tok("IN"), Tok("NUM", n), Tok("WEEK")]:
            return today + n * 7 * _DAY if n <= 520 else None
        case [Tok("IN"), Tok("NUM", n), Tok("MONTH")]:
            return _add_months(today, n) if n <= 120 else None
        case [Tok("IN"), Tok("NUM", n), Tok("YEAR")]:
            return _add_months(today, 12 * n) if n <= 10 else None
        case [Tok("NEXT" | "AFTERNEXT" as which), Tok("WEEK")]:
            # A deadline "bis nächste Woche" is met by the end of that working week.
            return _monday(today, 1 if which == "NEXT" else 2) + 4 * _DAY
        case [
            Tok("END" | "MID" | "BEGIN" as pos),
            Tok("WEEK" | "MONTH" | "QUARTER" | "YEAR" as p),
        ]:
            return _anchor(today, pos, p, 0)
        case [
            Tok("END" | "MID" | "BEGIN" as pos),
            Tok("THIS" | "NEXT" as which),
            Tok("WEEK" | "MONTH" | "QUARTER" | "YEAR" as p),
        ]:
            return _anchor(today, pos, p, 1 if which == "NEXT" else 0)
        case [Tok("ORD", d)]:
            return _day_of_month(today, d)
        case [Tok("WD", wd), *rest] if rest[0].kind in ("DATE", "DOT2", "ORD", "NUM", "MON"):
            day = _resolve(rest, today)
            return day if day is not None and day.weekday() == wd else None
    return _resolve_with_year(toks, today, None)


def _resolve_with_year(toks: list[Tok], today: dt.date, year: int | None) -> dt.date | None:
    """Forms that may carry a year; without one, the next such date that is not past."""

    def pick(make: Callable[[int], dt.date | None]) -> dt.date | None:
        return make(year) if year is not None else _not_past(today, make)

    match toks:
        case [Tok("DATE", d, m, y)] if year is None:
            return _day_month(today, d, m, y)
        case [Tok("DOT2", d, m)] if year is None:
            return _day_month(today, d, m, None)
        case [Tok("ORD" | "NUM", d), Tok("MON", m)] | [Tok("MON", m), Tok("ORD" | "NUM", d)]:
            return _day_month(today, d, m, year)
        case [Tok("END" | "MID" | "BEGIN" as pos), Tok("MON", m)]:
            return pick(lambda y: _month_pos(y, m, pos))
        case [Tok("END"), Tok("Q", q)] | [Tok("END"), Tok("ORD", q), Tok("QUARTER")] if q <= 4:
            return pick(lambda y: _month_end(y, 3 * q))
        case [Tok("KW"), Tok("NUM", week)] | [Tok("WEEK"), Tok("NUM", week)]:
            return _kw(today, week, year)
        case [Tok("END")] | [Tok("END"), Tok("YEAR")] if year is not None:
            return dt.date(year, 12, 31)
        case [Tok("BEGIN")] | [Tok("BEGIN"), Tok("YEAR")] if year is not None:
            return dt.date(year, 1, 1)
        case [Tok("WD", wd), *rest] if year is not None and rest:
            day = _resolve_with_year(rest, today, year)
            return day if day is not None and day.weekday() == wd else None
    return None


def _relative_minutes(toks: list[Tok]) -> int | None:
    match toks:
        case [Tok("IN"), Tok("NUM", n), Tok("UNIT", 0 | 1 as unit)] if n <= 10000:
            return n * (60 if unit == 1 else 1)
        case [Tok("IN"), Tok("NUM", 1), Tok("HALF"), Tok("UNIT", 1)] | [
            Tok("IN"),
            Tok("HALF"),
            Tok("NUM", 1),
            Tok("UNIT", 1),
        ]:
            return 30
    return None


def _with_dateparser(toks: list[Tok], now: dt.datetime, langs: frozenset[str]) -> dt.date | None:
    """Last resort for numeric layouts without a rule here, e.g. "2026/12/04"."""
    if not all(t.kind in ("RAW", "MON", "WD", "NUM", "ORD") for t in toks):
        return None
    import dateparser  # deferred: loading its language data costs ~0.2 s

    text = " ".join(t.text for t in toks).replace("maerz", "märz").replace("maer", "mär")
    settings: dict[str, object] = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "REQUIRE_PARTS": ["day", "month"],
        "PARSERS": ["absolute-time"],
    }
    if "de" in langs:
        settings["DATE_ORDER"] = "DMY"
    found = dateparser.parse(text, languages=sorted(langs), settings=settings)
    return found.date() if found is not None else None


def parse_when(
    text: str, *, now: dt.datetime, languages: Sequence[str] = ("de", "en")
) -> When | None:
    """Resolve a deadline or reminder time as people write it, in German or English.

    ``now`` must be timezone-aware; the result is in its zone. Leading "bis/am/zum/by/until"
    are ignored. Rules where usage needs a decision:

    - A bare weekday ("Donnerstag", "Fr.") is its next occurrence strictly after today: said on
      a Monday, "Montag" means next week's Monday. "nächsten/kommenden Freitag" and "next
      Friday" mean the same; "diesen Freitag" / "this Friday" include today; "Freitag nächste
      Woche" is the Friday of the next calendar week; "Freitag diese Woche" this week's, even
      when it has passed.
    - A date without a year ("15.12.", "2. April", "Ende März", "KW 1") is the next such date
      not in the past, today included, within a year: "29.02." outside leap years is None.
    - "KW n" is the Friday of that ISO week; "Ende der Woche" the working week's Friday.
    - A time of day alone ("17 Uhr") is today if that minute has not passed, else tomorrow; a
      time with a day ("heute 8 Uhr") is kept even when it is already past: the caller decides.
    - "in 3 Stunden" / "in 45 Minuten" carry a time; "in 2 Wochen" etc. only a date.
    - "nächste Woche" / "next week" (a deadline) is the Friday of that week, as "KW n" is.
    - Never guessed (None): other periods without a day ("nächsten Monat", "April"), parts of
      the day without an hour ("morgen Abend"), impossible dates or times, unknown words.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_when needs a timezone-aware now")
    langs = language_set(languages)
    toks = tokenize(text, langs)
    # A trailing "den"/"the" belongs to the words after the date: "morgen den Raum buchen".
    if not toks or toks[-1].kind in ("FILL", "IN", "AT", "HALF"):
        return None
    taken = _take_time(toks)
    if taken is None:
        return None
    rest, clock = taken
    rest = [
        t
        for i, t in enumerate(rest)
        if t.kind != "FILL"
        and not (t.kind == "IN" and (i + 1 == len(rest) or rest[i + 1].kind not in ("NUM", "HALF")))
    ]
    today = now.date()
    if not rest:
        if clock is None:
            return None
        if clock < now.time().replace(second=0, microsecond=0, tzinfo=None):
            return When(today + _DAY, clock)
        return When(today, clock)
    minutes = _relative_minutes(rest)
    if minutes is not None:
        if clock is not None:
            return None
        later = (now.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(now.tzinfo)
        return When(later.date(), later.time().replace(second=0, microsecond=0, tzinfo=None))
    if any(t.kind == "RAW" for t in rest):
        day = _with_dateparser(rest, now, langs)
    else:
        day = _resolve(rest, today)
    return When(day, clock) if day is not None else None


# ---------------------------------------------------------------------------------------------
# Durations


_DURATION_UNIT = re.compile(r"(?P<num>\d+(?:[.,]\d+)?|[a-z]+)\s*(?P<unit>[a-z]+)\.?")
_DURATION_MINUTES = {0: 1, 1: 60, 2: 1440, 3: 10080}


def parse_duration(text: str, languages: Sequence[str] = ("de", "en")) -> dt.timedelta | None:
    """Read a duration: "3 Tage", "zwei Wochen", "1,5 Stunden", "2h 30min", "half an hour".

    Months and years are refused: their length depends on the start, a timedelta cannot say it.
    """
    if len(text) > MAX_DATE_CHARS:
        return None
    langs = language_set(languages)
    s = fold(text).strip()
    s = re.sub(r"^(?:in|fuer|for|um|noch)\s+", "", s)
    s = re.sub(r"\b(?:eine|einer|einen)\s+halbe[n]?\s+stunde\b|\bhalf\s+an\s+hour\b", "30 min", s)
    s = re.sub(r"\banderthalb\b", "1.5", s)
    units: dict[str, int] = {}
    numbers: dict[str, int] = {"a": 1, "an": 1} if "en" in langs else {}
    for lang in sorted(langs):
        for code, words in enumerate(UNIT_WORDS[lang][:4]):
            units.update(dict.fromkeys(words.split("|"), code))
        numbers.update(NUMBER_WORDS[lang])
    total = 0.0
    pos = 0
    for part in re.split(r"\s*(?:,\s+|\bund\b|\band\b)\s*|\s+(?=\d)", s):
        if not part:
            continue
        m = _DURATION_UNIT.fullmatch(part.strip())
        if m is None or m["unit"] not in units:
            return None
        raw = m["num"].replace(",", ".")
        if raw[0].isdigit():
            amount = float(raw)
        elif raw in numbers:
            amount = numbers[raw]
        else:
            return None
        total += amount * _DURATION_MINUTES[units[m["unit"]]]
        pos += 1
    if pos == 0 or total <= 0 or total > 366 * 1440:
        return None
    return dt.timedelta(minutes=round(total))


# ---------------------------------------------------------------------------------------------
# Splitting commands


_SEPARATORS = " \t:;,-–—"
_SHORT_WEEKDAY = re.compile(r"[a-z]{2,3}")


def split_when_prefix(
    text: str, *, now: dt.datetime, languages: Sequence[str] = ("de", "en")
) -> tuple[When, str] | None:
    """For "!erinnere <wann> <text>": the longest leading words that resolve, and the rest.

    A lone undotted lower-case weekday abbreviation ("do", "so", "sun") does not count: in a
    reminder's text it is far more likely a word than a day.
    """
    spans = [m.span() for m in itertools.islice(re.finditer(r"\S+", text), 8)]
    for count in range(len(spans), 0, -1):
        end = spans[count - 1][1]
        head = text[:end].rstrip(_SEPARATORS)
        if count == 1 and _SHORT_WEEKDAY.fullmatch(head):
            continue
        when = parse_when(head, now=now, languages=languages)
        if when is not None:
            return when, text[end:].strip(_SEPARATORS + "\n")
    return None


_MARKER = re.compile(r"(?<!\S)(bis|by|until|till|zum|am|sp(?:ä|ae)testens)(?=\s)", re.IGNORECASE)
_BIS_AUF = re.compile(r"\s+auf\b", re.IGNORECASE)
_ASK_BACK_MARKERS = ("bis", "by", "until", "till")


def split_deadline(
    text: str, *, now: dt.datetime, languages: Sequence[str] = ("de", "en")
) -> tuple[str, str | None]:
    """For "!verabredung <text> [bis <wann>]": (the agreement's text, the date text or None).

    Takes the last marker ("bis", "bis zum", "bis spätestens", "am", "zum", "by", "until") whose
    remainder is a date. "bis auf" is an idiom ("bis auf Weiteres"), never a deadline. When no
    remainder resolves but the last marker is "bis"/"by"/"until" with at most four words after
    it, those words are still returned so the caller can ask back about them.
    """
    runs: list[tuple[int, int, str]] = []  # (start, end, first marker word)
    for m in _MARKER.finditer(text):
        if runs and text[runs[-1][1] : m.start()].isspace():
            runs[-1] = (runs[-1][0], m.end(), runs[-1][2])
        else:
            runs.append((m.start(), m.end(), m[1].casefold()))
    runs = [r for r in runs if not _BIS_AUF.match(text, r[1])]
    for start, end, _ in reversed(runs):
        if len(text) - end > MAX_DATE_CHARS:
            break  # from here on the rest only grows: no date is that long
        when_text = text[end:].strip()
        if when_text and parse_when(when_text, now=now, languages=languages) is not None:
            return text[:start].rstrip(_SEPARATORS), when_text
    if runs:
        start, end, first = runs[-1]
        when_text = text[end:].strip()
        if first in _ASK_BACK_MARKERS and 1 <= len(when_text.split()) <= 4:
            return text[:start].rstrip(_SEPARATORS), when_text
    return text.strip(), None


# ---------------------------------------------------------------------------------------------
# Formatting


def _is_de(lang: str) -> bool:
    return lang[:2].lower() == "de"


def format_date(d: dt.date, lang: str) -> str:
    """Write a date as "Fr., 4. Dezember 2026" / "Fri, 4 December 2026", whatever the locale."""
    if _is_de(lang):
        return f"{DE_WD_SHORT[d.weekday()]}, {d.day}. {DE_MONTHS[d.month - 1]} {d.year}"
    return f"{EN_WD_SHORT[d.weekday()]}, {d.day} {EN_MONTHS[d.month - 1]} {d.year}"


def format_date_short(d: dt.date, lang: str, today: dt.date) -> str:
    """A date in a list, where every line has one: "So., 6.12." / "Sun, 6 Dec", with the
    year only when it is not the year of ``today`` ("So., 6.12.2027")."""
    if _is_de(lang):
        day = f"{DE_WD_SHORT[d.weekday()]}, {d.day}.{d.month}."
        return day if d.year == today.year else f"{day}{d.year}"
    day = f"{EN_WD_SHORT[d.weekday()]}, {d.day} {EN_MONTHS[d.month - 1][:3]}"
    return day if d.year == today.year else f"{day} {d.year}"


def format_time(t: dt.time, lang: str) -> str:
    """Write a time of day as "10:00 Uhr" / "10:00"."""
    return f"{t:%H:%M} Uhr" if _is_de(lang) else f"{t:%H:%M}"


def format_when(w: When, lang: str) -> str:
    """The date, plus ", 10:00 Uhr" / ", 10:00" when a time of day was named."""
    day = format_date(w.date, lang)
    return day if w.time is None else f"{day}, {format_time(w.time, lang)}"


def format_datetime(moment: dt.datetime, lang: str) -> str:
    """Date and time of day as seen in ``moment``'s own time zone."""
    clock = moment.time().replace(second=0, microsecond=0, tzinfo=None)
    return format_when(When(moment.date(), clock), lang)
