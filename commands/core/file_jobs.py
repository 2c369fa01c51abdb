"""A file made later: a feature's maker, declared with `@router.file_job(name)`, and the
job a handler hands to a `File` instead of its bytes (an export of the whole history).

A handler that would keep every room waiting while it renders a large file returns
`File(..., data=None, job=FileJob("export", params, lang=ctx.lang))`. The message is
stored in the outbox in the command's transaction as usual (its key, its place in its
queue), with the job instead of the file. The bot then calls the maker
`(session, params) -> bytes` outside the database thread, in a session that sees one
consistent state of the database and may only read; the sender holds the message, and
those after it in its queue, until the file is there. A maker that fails sends the
member the bot's internal-error answer (in `lang`) in its place; a restart makes what
was not made yet.

`params` is stored as JSON (plain values, lists and mappings) and must not name a
member by ID: rooms, formats, periods, languages. The one exception is the printable
follow-up list (`!liste pdf`): it carries the display names the room's list shows beside
each agreement, since a maker cannot ask the homeserver; they are stored no longer than
the job itself, which is cleared once the file is made, and the chat's `!liste` answer
holds the same names. What a maker needs of the bot's config (the
configured offices: they name members) the renderer adds to the params it hands the
maker under CONFIG_PARAM, from commands.features.file_job_config; it is never stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel import Session

# The key of the config's part in a maker's params (see above).
CONFIG_PARAM = "config"

FileMaker = Callable[["Session", Mapping[str, Any]], bytes]

# What the papers are (commands.papers makes them; the features name them).
PDF_MIMETYPE = "application/pdf"
# Umlauts spelled out in a file name ("Übergang" -> "Uebergang"): any system can store it.
_ASCII = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)
# A part of a file name is shortened to this many characters.
_PART_LIMIT = 60


def file_name(*parts: str, extension: str) -> str:
    """A file's name from its parts (a kind, a room's name, a period): each in ASCII
    letters and digits joined by hyphens, empty parts left out:
    ("Auswertung", "Gremium Übergang Schule–Beruf", "2026") ->
    "Auswertung-Gremium-Uebergang-Schule-Beruf-2026.pdf"."""
    words = [
        re.sub(r"[^A-Za-z0-9]+", "-", part.translate(_ASCII)).strip("-")[:_PART_LIMIT].strip("-")
        for part in parts
    ]
    return "-".join(w for w in words if w) + "." + extension


@dataclass(frozen=True)
class FileJob:
    """What to make (the maker declared under `name`) and with what (`params`); `lang` is
    the language of the answer the member gets should it fail."""

    name: str
    params: Mapping[str, Any]
    lang: str

    def to_json(self) -> str:
        return json.dumps(
            {"name": self.name, "params": dict(self.params), "lang": self.lang},
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, raw: str) -> FileJob:
        data = json.loads(raw)
        return cls(str(data["name"]), dict(data["params"]), str(data["lang"]))


@dataclass(frozen=True)
class FileJobRule:
    name: str
    make: FileMaker
