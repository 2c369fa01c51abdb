"""The German and the English catalogue, each on its own.

At run time a text missing in English is answered in German (a gap must still answer),
so a test reading through `i18n.t` could pass with the English text missing. These tests
read each catalogue directly, and `tests/conftest.py` fails any test during which the
fallback was used.
"""

from __future__ import annotations

import logging
import re

import pytest

from commands.core import i18n
from commands.features import build_registry

# `{name}`, or a plural field `{name|one|other}` (commands/core/rich.py `plural`): the
# forms are the language's own words, the name is what the code fills in.
_PLACEHOLDER = re.compile(r"\{([^{}|]*)(?:\|[^{}]*)?\}")


def placeholders(template: str) -> set[str]:
    """`{name}` fields of a template; `{{` and `}}` are literal braces."""
    return set(_PLACEHOLDER.findall(template.replace("{{", "").replace("}}", "")))


def test_german_and_english_have_exactly_the_same_keys() -> None:
    de, en = set(i18n.catalogue("de")), set(i18n.catalogue("en"))
    assert sorted(de - en) == [], "missing in English"
    assert sorted(en - de) == [], "missing in German"


def test_every_message_has_the_same_placeholders_in_both_languages() -> None:
    de, en = i18n.catalogue("de"), i18n.catalogue("en")
    differ = {
        key: (sorted(placeholders(de[key])), sorted(placeholders(en[key])))
        for key in de.keys() & en.keys()
        if placeholders(de[key]) != placeholders(en[key])
    }
    assert differ == {}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_command_has_usage_and_summary_in_each_language_on_its_own(lang: str) -> None:
    catalogue = i18n.catalogue(lang)
    registry = build_registry()
    missing = [
        key
        for cmd in registry.commands
        for key in (f"cmd.{cmd.name}.usage", f"cmd.{cmd.name}.summary")
        if not catalogue.get(key)
    ]
    missing += [f"help.group.{g}" for g in registry.groups if f"help.group.{g}" not in catalogue]
    missing += [s.label_key for s in registry.settings if s.label_key not in catalogue]
    assert missing == []


def test_placeholders_are_read_like_the_templates_fill_them() -> None:
    assert placeholders("**{usage}** – {summary} {{literal}}") == {"usage", "summary"}


def test_a_plural_field_counts_as_its_placeholder_whatever_its_forms() -> None:
    assert placeholders("{count|keine|# Antwort|# Antworten} von {total}") == {"count", "total"}
    assert placeholders("{count} {count|vote|votes}") == {"count"}


def test_a_gap_in_english_is_answered_in_german_and_logged(
    monkeypatch: pytest.MonkeyPatch, catalogue_fallbacks: list[logging.LogRecord]
) -> None:
    catalogues = {"de": {"only.german": "Nur deutsch"}, "en": {}}
    monkeypatch.setattr(i18n, "catalogue", lambda lang: catalogues[lang])
    assert i18n.plain("en", "only.german") == "Nur deutsch"
    assert [r.getMessage() for r in catalogue_fallbacks] == [
        "message only.german is missing in catalogue en; answered from de"
    ]
    catalogue_fallbacks.clear()  # wanted here: the guard in conftest.py must not fail this test
