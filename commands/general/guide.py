"""The member guide (Kurzanleitung) and where `!hilfe` points to it (config `help:`).

The guide's text lives in the catalogue (`guide.member` in commands/locales/*/guide.yaml),
so an installed bot has it without the repository's docs/ folder: `!hilfe anleitung`
shows it in the room's language. docs/de/kurzanleitung.md and docs/en/quick-guide.md are
written from the same text by `python -m commands.general.guide_docs`;
tests/unit/test_guides.py fails when they differ, and runs every command example in them.

The guide is Markdown kept to what reads well both on paper and in a chat message: `#`
headings, paragraphs and list items of one line each, `**bold**` and `` `code` ``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from pydantic import Field, field_validator

from commands.core import i18n
from commands.core.config_section import BuildContext, ConfigSection
from commands.core.defaults import Defaults, feature_settings
from commands.core.rich import Rich, trusted

GUIDE_KEY = "guide.member"


@dataclass(frozen=True)
class HelpSettings:
    # Where the municipality publishes the member guide (intranet, a PDF); "": none, and
    # `!hilfe` points to `!hilfe anleitung`, which shows the guide's text in the room.
    guide_url: str = ""


def help_settings(defaults: Defaults) -> HelpSettings:
    return feature_settings(defaults, "help", HelpSettings())


class HelpConfig(ConfigSection):
    guide_url: str = Field(
        default="",
        max_length=500,
        description="link to the member guide, shown at the end of !hilfe; empty: !hilfe anleitung",
    )

    @field_validator("guide_url")
    @classmethod
    def _url(cls, value: str) -> str:
        url = value.strip()
        # Members click it: only a web address, and nothing that could break out of a link.
        if url and (
            not url.startswith(("https://", "http://"))
            or any(c.isspace() or c in "\"'<>" for c in url)
        ):
            raise ValueError("must be a web address starting with https:// (or http://)")
        return url

    def build(self, context: BuildContext) -> HelpSettings:
        return HelpSettings(guide_url=self.guide_url)


def guide_text(lang: str) -> str:
    """The guide as Markdown, from the catalogue."""
    return i18n.raw(lang, GUIDE_KEY).strip() + "\n"


def guide_rich(lang: str) -> Rich:
    """The guide as a chat message: headings in bold, the rest as written."""
    lines: list[Rich] = []
    for line in guide_text(lang).rstrip("\n").split("\n"):
        if line.startswith("#"):
            lines.append(trusted("**" + line.lstrip("#").strip() + "**"))
        else:
            lines.append(trusted(line))
    return Rich.join(lines)


def link(url: str) -> Rich:
    """The configured address as a link (validated by HelpConfig, escaped all the same)."""
    return Rich(url, f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>')
