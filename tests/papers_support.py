"""Reading a PDF paper back as its reader would: its text and pages (pypdf), its
structure (pikepdf), and its pages as pictures (pdftoppm) kept as test artefacts."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pypdf
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (every table on the metadata, for `empty`)
from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]


def empty(database: Database) -> None:
    """Every table emptied: a module's dialog on the session's database starts afresh."""
    with database.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


def artifacts_dir() -> Path:
    """$GREMIENBOT_ARTIFACTS, else tests/artifacts/ (gitignored)."""
    return Path(os.environ.get("GREMIENBOT_ARTIFACTS") or ROOT / "tests" / "artifacts")


def pages(pdf: bytes) -> list[str]:
    """Each page's text."""
    return [page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def words(pdf: bytes) -> str:
    """The whole text on one line, single spaces: what a search in the PDF finds
    (lines broken inside a table cell, and hyphenations, joined)."""
    text = " ".join(pages(pdf)).replace("\u2010\n", "").replace("-\n", "-")
    return re.sub(r"\s+", " ", text)


def squeezed(value: str | bytes) -> str:
    """A text, or a PDF's text, without any white space: what must appear in order even
    where a table cell or a margin box breaks or spaces it differently."""
    text = " ".join(pages(value)) if isinstance(value, bytes) else value
    return re.sub(r"\s+", "", text.replace("\u2010\n", ""))


def open_pdf(pdf: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(pdf))


def font_names(pdf: bytes) -> set[str]:
    """The embedded fonts' names without their subset tag: {"Gremienbot-Sans", …}."""
    found: set[str] = set()
    with open_pdf(pdf) as doc:
        for page in doc.pages:
            for font in page.Resources.get("/Font", {}).values():
                found.add(str(font.BaseFont).lstrip("/").split("+", 1)[-1])
    return found


def write_artifacts(name: str, pdf: bytes) -> list[Path]:
    """`<name>.pdf` and, when pdftoppm is installed, `<name>-N.png` per page: the papers
    as a person would look at them."""
    folder = artifacts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftoppm") is None:
        return [path]
    for old in folder.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-r", "80", "-png", str(path), str(folder / name)],
        check=True,
        capture_output=True,
    )
    return [path, *sorted(folder.glob(f"{name}-*.png"))]
