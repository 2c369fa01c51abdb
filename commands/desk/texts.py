"""What the overview, the leadership report and its committee paper share: the period's
name, short texts and dates, the list of possible duplicate work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from commands.core import i18n
from commands.core.rich import Rich, bold, text
from commands.desk.overlaps import Item, Overlap

# Pairs shown at most; the rest are counted.
OVERLAPS_SHOWN = 25
_TEXT_SHOWN = 80


def short(value: str, limit: int = _TEXT_SHOWN) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def overlap_lines(lang: str, overlaps: Sequence[Overlap], labels: Mapping[str, str]) -> list[Rich]:
    """The section on possible duplicate work: each pair with both committees and numbers."""
    lines = [bold(i18n.plain(lang, "desk.overlaps.title"))]
    if not overlaps:
        lines.append(i18n.t(lang, "desk.overlaps.none"))
        return lines

    def side(item: Item) -> Rich:
        return i18n.t(
            lang,
            "desk.overlaps.side",
            room=bold(labels.get(item.room_id, item.room_id)),
            number=bold(f"#{item.number}"),
            text=text(short(item.text)),
        )

    lines.extend(
        i18n.t(
            lang,
            "desk.overlaps.pair",
            first=side(o.first),
            second=side(o.second),
            score=round(o.score),
        )
        for o in overlaps[:OVERLAPS_SHOWN]
    )
    if len(overlaps) > OVERLAPS_SHOWN:
        lines.append(i18n.t(lang, "desk.overlaps.more", count=len(overlaps) - OVERLAPS_SHOWN))
    return lines
