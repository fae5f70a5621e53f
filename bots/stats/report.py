"""The statistics over a period, with small counts suppressed. Pure: counts in, report out.

A count under ``min_cell`` is shown as ``"<N"`` (N = min_cell). So that a total or a
difference cannot reveal it, a family of cells (``entry:…``, or the plain dimensions of a
measure) with suppressed cells that add up to less than ``min_cell`` gets its next smallest
cells suppressed too, until they do; and a measure whose total is suppressed shows every cell
suppressed.

The JSON shape is DESIGN.md's contract:
``{"from", "to", "min_cell", "measures": {"<measure>": {"total": N, "by": {"<dimension>": N}}}}``.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bots.db.stats import StatCount
from bots.stats.counting import TOTAL

Value = int | str

# The measures in the order a report lists them.
MEASURES = (
    "sessions_started",
    "triage_answers",
    "urgent",
    "queue",
    "waiting_time",
    "conversation_length",
    "outcomes",
    "close_reasons",
    "challenges",
    "handovers",
    "async",
    "outreach_approaches",
    "chats_per_hour",
    "concurrent_chats",
    "breaks",
    "break_minutes",
    "wrap_up_topics",
    "wrap_up_referrals",
    "feedback",
    "vetted_texts",
    "staff_actions",
)


@dataclass(frozen=True)
class Measure:
    total: Value
    by: dict[str, Value]


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    min_cell: int
    measures: dict[str, Measure]

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "min_cell": self.min_cell,
            "measures": {name: {"total": m.total, "by": dict(m.by)} for name, m in self.measures.items()},
        }

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["from", "to", "measure", "dimension", "count"])
        for name, measure in self.measures.items():
            writer.writerow([self.first.isoformat(), self.last.isoformat(), name, TOTAL, measure.total])
            for dimension, value in measure.by.items():
                writer.writerow([self.first.isoformat(), self.last.isoformat(), name, dimension, value])
        return out.getvalue()


def family(dimension: str) -> str:
    """``entry:widget`` → ``entry``; a triage answer ``topic=debts`` → ``topic``; else ``""``."""
    for separator in (":", "="):
        if separator in dimension:
            return dimension.split(separator, 1)[0]
    return ""


def _suppressed(cells: dict[str, int], min_cell: int) -> set[str]:
    hidden = {dim for dim, n in cells.items() if n < min_cell}
    families: dict[str, list[str]] = defaultdict(list)
    for dim in cells:
        families[family(dim)].append(dim)
    for dims in families.values():
        # The total minus the shown cells gives the sum of the hidden ones: hide the next
        # smallest cells until that sum is no small count itself.
        shown = sorted((d for d in dims if d not in hidden), key=lambda d: (cells[d], d))
        while shown and 0 < sum(cells[d] for d in dims if d in hidden) < min_cell:
            hidden.add(shown.pop(0))
    return hidden


def build(rows: Iterable[StatCount], first: date, last: date, min_cell: int) -> Report:
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        sums[row.measure][row.dimension] += row.count
    mark = f"<{min_cell}"
    measures: dict[str, Measure] = {}
    for name in [*MEASURES, *sorted(set(sums) - set(MEASURES))]:
        cells = dict(sums.get(name, {}))
        total = cells.pop(TOTAL, sum(cells.values()))
        if min_cell <= 1:
            measures[name] = Measure(total, dict(sorted(cells.items())))
            continue
        if 0 < total < min_cell:
            measures[name] = Measure(mark, {dim: mark for dim in sorted(cells)})
            continue
        hidden = _suppressed(cells, min_cell)
        by: dict[str, Value] = {dim: (mark if dim in hidden else n) for dim, n in sorted(cells.items())}
        measures[name] = Measure(total, by)
    return Report(first, last, min_cell, measures)
