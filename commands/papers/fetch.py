"""What a paper may load while it renders: the project's own templates and style sheet,
the fonts matplotlib ships, and `data:` URLs (a chart as SVG). Nothing else, above all
nothing from the network: a template or a member's text that names
`http://127.0.0.1:…` or a file elsewhere makes no request and the paper renders without it.

The fonts are DejaVu, from matplotlib's package data (matplotlib is a dependency anyway),
so a paper looks the same on every machine and needs no system fonts.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

TEMPLATES = Path(__file__).resolve().parent / "templates"

# The families a paper's style sheet may name, by file (weight, style).
FONT_FILES: dict[tuple[str, str], str] = {
    ("normal", "normal"): "DejaVuSans.ttf",
    ("bold", "normal"): "DejaVuSans-Bold.ttf",
    ("normal", "italic"): "DejaVuSans-Oblique.ttf",
    ("bold", "italic"): "DejaVuSans-BoldOblique.ttf",
}
# The family name the style sheet uses: its own, so no installed font of the same name
# can stand in for the shipped files.
FONT_FAMILY = "Gremienbot Sans"


class RefusedURL(ValueError):
    """A paper asked for something outside its own files (the renderer leaves it out)."""


@cache
def font_folder() -> Path:
    """matplotlib's DejaVu files, found without importing matplotlib (slow, and not
    needed for a paper)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed: its fonts are the papers' fonts")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return folder.resolve()


def font_faces() -> list[dict[str, str]]:
    """The @font-face rules' values: weight, style and file URL of each font."""
    return [
        {"weight": weight, "style": style, "url": (font_folder() / name).as_uri()}
        for (weight, style), name in FONT_FILES.items()
    ]


def allowed(url: str) -> bool:
    """A `data:` URL, or a file among the templates or the shipped fonts."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return True
    if scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = Path(unquote(parts.path)).resolve()
    fonts = {font_folder() / name for name in FONT_FILES.values()}
    return path in fonts or (path.is_relative_to(TEMPLATES) and path.is_file())


def url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that fetches only what `allowed` lets through.

    Built on call: WeasyPrint is imported only when a paper is rendered (see document.py).
    """
    # Lazy: WeasyPrint (and Pango behind it) is loaded only by the process that renders a
    # paper, never by the running bot (its memory is budgeted; file jobs run apart).
    from weasyprint.urls import URLFetcher

    class OwnFilesOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not allowed(url):
                # Not fatal: the paper renders without it (an image left out, say).
                raise RefusedURL(f"a paper may not load {url[:80]!r}")
            return super().fetch(url, headers)

    # Redirects never happen for file: and data: URLs; refused all the same.
    return OwnFilesOnly(allowed_protocols=("file", "data"), allow_redirects=False)
