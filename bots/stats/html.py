"""The statistics report as one self-contained HTML page, for a policy officer.

One file with inline CSS and inline SVG charts, no script and no request of any kind, so it
opens offline and can be mailed as it is. Every word comes from the report texts
(``bots/texts/report.*.yaml``) and the triage definition; the numbers come from the
``Report`` as it is, suppressed cells included. Each measure gets a heading, a sentence on what
it counts, a table (the numbers, for everyone) and a bar chart (decoration, ``aria-hidden``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bots.stats.charts import bar_chart
from bots.stats.labels import Group, Labeller, Row
from bots.stats.report import Report, Value
from bots.texts import Language
from bots.triage import TriageDefinition
from keerpunt.base.config.model import FeedbackQuestion

_NOT_AN_ID = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    about: str
    total: str
    counted: bool
    groups: list[Group]
    chart: Markup | None


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("bots.stats", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    report: Report,
    language: Language,
    definition: TriageDefinition,
    outcomes: Sequence[str],
    made: date,
    feedback: Sequence[FeedbackQuestion] = (),
) -> str:
    words = Labeller(language, definition, outcomes, feedback)
    separator = words.say("thousands")

    def number(value: Value) -> str:
        return f"{value:,}".replace(",", separator) if isinstance(value, int) else value

    def day(value: date) -> str:
        return words.say("date", day=value.day, month=words.say(f"month.{value.month}"), year=value.year)

    sections = []
    for name, measure in report.measures.items():
        anchor = _NOT_AN_ID.sub("-", name.lower())
        groups = words.groups(name, measure)
        # matplotlib's own SVG (labels escaped by it), so it goes into the page as it is.
        chart = Markup(bar_chart(groups, anchor, number)) if groups else None  # noqa: S704
        shown = [Group(g.title, tuple(Row(r.label, number(r.value)) for r in g.rows)) for g in groups]
        sections.append(
            Section(
                anchor, words.title(name), words.about(name), number(measure.total), measure.total != 0, shown, chart
            )
        )
    first, last = day(report.first), day(report.last)
    return (
        _environment()
        .get_template("report.html")
        .render(
            lang=language,
            say=words.say,
            first=first,
            last=last,
            made=day(made),
            min_cell=report.min_cell,
            sections=sections,
        )
    )
