"""Horizontal bar charts of a report's cells, drawn by matplotlib as SVG to embed inline.

The charts are decoration beside the tables, which carry the numbers for everyone: each SVG
is ``aria-hidden``. A suppressed cell ("<5") gets its label and no bar, so the chart never
shows more than the table. Only matplotlib's object API is used (``Figure``, no pyplot), so
no GUI backend is ever loaded and nothing global is touched; the SVG is stripped of what an
offline, single-file page does not want (the XML prolog, the DOCTYPE's URL, matplotlib's
metadata and namespace URLs) and its ids are prefixed so that several charts fit in one page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bots.stats.labels import Group

BAR = "#1f4e79"  # 9.4:1 on white
INK = "#1a1a1a"
MUTED = "#4d4d4d"  # the "<5" labels: 8.5:1 on white
BAR_INCHES = 0.34
TITLE_INCHES = 0.36
WIDTH_INCHES = 6.0  # 576 px, the chart box's widest: the text is drawn at its size
FONT_SIZE = 10.5

_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(href="#|url\(#)([^")]+)')
_NAMESPACES = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_SIZE = re.compile(r'\s+(?:width|height)="[^"]*pt"')


def bar_chart(groups: Sequence[Group], prefix: str, number: Callable[[int], str]) -> str:
    """An SVG element (as text) with one panel of horizontal bars per group."""
    counts = [max(1, len(g.rows)) for g in groups]
    titles = sum(1 for g in groups if g.title)
    height = sum(counts) * BAR_INCHES + titles * TITLE_INCHES + 0.3
    shown = [row.value for g in groups for row in g.rows if isinstance(row.value, int)]
    widest = max(shown, default=0) or 1
    with mpl.rc_context(
        {
            "font.size": FONT_SIZE,
            "text.color": INK,
            "axes.edgecolor": MUTED,
            "svg.fonttype": "path",  # the text looks the same everywhere, no font needed
            "svg.hashsalt": f"keerpunt-{prefix}",  # same input, same SVG
        }
    ):
        figure = Figure(figsize=(WIDTH_INCHES, height), layout="constrained")
        panels = figure.subplots(len(groups), 1, squeeze=False, height_ratios=counts)[:, 0]
        for axes, group in zip(panels, groups, strict=True):
            _panel(axes, group, widest, number)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    return _inline(out.getvalue(), prefix)


def _panel(axes: Axes, group: Group, widest: int, number: Callable[[int], str]) -> None:
    rows = group.rows
    places = list(range(len(rows)))
    values = [row.value if isinstance(row.value, int) else 0 for row in rows]
    axes.barh(places, values, height=0.62, color=BAR)
    axes.set_yticks(places, [row.label for row in rows])
    axes.invert_yaxis()  # the first row on top, as in the table
    axes.set_xlim(0, widest * 1.18)
    axes.xaxis.set_visible(False)
    axes.tick_params(axis="y", length=0, pad=6)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    for place, row in zip(places, rows, strict=True):
        if isinstance(row.value, int):
            axes.annotate(number(row.value), (row.value, place), xytext=(4, 0), textcoords="offset points", va="center")
        else:  # suppressed: its label, no bar
            axes.annotate(row.value, (0, place), xytext=(4, 0), textcoords="offset points", va="center", color=MUTED)
    if group.title:
        axes.set_title(group.title, loc="left", fontweight="bold", fontsize=FONT_SIZE)


def _inline(svg: str, prefix: str) -> str:
    """matplotlib's SVG document as an element for an HTML page (see the module docstring)."""
    svg = svg[svg.index("<svg") :]
    head, rest = svg.split(">", 1)
    head = _SIZE.sub("", _NAMESPACES.sub("", head))
    head += ' class="chart" aria-hidden="true" focusable="false" preserveAspectRatio="xMinYMin meet"'
    svg = f"{head}>{rest}"
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    return _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
