"""The words and tokens of deadlines: vocabulary in German and English, and the tokenizer.

`dates` reads a deadline as a sequence of these tokens; `recurrence` shares the weekday
and number words. ASCII spellings of umlauts are folded before lookup.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from commands.core.text_input import MAX_DATE_CHARS, MAX_DATE_WORDS

# Vocabulary. Weekdays are shared with commands.parsing.recurrence.
# fmt: off
WEEKDAY_WORDS: dict[str, tuple[str, ...]] = {
    "de": ("montag|mo", "dienstag|di", "mittwoch|mi", "donnerstag|do", "freitag|fr",
           "samstag|sonnabend|sa", "sonntag|so"),
    "en": ("monday|mon", "tuesday|tue|tues", "wednesday|wed", "thursday|thu|thur|thurs",
           "friday|fri", "saturday|sat", "sunday|sun"),
}
_MONTH_WORDS: dict[str, tuple[str, ...]] = {
    "de": ("januar|jan|jaenner", "februar|feb|feber", "maerz|maer|mrz", "april|apr", "mai",
           "juni|jun", "juli|jul", "august|aug", "september|sep|sept", "oktober|okt",
           "november|nov", "dezember|dez"),
    "en": ("january|jan", "february|feb", "march|mar", "april|apr", "may", "june|jun",
           "july|jul", "august|aug", "september|sep|sept", "october|oct", "november|nov",
           "december|dec"),
}
NUMBER_WORDS: dict[str, dict[str, int]] = {
    "de": {"ein": 1, "eins": 1, "eine": 1, "einen": 1, "einem": 1, "einer": 1, "zwei": 2,
           "zwo": 2, "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8,
           "neun": 9, "zehn": 10, "elf": 11, "zwoelf": 12, "dreizehn": 13, "vierzehn": 14,
           "fuenfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19,
           "zwanzig": 20, "dreissig": 30, "vierzig": 40, "fuenfzig": 50, "sechzig": 60,
           "neunzig": 90},
    "en": {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
           "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
           "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
           "ninety": 90},
}
# Unit codes: 0 minute, 1 hour, 2 day, 3 week, 4 month, 5 year.
UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "de": ("minute|minuten|min|mins", "stunde|stunden|std|h", "tag|tage|tagen",
           "woche|wochen", "monat|monate|monaten|monats", "jahr|jahre|jahren|jahres|jahrs"),
    "en": ("minute|minutes|min|mins", "hour|hours|hr|hrs|h", "day|days", "week|weeks",
           "month|months", "year|years"),
}
_UNIT_KINDS = ("UNIT", "UNIT", "UNIT", "WEEK", "MONTH", "YEAR")

DE_WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DE_WD_SHORT = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")
EN_WD_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DE_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
              "September", "Oktober", "November", "Dezember")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")

# fmt: on

_FOLD = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "–": "-", "—": "-", "’": "'", "\u00a0": " "}
)


def fold(text: str) -> str:
    """Lower-case with umlauts in ASCII, so "Nächsten", "naechsten" and "NÄCHSTEN" compare equal."""
    return text.casefold().translate(_FOLD)


# ---------------------------------------------------------------------------------------------
# Tokens


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str
    n: int = 0
    m: int = 0
    y: int | None = None
    text: str = ""


def _t(kind: str, n: int = 0) -> Tok:
    return Tok(kind, n)


def _add(lex: dict[str, tuple[Tok, ...]], words: str, *toks: Tok) -> None:
    for word in words.split("|"):
        lex[word] = toks


def _build_lexicon(lang: str) -> dict[str, tuple[Tok, ...]]:
    lex: dict[str, tuple[Tok, ...]] = {}
    for i, words in enumerate(WEEKDAY_WORDS[lang]):
        _add(lex, words, _t("WD", i))
    for i, words in enumerate(_MONTH_WORDS[lang]):
        _add(lex, words, _t("MON", i + 1))
    for word, value in NUMBER_WORDS[lang].items():
        lex[word] = (_t("NUM", value),)
    for i, words in enumerate(UNIT_WORDS[lang]):
        _add(lex, words, _t(_UNIT_KINDS[i], i))
    if lang == "de":
        _add(lex, "heute", _t("TODAY"))
        _add(lex, "morgen", _t("TOMORROW"))
        _add(lex, "uebermorgen", _t("DAYAFTER"))
        _add(lex, "heute morgen|heute frueh", _t("TODAY"), _t("DAYPART", 0))
        _add(lex, "diesen|dieser|diese|dieses|diesem", _t("THIS"))
        _add(
            lex,
            "naechsten|naechster|naechste|naechstes|kommenden|kommender|kommende|kommendes",
            _t("NEXT"),
        )
        _add(lex, "uebernaechsten|uebernaechster|uebernaechste|uebernaechstes", _t("AFTERNEXT"))
        _add(lex, "quartal|quartals|quartale", _t("QUARTER"))
        _add(lex, "ende", _t("END"))
        _add(lex, "ultimo", _t("END"), _t("MONTH"))
        _add(lex, "mitte", _t("MID"))
        _add(lex, "anfang", _t("BEGIN"))
        for prefix, kind in (
            ("monats", "MONTH"),
            ("jahres", "YEAR"),
            ("quartals", "QUARTER"),
            ("wochen", "WEEK"),
        ):
            _add(lex, prefix + "ende", _t("END"), _t(kind))
            _add(lex, prefix + "mitte", _t("MID"), _t(kind))
            _add(lex, prefix + "anfang", _t("BEGIN"), _t(kind))
        _add(lex, "kw|kalenderwoche", _t("KW"))
        _add(lex, "um|gegen", _t("AT"))
        _add(lex, "uhr", _t("OCLOCK"))
        _add(lex, "halbe|halben", _t("HALF"))
        _add(lex, "morgens|frueh|vormittag|vormittags", _t("DAYPART", 0))
        _add(lex, "mittag|mittags", _t("DAYPART", 1))
        _add(lex, "nachmittag|nachmittags|abend|abends", _t("DAYPART", 2))
        _add(lex, "nacht|nachts", _t("DAYPART", 3))
        _add(lex, "der|des|dem|den|die|das|im|zum|zur|bis|spaetestens", _t("FILL"))
        for i, stem in enumerate(("erste", "zweite", "dritte", "vierte")):
            _add(lex, "|".join(stem + end for end in ("", "n", "r", "s", "m")), _t("ORD", i + 1))
    else:
        _add(lex, "today", _t("TODAY"))
        _add(lex, "tomorrow|tmrw", _t("TOMORROW"))
        _add(lex, "day after tomorrow", _t("DAYAFTER"))
        _add(lex, "this", _t("THIS"))
        _add(lex, "next|coming|this coming", _t("NEXT"))
        _add(lex, "quarter|quarters", _t("QUARTER"))
        _add(lex, "end", _t("END"))
        _add(lex, "mid|middle", _t("MID"))
        _add(lex, "beginning|start", _t("BEGIN"))
        for word, kind in (
            ("month", "MONTH"),
            ("year", "YEAR"),
            ("quarter", "QUARTER"),
            ("week", "WEEK"),
        ):
            _add(lex, word + " end", _t("END"), _t(kind))
        _add(lex, "cw|wk|calendar week", _t("KW"))
        _add(lex, "at", _t("AT"))
        _add(lex, "o'clock|oclock", _t("OCLOCK"))
        _add(lex, "pm|p.m", _t("AMPM", 1))
        _add(lex, "a.m", _t("AMPM", 0))
        _add(lex, "half", _t("HALF"))
        _add(lex, "morning", _t("DAYPART", 0))
        _add(lex, "noon|midday", _t("DAYPART", 1))
        _add(lex, "afternoon|evening", _t("DAYPART", 2))
        _add(lex, "night", _t("DAYPART", 3))
        _add(lex, "the|of|on|by|until|till|due", _t("FILL"))
        for i, word in enumerate(("first", "second", "third", "fourth")):
            _add(lex, word, _t("ORD", i + 1))
    _add(lex, "in", _t("IN"))
    return lex


@functools.cache
def _lexicon(langs: frozenset[str]) -> dict[str, tuple[Tok, ...]]:
    merged: dict[str, tuple[Tok, ...]] = {}
    for lang in sorted(langs):
        merged.update(_build_lexicon(lang))
    return merged


def language_set(languages: Sequence[str]) -> frozenset[str]:
    return frozenset(lang[:2].lower() for lang in languages) & {"de", "en"}


_PRESPLIT = (
    (re.compile(r"(?<=\d)t(?=\d{1,2}:)"), " "),  # ISO "2026-04-01T10:00"
    (re.compile(r"(?<=[a-z])-(?=[a-z])"), " "),  # "mid-april"
    (re.compile(r"\b(kw|cw|wk)(?=\d)"), r"\1 "),  # "KW50"
    (re.compile(r"(?<=\d)(?=(?:am|pm|uhr|h|std|min|mins)\b|a\.m\.|p\.m\.)"), " "),  # "3pm"
    (re.compile(r"[,;!?()]"), " "),
)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})?")
_DOT2 = re.compile(r"(\d{1,2})\.(\d{1,2})")  # "15.12" is a date, "8.30" maybe a time
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::\d{2})?")
_ORD_DOT = re.compile(r"(\d{1,2})\.")
_ORD_EN = re.compile(r"(\d{1,2})(?:st|nd|rd|th)")
_INT = re.compile(r"\d{1,4}")
_QNUM = re.compile(r"q([1-4])")
# Only a full day-month-year layout goes to dateparser: "1-2" alone would come back as a date.
_RAW = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\.?")


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def _classify(word: str, prev: Tok | None, langs: frozenset[str]) -> Tok | None:
    """One word that is not in the vocabulary: numbers and numeric dates, or None if unknown."""
    after_number = prev is not None and prev.kind in ("NUM", "TIME")
    if word == "am":
        # "3 am" is a time in English; everywhere else "am" is German "on the".
        if after_number and "en" in langs:
            return Tok("AMPM", 0, text=word)
        return Tok("FILL", text=word) if "de" in langs else None
    if word in ("a", "an") and "en" in langs and prev is not None and prev.kind in ("IN", "HALF"):
        return Tok("NUM", 1, text=word)
    if word == "an" and "de" in langs:
        return Tok("FILL", text=word)
    if m := _ISO.fullmatch(word):
        return Tok("DATE", int(m[3]), int(m[2]), int(m[1]), word)
    if m := _DMY.fullmatch(word):
        return Tok("DATE", int(m[1]), int(m[2]), _year(m[3]), word)
    if m := _DOT2.fullmatch(word):
        return Tok("DOT2", int(m[1]), int(m[2]), len(m[2]), word)
    if m := _SLASH.fullmatch(word):
        return Tok("DATE", int(m[1]), int(m[2]), _year(m[3]), word)
    if m := _CLOCK.fullmatch(word):
        return Tok("TIME", int(m[1]), int(m[2]), text=word)
    if m := _ORD_DOT.fullmatch(word):
        return Tok("ORD", int(m[1]), text=word)
    if "en" in langs and (m := _ORD_EN.fullmatch(word)):
        return Tok("ORD", int(m[1]), text=word)
    if _INT.fullmatch(word):
        return Tok("NUM", int(word), text=word)
    if m := _QNUM.fullmatch(word):
        return Tok("Q", int(m[1]), text=word)
    if _RAW.fullmatch(word):
        return Tok("RAW", text=word)
    return None


def tokenize(text: str, langs: frozenset[str]) -> list[Tok] | None:
    """The tokens of a date or time; None for an unknown word, and for a text longer than
    any date is written (the bound keeps every step after it small)."""
    if len(text) > MAX_DATE_CHARS or len(text.split(None, MAX_DATE_WORDS)) > MAX_DATE_WORDS:
        return None
    s = fold(text)
    for rx, repl in _PRESPLIT:
        s = rx.sub(repl, s)
    words = [w.rstrip(".") if w[:1].isalpha() else w for w in s.split()]
    lex = _lexicon(langs)
    toks: list[Tok] = []
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            key = " ".join(words[i : i + size])
            if size > 1 and i + size > len(words):
                continue
            if key in lex and key not in ("am", "an"):
                toks.extend(Tok(t.kind, t.n, t.m, t.y, key) for t in lex[key])
                i += size
                break
        else:
            tok = _classify(words[i], toks[-1] if toks else None, langs)
            if tok is None:
                return None
            toks.append(tok)
            i += 1
    return toks
