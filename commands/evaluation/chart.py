"""The report's chart: statements' means as bars (left), the pulse trend by month of the
period (right).

Drawn with matplotlib's object API on an Agg canvas: no pyplot, so no global figure state
is shared between reports. matplotlib is imported on first use, not when the bot starts.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from commands.core import i18n
from commands.evaluation.figures import Month
from storage.figures.votes import MIN_ANSWERS

# Small enough to render in well under a second, large enough to read in Element.
DPI = 72
WIDTH_INCHES = 11.0
LABEL_WIDTH = 34  # characters per line of a statement's label
LABEL_LIMIT = 100  # characters of a statement shown at most
SCALE = (1, 5)
MIN_ROWS = 3  # a chart with fewer statements keeps room for three bars
MAX_TICKS = 12  # month labels on the axis at most: a longer period labels every n-th


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
    from matplotlib.figure import Figure

    rows = max(len(data.statements), MIN_ROWS + 1)
    fig = Figure(figsize=(WIDTH_INCHES, 1.2 + 0.55 * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
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

    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
