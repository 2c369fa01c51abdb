"""Possible duplicate work (Doppelstrukturen): alike open agreements in different committees.

Texts are normalised first: lower case, umlauts folded, punctuation and German and English
stop words dropped, and a light German stemming cut ("Fortschreibung" and "fortschreiben"
both become "fortschreib"). Two texts are then scored with rapidfuzz's token_set_ratio,
which ignores word order and words that only one of them has ("Daten zu Schulabgängern
ohne Abschluss aufbereiten" and "Datenbasis Schulabgänger ohne Abschluss aufbereiten").
The threshold comes from the config (`overview.overlap_threshold`); the examples it was
tuned on are in tests/data/overlap-pairs.yaml.

Only texts of different rooms are compared, and only those sharing a word that is not
commonplace (in more than COMMON_SHARE of all texts) or one of their rarest words (a
quarter of their words): scoring every pair of 10,000 open agreements would take half a
minute, this takes a fraction of a second. Texts sharing nothing but commonplace words
that are not among their rarest are not compared; such pairs are rarely alike.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from commands.core.defaults import Defaults, feature_settings
from commands.desk.settings import OverviewSettings
from storage.models import Agreement

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = frozenset(
    (
        *("der", "die", "das", "den", "dem", "des", "ein", "eine", "einer", "eines", "einem"),
        *("einen", "und", "oder", "sowie", "zu", "zur", "zum", "fuer", "von", "vom", "mit"),
        *("im", "in", "am", "an", "auf", "aus", "bei", "bis", "nach", "ueber", "unter", "als"),
        *("auch", "noch", "bzw", "ggf"),
        *("the", "a", "an", "of", "for", "to", "and", "or", "with", "in", "on", "at", "by"),
        "from",
    )
)
# Longest first; a stem keeps at least _MIN_STEM letters.
_SUFFIXES = ("ungen", "ung", "en", "er", "es", "e", "s", "n")
_MIN_STEM = 4
# A word in more than this share of all texts ("vorlegen", "Grundschule") picks no pairs.
COMMON_SHARE = 0.01
_MIN_COMMON = 50
# Beyond one, a text's rarest words pick pairs only when at most this many times as common.
_RARE_ENOUGH = 4


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def normalise(value: str) -> str:
    words = _WORD.findall(value.casefold().translate(_FOLD))
    return " ".join(_stem(w) for w in words if w not in _STOP_WORDS)


def similarity(a: str, b: str) -> float:
    """How alike two agreement texts are, 0 to 100."""
    # Imported where used, as numpy below: the running bot needs them only for !übersicht
    # and the report, and they cost 20 MB of its resident memory (tests/benchmarks).
    from rapidfuzz import fuzz

    return float(fuzz.token_set_ratio(normalise(a), normalise(b), processor=None))


@dataclass(frozen=True)
class Item:
    """An open agreement: its room, its number there, its text."""

    room_id: str
    number: int
    text: str


@dataclass(frozen=True)
class Overlap:
    first: Item
    second: Item
    score: float


def find_overlaps(items: Sequence[Item], threshold: float) -> list[Overlap]:
    """Pairs of items in different rooms scoring at least `threshold`, most alike first."""
    import numpy as np  # see similarity()
    from rapidfuzz import fuzz, process

    texts = [normalise(i.text) for i in items]
    words = [set(t.split()) for t in texts]
    holders: dict[str, list[int]] = defaultdict(list)
    for index, own in enumerate(words):
        for word in own:
            holders[word].append(index)
    common = max(_MIN_COMMON, int(len(items) * COMMON_SHARE))
    buckets: dict[str, list[int]] = defaultdict(list)
    for index, own in enumerate(words):
        if not own:
            continue
        # Its rarest words too: two long texts alike but for a word each (a number, a
        # typo) share one of them even when all their other words are commonplace.
        rarest = sorted(own, key=lambda w: (len(holders[w]), w))[: 1 + len(own) // 4]
        keys = {w for w in own if len(holders[w]) <= common}
        keys |= {w for w in rarest[1:] if len(holders[w]) <= _RARE_ENOUGH * common}
        keys.add(rarest[0])
        for word in keys:
            buckets[word].append(index)
    room_of = {room: n for n, room in enumerate(sorted({i.room_id for i in items}))}
    rooms = np.array([room_of[i.room_id] for i in items])
    scores: dict[tuple[int, int], float] = {}
    for members in buckets.values():
        indices = np.array(members)
        if len(set(rooms[indices].tolist())) < 2:
            continue
        matrix = process.cdist(
            [texts[i] for i in members],
            [texts[i] for i in members],
            scorer=fuzz.token_set_ratio,
            processor=None,
            score_cutoff=threshold,
            dtype=np.float32,
        )
        # Above the diagonal, alike, and in different rooms.
        other_room = rooms[indices][:, None] != rooms[indices][None, :]
        xs, ys = np.nonzero(np.triu(matrix, k=1) * other_room)
        for a, b, score in zip(
            indices[xs].tolist(), indices[ys].tolist(), matrix[xs, ys].tolist(), strict=True
        ):
            scores[(min(a, b), max(a, b))] = score
    found = [Overlap(items[a], items[b], score) for (a, b), score in scores.items()]
    found.sort(key=lambda o: (-o.score, o.first.room_id, o.first.number, o.second.number))
    return found


def overlaps_of(open_items: Iterable[Agreement], defaults: Defaults) -> list[Overlap]:
    """Possible duplicate work among these open agreements, at the configured threshold:
    what the overview and the leadership report show alike."""
    settings = feature_settings(defaults, "overview", OverviewSettings())
    items = [Item(a.room_id, a.number, a.text) for a in open_items]
    return find_overlaps(items, settings.overlap_threshold)
