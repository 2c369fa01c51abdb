"""Possible duplicate work: which open agreements of different committees count as alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from commands.desk.overlaps import Item, find_overlaps, normalise, similarity
from commands.desk.settings import DEFAULT_OVERLAP_THRESHOLD

PAIRS = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "data" / "overlap-pairs.yaml").read_text("utf-8")
)


@pytest.mark.parametrize(("first", "second"), PAIRS["alike"])
def test_alike_texts_reach_the_default_threshold(first: str, second: str) -> None:
    assert similarity(first, second) >= DEFAULT_OVERLAP_THRESHOLD
    assert similarity(second, first) >= DEFAULT_OVERLAP_THRESHOLD


@pytest.mark.parametrize(("first", "second"), PAIRS["unlike"])
def test_unlike_texts_stay_below_the_default_threshold(first: str, second: str) -> None:
    assert similarity(first, second) < DEFAULT_OVERLAP_THRESHOLD


def test_case_umlauts_small_words_and_endings_do_not_matter() -> None:
    assert normalise("Fortschreibung der Schulentwicklungsplanung") == (
        "fortschreib schulentwicklungsplan"
    )
    assert normalise("SCHULENTWICKLUNGSPLANUNG fortschreiben!") == (
        "schulentwicklungsplan fortschreib"
    )
    assert normalise("Übergänge prüfen") == "uebergaeng pruef"


SCHULE = "!schulausschuss:example.org"
JUGEND = "!jugendhilfe:example.org"
STEUER = "!steuerung:example.org"


def test_across_three_committees_the_alike_pairs_are_found_and_no_others() -> None:
    items = [
        Item(SCHULE, 1, "Schulentwicklungsplanung fortschreiben"),
        Item(SCHULE, 2, "Kita-Bedarfsplanung vorlegen"),
        Item(SCHULE, 3, "Protokoll verschicken"),
        Item(JUGEND, 1, "Fortschreibung der Schulentwicklungsplanung"),
        Item(JUGEND, 2, "Schulentwicklungsplanung vorlegen"),
        Item(JUGEND, 3, "Einladung verschicken"),
        Item(STEUER, 1, "Erstellung des Bildungsberichts 2026"),
        Item(STEUER, 2, "Daten zu Schulabgängern ohne Abschluss aufbereiten"),
        Item(SCHULE, 4, "Bildungsbericht 2026 erstellen"),
        Item(JUGEND, 4, "Datenbasis Schulabgänger ohne Abschluss aufbereiten"),
        # Alike, but in the same committee: no duplicate structure.
        Item(STEUER, 3, "Elternbefragung zur OGS auswerten"),
        Item(STEUER, 4, "Auswertung der Elternbefragung OGS"),
    ]
    found = find_overlaps(items, DEFAULT_OVERLAP_THRESHOLD)
    pairs = {
        frozenset({(o.first.room_id, o.first.number), (o.second.room_id, o.second.number)})
        for o in found
    }
    assert pairs == {
        frozenset({(SCHULE, 1), (JUGEND, 1)}),
        # One plan, updated in one committee and presented in another.
        frozenset({(SCHULE, 1), (JUGEND, 2)}),
        frozenset({(STEUER, 1), (SCHULE, 4)}),
        frozenset({(STEUER, 2), (JUGEND, 4)}),
    }
    # Most alike first.
    assert [round(o.score) for o in found] == sorted((round(o.score) for o in found), reverse=True)


def test_a_pair_sharing_only_commonplace_words_is_still_compared() -> None:
    # "vorlegen" is in every text here; the pair still shares its rarest word.
    items = [Item(f"!r{n % 7}:example.org", n, f"Thema {n} vorlegen") for n in range(400)]
    items += [
        Item(SCHULE, 900, "Medienkonzept vorlegen"),
        Item(JUGEND, 900, "Vorlage Medienkonzept vorlegen"),
    ]
    found = find_overlaps(items, DEFAULT_OVERLAP_THRESHOLD)
    assert any({o.first.number, o.second.number} == {900} for o in found)
