"""The report's chart: statements' means as bars (left), the pulse trend by month of the
period (right).

Drawn with matplotlib's object API, on an Agg canvas as PNG for the chat and on an SVG
canvas as vector graphics for the PDF: no pyplot, so no global figure state is shared
between reports. matplotlib is imported on first use, not when the bot starts.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.core import i18n
from commands.evaluation.figures import Month
from storage.figures.votes import MIN_ANSWERS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Twice the 72 of a plain screen: sharp on high-density screens (and when zoomed in);
# clients show a thumbnail in the timeline (bot.runtime.thumbnails). Renders in well
# under a second.
DPI = 144
WIDTH_INCHES = 11.0
LABEL_WIDTH = 34  # characters per line of a statement's label
LABEL_LIMIT = 100  # characters of a statement shown at most
SCALE = (1, 5)
MIN_ROWS = 3  # a chart with fewer statements keeps room for three bars
MAX_TICKS = 12  # month labels on the axis at most: a longer period labels every n-th
# The SVG's element IDs are hashed with this instead of a random salt: the same bytes.
SVG_SALT = "gremienbot-chart"


@dataclass(frozen=True)
class ChartData:
    # Statements that may be shown, in questionnaire order: (text, mean).
    statements: Sequence[tuple[str, float]]
    # Statements left out for having too few answers.
    left_out: int
    months: Sequence[Month]
    # The months (year, month) of the period, in order: the trend's axis.
    axis: Sequence[tuple[int, int]]


def _label(statement: str) -> str:
    short = textwrap.shorten(statement, LABEL_LIMIT, placeholder=" …")
    return textwrap.fill(short, LABEL_WIDTH)


def png(data: ChartData, lang: str) -> bytes:
    """The chart as PNG bytes."""
    # Lazy: matplotlib costs the running bot tens of MB and is needed only for a chart.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure(data, lang)
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def svg(data: ChartData, lang: str) -> bytes:
    """The same chart as SVG, for a PDF that prints it sharp at any size.

    The same bytes for the same data: element IDs are hashed with a fixed salt instead of
    a random one, and no date is written. The letters are drawn as outlines of
    matplotlib's own DejaVu (fonttype "path"): the chart looks like the PNG wherever the
    PDF is made, with no font looked up on that machine (an SVG's text would take the
    installed font of its name, not the paper's shipped one). What it shows is read as
    the image's alternative text and in the paper's tables."""
    # Lazy, as in png.
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    out = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": SVG_SALT, "svg.fonttype": "path"}):
        fig = _figure(data, lang)
        FigureCanvasSVG(fig)
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _figure(data: ChartData, lang: str) -> Figure:
    """The chart drawn on a figure of its own (no pyplot: no state shared between reports)."""
    # Lazy, as in png.
    from matplotlib.figure import Figure

    rows = max(len(data.statements), MIN_ROWS + 1)
    fig = Figure(figsize=(WIDTH_INCHES, 1.2 + 0.55 * rows), dpi=DPI, layout="constrained")
    bars, line = fig.subplots(1, 2, width_ratios=(3, 2))

    def text(key: str, **values: object) -> str:
        return i18n.plain(lang, f"evaluation_report.{key}", **values)

    bars.set_title(text("chart_statements"), fontsize=11)
    bars.set_xlim(*SCALE)
    bars.set_xticks(range(SCALE[0], SCALE[1] + 1))
    if data.statements:
        labels = [_label(s) for s, _ in data.statements]
        means = [m for _, m in data.statements]
        positions = range(len(means))
        widths = [m - SCALE[0] for m in means]
        bars.barh(positions, widths, left=SCALE[0], height=0.6, color="#3a7ca5")
        bars.set_yticks(positions, labels, fontsize=9)
        # The first statement on top; a few statements keep the height of a bar.
        bars.set_ylim(max(len(means), MIN_ROWS) - 0.5, -0.5)
        for y, mean in zip(positions, means, strict=True):
            bars.annotate(
                i18n.decimal(mean, lang),
                (mean, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
    else:
        bars.set_yticks([])
        bars.text(
            0.5,
            0.5,
            text("chart_statements_none", min=MIN_ANSWERS),
            transform=bars.transAxes,
            ha="center",
            va="center",
            fontsize=10,
        )
    if data.left_out:
        bars.set_xlabel(text("chart_left_out", count=data.left_out, min=MIN_ANSWERS), fontsize=9)

    names = text("chart_months").split()
    place = {ym: i for i, ym in enumerate(data.axis, 1)}
    step = -(-len(data.axis) // MAX_TICKS)  # ceiling division
    ticks = range(1, len(data.axis) + 1, step)
    line.set_title(text("chart_pulses"), fontsize=11)
    line.set_xlim(0.5, len(data.axis) + 0.5)
    line.set_ylim(*SCALE)
    line.set_yticks(range(SCALE[0], SCALE[1] + 1))
    line.set_xticks(ticks, [names[data.axis[i - 1][1] - 1] for i in ticks], fontsize=8)
    line.grid(axis="y", alpha=0.3)
    if data.months:
        line.plot(
            [place[(m.year, m.month)] for m in data.months],
            [m.mean for m in data.months],
            marker="o",
            color="#d1495b",
        )
    else:
        line.text(
            0.5,
            0.5,
            text("chart_pulses_none", min=MIN_ANSWERS),
            transform=line.transAxes,
            ha="center",
            va="center",
            fontsize=10,
        )
    return fig
