"""docs/de/kurzanleitung.md and docs/en/quick-guide.md, written from the member guide in
the catalogue (`guide.member`, commands/general/guide.py): `python -m commands.general.guide_docs`.

`tests/unit/test_guides.py` fails when a committed file differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from commands.general.guide import guide_text

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The printable member guide per language, where the repository keeps it.
GUIDE_FILES: dict[str, Path] = {
    "de": DOCS / "de" / "kurzanleitung.md",
    "en": DOCS / "en" / "quick-guide.md",
}
_GENERATED = (
    "<!-- Written from commands/locales/{lang}/guide.yaml (`guide.member`) by "
    "`python -m commands.general.guide_docs`: edit the text there, then run it. -->\n\n"
)


def guide_markdown(lang: str) -> str:
    """The whole of the guide's file in docs/."""
    return _GENERATED.format(lang=lang) + guide_text(lang)


def write() -> list[Path]:
    written = []
    for lang, path in GUIDE_FILES.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(guide_markdown(lang), "utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        sys.stdout.write(f"{path}\n")
