"""The words members read: one word per concept (docs/glossar.md), no Matrix or programming
jargon, and every count with its singular.

Every value of both catalogues is member-facing (replies, reminders, help, the report for
the leadership, the column headers of exports), so every rule runs over all of them. Each
test is parametrized over its rules and names the offending keys with an excerpt, so a
failure says which text to fix. The glossary explains each term and its banned synonyms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from commands.core import i18n
from commands.core.rich import template


def texts(lang: str) -> dict[str, str]:
    return dict(sorted(i18n.catalogue(lang).items()))


def excerpt(value: str, match: re.Match[str], around: int = 30) -> str:
    start, end = max(0, match.start() - around), match.end() + around
    return value[start:end].replace("\n", " ")


def listing(what: str, found: list[str]) -> str:
    return "\n".join([f"{what} {len(found)} text(s):", *found])


_CODE_SPAN = re.compile(r"`[^`\n]*`")


# --- (a), (b): banned words -------------------------------------------------------------


@dataclass(frozen=True)
class Banned:
    """A word or phrase members must not read, with what to write instead."""

    name: str
    lang: str
    pattern: str
    instead: str
    case_sensitive: bool = False
    # Only keys starting with one of these (empty: every key).
    keys: tuple[str, ...] = ()
    # Text inside `code` (commands to type) is not checked.
    skip_code: bool = False
    # A text matching this is fine even if `pattern` matches.
    unless: str | None = None

    def offenders(self) -> list[str]:
        flags = 0 if self.case_sensitive else re.IGNORECASE
        found = []
        for key, value in texts(self.lang).items():
            if self.keys and not key.startswith(self.keys):
                continue
            checked = _CODE_SPAN.sub("``", value) if self.skip_code else value
            match = re.search(self.pattern, checked, flags)
            if match and not (self.unless and re.search(self.unless, checked, flags)):
                found.append(f"{key}: …{excerpt(checked, match)}…")
        return found


_POLL_KEYS = (
    "poll.",
    "limits.polls",
    "meeting.minutes.poll",
    "cmd.umfrage.",
    "cmd.puls.",
    "cmd.stimme.",
    "cmd.ergebnis.",
    "cmd.schließen.",
)
_SURVEY_KEYS = ("evaluation.", "evaluation_report.", "cmd.auswertung.")

JARGON = [
    # Matrix and programming terms (issue 25: "No Matrix or programming term").
    Banned(
        "ereignis",
        "de",
        r"\bEreignis",
        "say what the person sees (Element: wer wie abgestimmt hat)",
    ),
    Banned("nativ", "de", r"\bnativ", "„als Umfrage in Element“"),
    Banned("berechtigungsstufe", "de", r"Berechtigungsstufe", "„Moderations- oder Admin-Rechte“"),
    Banned("digest-de", "de", r"\bdigest\b", "„Wochenüberblick“ (also as the setting's word)"),
    Banned(
        "matrix-id-de",
        "de",
        r"\bMatrix-ID",
        "the person's name (or „Adresse“, e.g. @anna:example.org)",
    ),
    Banned(
        "config-entry-de", "de", r"Eintrag\s+`[\w.]+`", "„bei der Einrichtung des Bots festgelegt“"
    ),
    Banned(
        "interner-fehler",
        "de",
        r"\binterne[nmrs]? Fehler",
        "„ein Fehler im Bot, nicht in Ihrer Eingabe“",
    ),
    Banned(
        "protokoll-for-log",
        "de",
        r"Protokoll\w* (des|vom) (Bots?|Servers?|Betriebs?)"
        r"|\b(Bot|Server)-?protokoll|Protokolldatei",
        "„Logdatei“ – „Protokoll“ is the minutes of a meeting only",
    ),
    Banned(
        "event-en",
        "en",
        r"(?<![-\w])(?<!all-day )(?<!calendar )events?\b",
        "say what the person sees",
    ),
    Banned("native-en", "en", r"\bnative\b", "“as a poll in Element”"),
    Banned("power-level", "en", r"power[ -]levels?", "“moderator or admin rights”"),
    Banned("digest-en", "en", r"\bdigest\b", "“weekly overview”"),
    Banned("matrix-id-en", "en", r"\bMatrix[ -]IDs?\b", "the person's name"),
    Banned(
        "config-entry-en",
        "en",
        r"\b(entry|key) `[\w.]+`",
        "“set when the bot was installed”",
    ),
    Banned("internal-error", "en", r"\binternal error", "“an error in the bot, not in your input”"),
]

TERMS = [
    # One word per concept (docs/glossar.md).
    Banned("auswertungsumfrage", "de", r"Auswertungsumfrage", "„Jahresbefragung“"),
    Banned(
        "befragung-without-jahres",
        "de",
        r"(?<!jahres)(?<!jahres-)befragung",
        "„Jahresbefragung“ (short „die Befragung“ only after the full word in the same text)",
        unless=r"Jahresbefragung",
    ),
    Banned(
        "auswertung-for-the-survey",
        "de",
        r"jährliche\w* Auswertung|Auswertung des Gremiums"
        r"|(Fragen|Aussagen|Teilnahme) (der|an der) (jährlichen )?Auswertung"
        r"|Auswertung( \{year\})? (läuft|lief|ist (beendet|abgeschlossen|gestartet)"
        r"|wird (jetzt )?beendet|braucht)"
        r"|läuft (schon |noch )?(die |eine )?Auswertung",
        "„Jahresbefragung“ – „Auswertung“ is the report only",
        skip_code=True,
    ),
    Banned(
        "umfrage-for-the-survey",
        "de",
        r"\bUmfrage\b",
        "„Jahresbefragung“ – „Umfrage“ is a poll in the room",
        case_sensitive=True,
        keys=_SURVEY_KEYS,
        skip_code=True,
    ),
    Banned("puls-abfrage", "de", r"puls-?abfrage", "„Puls“"),
    Banned("abfrage", "de", r"\bAbfragen?\b", "„Puls“ / „Umfrage“", case_sensitive=True),
    Banned("anonyme-abfrage", "de", r"anonyme\w* Abfrage", "„anonymer Puls“"),
    Banned("nr-number", "de", r"\bNr\. ?[{\d#]", "„#3“ (the number as the bot shows it)"),
    Banned(
        "antwort-for-vote-or-option",
        "de",
        r"\bAntwort(en)?\b(?! auf)",
        "„Stimme“ (one person's vote) or „Antwortmöglichkeit“ (a poll's choice)",
        case_sensitive=True,
        keys=_POLL_KEYS,
    ),
    Banned(
        "alle-raeume",
        "de",
        r"\balle[nm]? Räume[n]?\b",
        "„alle Gremien“ for views across committees",
    ),
    Banned("gremiumsraum", "de", r"Gremiumsr[aä]um", "„Gremienraum“"),
    Banned("faelligkeitstag", "de", r"Fälligkeitstag", "„Tag der Frist“, „bis zum Ende der Frist“"),
    Banned(
        "rechtzeitig-erledigt",
        "de",
        r"rechtzeitig erledigt",
        "„fristgerecht erledigt“, with its basis",
    ),
    Banned("owners-de", "de", r"\b(Besitzer|Eigentümer|Zuständige[nr]?)\b", "„Verantwortliche“"),
    Banned(
        "nichts-gespeichert-form",
        "de",
        r"Es wurde nichts gespeichert",
        "„Ich habe nichts gespeichert.“",
    ),
    Banned("the-coordination", "en", r"\bthe coordination\b", "“the coordinating office”"),
    Banned(
        "evaluation-for-the-survey",
        "en",
        r"annual evaluation(?! report)|evaluation survey"
        r"|(questions|statements|participation) (of|in) the (annual )?evaluation"
        r"|evaluation( \{year\})? (runs|ran|is (over|closed|complete|running|open)"
        r"|has (started|ended)|will end|needs)"
        r"|evaluation of the committee",
        "“annual survey” – “evaluation” is the report only",
        skip_code=True,
    ),
    Banned(
        "answer-for-vote-or-option",
        "en",
        r"(?<![{\w])answers\b",
        "“votes” (people's) or “options” (a poll's choices)",
        keys=_POLL_KEYS,
    ),
    Banned(
        "survey-for-a-poll",
        "en",
        r"\bsurveys?\b",
        "“poll” – “survey” is the annual survey only",
        keys=_POLL_KEYS,
    ),
    Banned("no-number", "en", r"\b[Nn]o\. ?[{\d#]", "“#3”"),
    Banned("all-rooms", "en", r"\ball (the )?rooms\b", "“all committees”"),
    Banned("results-minutes", "en", r"results minutes", "“minutes”"),
    Banned("pulse-poll-query", "en", r"pulse (query|queries|survey)", "“pulse”"),
    Banned("owners-en", "en", r"\bassignees?\b", "“owners”"),
]


@pytest.mark.parametrize("rule", JARGON, ids=lambda r: r.name)
def test_no_matrix_or_programming_jargon_in_member_texts(rule: Banned) -> None:
    found = rule.offenders()
    assert not found, listing(f"{rule.lang}: use {rule.instead} in", found)


@pytest.mark.parametrize("rule", TERMS, ids=lambda r: r.name)
def test_one_word_per_concept_as_the_glossary_says(rule: Banned) -> None:
    found = rule.offenders()
    assert not found, listing(f"{rule.lang}: use {rule.instead} in", found)


# --- (c): counts and their singular ------------------------------------------------------

# Placeholders the code fills with a count (read at the call sites: len(...), figures,
# quotas from the configuration, which may be 1). Not here: `min` (MIN_BREAKDOWN, 3),
# `years`, `max`, `max_days`, `max_times` (code constants above 1), `due` (a date in
# most texts), `page`/`index`/`week` (ordinals), `rate`/`percent`/`share` (percentages),
# `mean` (a decimal).
COUNT_NAMES = frozenset(
    {
        "answered",
        "answers",
        "burst",
        "cancelled",
        "committees",
        "count",
        "days",
        "done",
        "every",
        "interval",
        "invited",
        "length",
        "limit",
        "met",
        "n",
        "on_time",
        "open",
        "overdue",
        "pages",
        "participants",
        "pulses",
        "recorded",
        "rooms",
        "this_week",
        "times",
        "total",
        "voters",
    }
)

# Words after a count that belong to what follows, not to the count ("{x} von {y}",
# "{x} of them"): the words before them are what must agree with the count.
_STOP = {
    "de": {
        *("von", "aus", "bis", "und", "oder", "in", "im", "an", "am", "auf", "mit", "für"),
        *("zu", "zur", "zum", "nach", "ab", "der", "die", "das", "den", "dem", "des", "diese"),
        *("dieser", "diesem", "diesen", "dieses", "ein", "eine", "einer", "seit", "um", "pro"),
        *("je", "als", "davon"),
    },
    "en": {
        *("of", "from", "to", "until", "and", "or", "in", "at", "on", "with", "for", "by"),
        *("after", "since", "per", "the", "this", "these", "that", "a", "an", "as", "than"),
        "out",
    },
}
_PLURAL_VERBS = {
    "de": {"haben", "sind", "waren", "werden", "wurden", "laufen", "können", "dürfen"},
    "en": {"have", "are", "were"},
}
_NOT_PLURAL_EN = {
    "is",
    "was",
    "has",
    "this",
    "its",
    "as",
    "us",
    "yes",
    "less",
    "always",
    "plus",
    "thus",
}
# German nouns whose singular is their plural: "1 Zeichen" reads right.
_SAME_IN_SINGULAR_DE = {"Zeichen"}
# (key, name): a count that is a code constant above 1 there, though the name is a count.
KNOWN_ABOVE_ONE = {
    ("poll.too_many_answers", "limit"): "MAX_ANSWERS, 20",
    ("evaluation_report.pulse_month_many", "pulses"): "pulse_month_one is sent for 1",
}
_AFTER_FIELD = re.compile(r"(?<!\{)\{(\w+)\}([^{}`.,;:!?()\[\]–—·|\n\"„“”‚‘’]*)")
_PLURAL_FIELD = re.compile(r"(?<!\{)\{(\w+)\|[^{}]*\}")
_SHARE_AND_VERB = re.compile(
    r"(?<!\{)\{(\w+)\} (?:von|of) \{\w+\}[^.;:!?\n–—]*?"
    r"\b(haben|sind|waren|werden|wurden|have|are|were)\b"
)
_PLURAL_SHORTCUT = re.compile(r"\w\((e|n|en|s|es|er)\)")


def _agrees_with_count(lang: str, words: list[str]) -> bool:
    """Whether the words right after a count (up to the first word that starts what
    follows) change with it: a German noun (capitalised), an English plural noun, a
    plural verb."""
    for word in words:
        if word.lower() in _STOP[lang]:
            return False
        if word.lower() in _PLURAL_VERBS[lang]:
            return True
        if lang == "de" and word in _SAME_IN_SINGULAR_DE:
            continue
        if lang == "de" and word[:1].isupper():
            return True
        if (
            lang == "en"
            and word.endswith("s")
            and not word.endswith("ss")
            and word not in _NOT_PLURAL_EN
        ):
            return True
    return False


def counts_without_singular(lang: str) -> list[str]:
    found = []
    for key, value in texts(lang).items():
        with_plural = set(_PLURAL_FIELD.findall(value))
        for match in _AFTER_FIELD.finditer(value):
            name, rest = match[1], match[2]
            if name not in COUNT_NAMES or name in with_plural:
                continue
            if name == "length" and "too_long" in key:
                continue  # a text over its limit is never 1 character long
            if (key, name) in KNOWN_ABOVE_ONE:
                continue
            if _agrees_with_count(lang, rest.split()):
                found.append(f"{key}: {{{name}}}{rest.rstrip()}")
        # "{answered} von {invited} Mitgliedern haben …": the verb agrees with the first count.
        found.extend(
            f"{key}: {{{m[1]}}} … {m[2]} (verb agrees with {{{m[1]}}})"
            for m in _SHARE_AND_VERB.finditer(_PLURAL_FIELD.sub("…", value))
            if m[1] in COUNT_NAMES and m[1] not in with_plural
        )
    return found


def bracket_plurals(lang: str) -> list[str]:
    return [
        f"{key}: …{excerpt(value, m)}…"
        for key, value in texts(lang).items()
        if (m := _PLURAL_SHORTCUT.search(value))
    ]


def unrenderable(lang: str, count: int | str) -> list[str]:
    broken = []
    for key, value in texts(lang).items():
        names = re.findall(
            r"(?<!\{)\{(\w+)(?:\|[^{}]*)?\}", value.replace("{{", "").replace("}}", "")
        )
        try:
            template(value, dict.fromkeys(names, count))
        except (KeyError, ValueError) as exc:
            broken.append(f"{key}: {exc}")
    return broken


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_count_followed_by_a_noun_has_a_singular(lang: str) -> None:
    """No "1 Antworten", "1 offene Verabredungen": a count followed by words that change
    with it needs a plural field `{count|# Antwort|# Antworten}` (commands/core/rich.py)."""
    found = counts_without_singular(lang)
    assert not found, listing("a plural field for the count in", found)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_no_plural_written_as_a_bracket_shortcut(lang: str) -> None:
    """No "Arbeitstag(e)", "Seite(n)", "day(s)": a plural field says it properly."""
    found = bracket_plurals(lang)
    assert not found, listing("a plural field instead of the bracket in", found)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("count", [0, 1, 2, "20.000"])
def test_every_text_renders_with_any_count(lang: str, count: int | str) -> None:
    """A plural field with the wrong number of forms, or for a name the text does not
    have, fails when the text is sent: render each one with every placeholder a count."""
    found = unrenderable(lang, count)
    assert not found, listing(f"these fail with count {count!r}:", found)


# --- (d): usage lines and commands shown in texts -----------------------------------------

_USAGE_KEY = re.compile(r"^cmd\.[^.]+\.usage$")
_PLACEHOLDER_IN_CODE = re.compile(
    r"`[^`\n]*(<[^`>\n]+>|\[[^`\]\n]+\]|![^`\n]*\s(N|nr|Nr)(?=[\s`]))[^`\n]*`"
)


def usages(lang: str) -> dict[str, str]:
    return {k: v for k, v in texts(lang).items() if _USAGE_KEY.match(k)}


def usages_with_notation(lang: str) -> list[str]:
    return [f"{k}: {v}" for k, v in usages(lang).items() if re.search(r"[<>\[\]]", v)]


def usages_not_bare(lang: str) -> list[str]:
    return [
        f"{k}: {v}"
        for k, v in usages(lang).items()
        if "`" in v or re.search(r"(^|· )!", v) or len(v) > 100 or re.search(r"\S\|\S", v)
    ]


def placeholders_in_commands(lang: str) -> list[str]:
    return [
        f"{key}: {m[0]}"
        for key, value in texts(lang).items()
        if not _USAGE_KEY.match(key)
        for m in [_PLACEHOLDER_IN_CODE.search(value)]
        if m
    ]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_usage_lines_have_no_programmer_notation(lang: str) -> None:
    """No `!liste [offen|meine]`, `<wann>`: members copy what they see, so a usage line
    holds real examples ("liste · liste meine · liste @Anna"; docs/glossar.md)."""
    found = usages_with_notation(lang)
    assert not found, listing("real examples instead of notation in", found)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_usage_lines_are_bare_examples_separated_by_middle_dots(lang: str) -> None:
    """The code adds the prefix and the backticks; at most 100 characters; a "|" only where
    the command itself takes it (`!umfrage Frage? | Ja | Nein`)."""
    found = usages_not_bare(lang)
    assert not found, listing("bare examples separated by ' · ' in", found)


def test_usage_lines_give_as_many_examples_in_both_languages() -> None:
    de, en = usages("de"), usages("en")
    differ = [
        f"{k}: {de[k].count(' · ') + 1} vs {en[k].count(' · ') + 1}"
        for k in sorted(de.keys() & en.keys())
        if de[k].count(" · ") != en[k].count(" · ")
    ]
    assert not differ, listing("the same number of examples in", differ)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_commands_shown_in_texts_are_real_examples(lang: str) -> None:
    """No "`!erledigt <nr>`", "`!erledigt N`", "`!hilfe <befehl>`": running text shows a
    command as it is typed (`!erledigt 3`), never with a placeholder (review 2.6)."""
    found = placeholders_in_commands(lang)
    assert not found, listing("a real example (`!erledigt 3`) in", found)
