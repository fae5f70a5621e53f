"""``keerpunt report``: the statistics of a period from the bots' database, as HTML, CSV or JSON.

Reads only the daily counts (``stat_count``), builds the report with the configured
``statistics.min_cell``, and writes it in one of three forms: JSON for machines (DESIGN.md's
contract, ``Report.as_json``), CSV (``Report.as_csv``), or the HTML page for people.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from bots.db import create_database
from bots.db.stats import StatStore
from bots.stats.report import Report, build
from bots.texts import Language
from bots.triage import load_definition
from keerpunt.base.config import Config

Format = Literal["html", "csv", "json"]
FORMATS: tuple[Format, ...] = ("html", "csv", "json")


class ReportError(Exception):
    """Something the operator can fix (the message says what)."""


async def read_report(config: Config, first: date, last: date) -> Report:
    if config.bots.database.startswith("sqlite:"):
        path = config.path(config.bots.database.removeprefix("sqlite:").removeprefix("//"))
        if not path.is_file():
            # Opening it would make a new, empty database and a report of zeros.
            raise ReportError(f"no bots database at {path}: check data_dir and bots.database (or --data-dir)")
    db = create_database(config)
    await db.start()
    try:
        rows = await StatStore(db).between(first.isoformat(), last.isoformat())
    finally:
        await db.stop()
    return build(rows, first, last, config.statistics.min_cell)


def today(config: Config) -> date:
    return datetime.now(ZoneInfo(config.hours.timezone)).date()


def render(report: Report, form: Format, language: Language, config: Config, made: date | None = None) -> str:
    if form == "json":
        return json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n"
    if form == "csv":
        return report.as_csv()
    from bots.stats.html import render_html  # matplotlib only when a page is made

    made = made or today(config)
    return render_html(report, language, load_definition(), config.queue.outcomes, made, config.feedback.questions)


def write(body: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(body)
        return
    try:
        Path(output).write_text(body, "utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {output}: {exc.strerror or exc}") from exc
