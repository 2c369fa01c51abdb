"""Message catalogues: every user-facing sentence lives in locales/<lang>.yaml."""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

import yaml

from commands.core.rich import Rich, template

log = logging.getLogger(__name__)

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
# German is written first and complete: a text missing in another catalogue is taken from it.
FALLBACK_LANGUAGE: Language = LANGUAGES[0]
FALLBACK_WARNING = "message %s is missing in catalogue %s; answered from %s"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All files of locales/<lang>/ merged: each command family keeps its own file."""
    merged: dict[str, str] = {}
    folder = resources.files("commands").joinpath(f"locales/{lang}")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text("utf-8")) or {}
            for key, value in _flatten(data).items():
                if key in merged:
                    raise ValueError(f"message {key!r} defined twice in locales/{lang}")
                merged[key] = value
    return merged


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = str(value)
    return flat


def has(lang: str, key: str) -> bool:
    return key in catalogue(lang) or key in catalogue(FALLBACK_LANGUAGE)


def raw(lang: str, key: str) -> str:
    """The template itself; a missing English text falls back to German, never to silence.

    The fallback is logged as a warning: the tests fail on it, so a gap in a catalogue
    cannot hide behind the German text.
    """
    cat = catalogue(lang if lang in LANGUAGES else FALLBACK_LANGUAGE)
    if key in cat:
        return cat[key]
    fallback = catalogue(FALLBACK_LANGUAGE)
    if key in fallback:
        log.warning(FALLBACK_WARNING, key, lang, FALLBACK_LANGUAGE)
        return fallback[key]
    raise KeyError(f"no message {key!r} in any catalogue")


def t(lang: str, key: str, **values: object) -> Rich:
    return template(raw(lang, key), values)


def plain(lang: str, key: str, **values: object) -> str:
    return t(lang, key, **values).plain


def decimal(value: float, lang: str) -> str:
    """A figure with one decimal as the language writes it: "3,8" / "3.8"."""
    shown = f"{value:.1f}"
    return shown if lang == "en" else shown.replace(".", ",")
