"""The thumbnail of a picture the bot sends (a chart): what a client shows in the timeline
before the picture is opened.

Charts are drawn at twice the usual resolution so that they stay sharp on high-density
screens; the thumbnail keeps the timeline light. It is a PNG (line art and text blur in
JPEG), scaled with a Lanczos filter into THUMBNAIL_BOX, in a palette of 256 colours (a
chart has few: as sharp, and a fifth of the bytes); a picture that already fits needs
none. It is made when the picture is sent (bot.runtime.delivery), from the picture the
outbox keeps: nothing more to store, and after a restart the same thumbnail again.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

# Sharp where a timeline shows a picture a few hundred pixels wide on a high-density
# screen; charts are wider than tall, so mostly 800 pixels wide.
THUMBNAIL_BOX = (800, 600)
THUMBNAIL_MIMETYPE = "image/png"


class ThumbnailError(Exception):
    """The picture cannot be read: it is sent without a thumbnail."""


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    width: int
    height: int
    mimetype: str = THUMBNAIL_MIMETYPE

    @property
    def info(self) -> dict[str, Any]:
        """Its `thumbnail_info` in an m.image message."""
        return {
            "w": self.width,
            "h": self.height,
            "mimetype": self.mimetype,
            "size": len(self.data),
        }


def thumbnail(data: bytes, box: tuple[int, int] = THUMBNAIL_BOX) -> Thumbnail | None:
    """The picture scaled to fit `box` (its proportions kept), or None when it fits already.

    Takes tens of milliseconds for a chart: call it off the event loop.
    """
    # Lazy: Pillow (which matplotlib brings along) is needed only when a picture is sent.
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as picture:
            if picture.width <= box[0] and picture.height <= box[1]:
                return None
            full = picture if picture.mode in ("RGB", "RGBA") else picture.convert("RGBA")
            full.thumbnail(box, Image.Resampling.LANCZOS)
            small = full.quantize(256, method=Image.Quantize.FASTOCTREE)
            out = io.BytesIO()
            small.save(out, format="PNG")
            return Thumbnail(out.getvalue(), small.width, small.height)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"no thumbnail: the picture cannot be read ({exc})") from exc
