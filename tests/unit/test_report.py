"""`keerpunt report` end to end: a bots database filled through ``StatStore.add``, the real CLI
over it, and what comes out as JSON (DESIGN.md's contract), CSV and the HTML page."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.db import create_database
from bots.db.stats import StatCount, StatStore
from bots.stats.labels import Labeller
from bots.stats.report import MEASURES, Measure, build
from bots.texts import catalogue
from bots.triage import load_definition
from keerpunt.cli import main
from tests.support.synapse import make_test_config

# Two days in the period and one on each side of it, which the report must leave out.
ROWS = [
    ("2026-02-28", "sessions_started", "total", 40),
    ("2026-03-01", "sessions_started", "total", 8),
    ("2026-03-01", "sessions_started", "entry:widget", 8),
    ("2026-03-01", "sessions_started", "language:nl", 6),
    ("2026-03-01", "sessions_started", "language:en", 2),
    ("2026-03-02", "sessions_started", "total", 4),
    ("2026-03-02", "sessions_started", "entry:widget", 4),
    ("2026-03-02", "sessions_started", "language:nl", 3),
    ("2026-03-02", "sessions_started", "language:en", 1),
    ("2026-03-01", "triage_answers", "total", 12),
    ("2026-03-01", "triage_answers", "topic=debts", 7),
    ("2026-03-01", "triage_answers", "topic=money-mule", 5),
    ("2026-03-02", "urgent", "total", 3),
    ("2026-03-01", "waiting_time", "total", 9),
    ("2026-03-01", "waiting_time", "0-5", 6),
    ("2026-03-01", "waiting_time", "5-15", 3),
    ("2026-03-01", "close_reasons", "total", 4),
    ("2026-03-01", "close_reasons", "counsellor", 4),
    ("2026-03-02", "close_reasons", "total", 3),
    ("2026-03-02", "close_reasons", "counsellor", 1),
    ("2026-03-02", "close_reasons", "quick_exit", 2),
    ("2026-03-03", "close_reasons", "total", 50),
]
PERIOD = ["--from", "2026-03-01", "--to", "2026-03-02"]
EMPTY: dict[str, Any] = {"total": 0, "by": {}}


def config_file(tmp_path: Path, min_cell: int, language: str = "nl") -> Path:
    path = tmp_path / "keerpunt.yaml"
    data = {
        "data_dir": str(tmp_path / "data"),
        "statistics": {"min_cell": min_cell},
        "languages": {"default": language},
    }
    path.write_text(yaml.safe_dump(data), "utf-8")
    return path


async def fill(tmp_path: Path) -> None:
    db = create_database(make_test_config(tmp_path / "data"))
    await db.start()
    try:
        stats = StatStore(db)
        for day, measure, dimension, count in ROWS:
            await stats.add(day, measure, dimension, count)
    finally:
        await db.stop()


async def report(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str, min_cell: int = 5) -> str:
    config = config_file(tmp_path, min_cell)
    code = await asyncio.to_thread(main, ["--config", str(config), "report", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture
async def filled(tmp_path: Path) -> Path:
    await fill(tmp_path)
    return tmp_path


# The counsellor's side (issue 24): listed, empty when nothing was counted.
SHIFT_MEASURES = (
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


async def test_json_gives_the_exact_counts_of_the_period_with_min_cell_1(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got = json.loads(await report(filled, capsys, *PERIOD, "--format", "json", min_cell=1))
    assert got == {
        "from": "2026-03-01",
        "to": "2026-03-02",
        "min_cell": 1,
        "measures": {
            "sessions_started": {"total": 12, "by": {"entry:widget": 12, "language:en": 3, "language:nl": 9}},
            "triage_answers": {"total": 12, "by": {"topic=debts": 7, "topic=money-mule": 5}},
            "urgent": {"total": 3, "by": {}},
            "queue": EMPTY,
            "waiting_time": {"total": 9, "by": {"0-5": 6, "5-15": 3}},
            "conversation_length": EMPTY,
            "outcomes": EMPTY,
            "close_reasons": {"total": 7, "by": {"counsellor": 5, "quick_exit": 2}},
            # Challenges handed out (issue 23): listed, empty when none were counted.
            "challenges": EMPTY,
            "handovers": EMPTY,
            "async": EMPTY,
            "outreach_approaches": EMPTY,
            **dict.fromkeys(SHIFT_MEASURES, EMPTY),
        },
    }


async def test_json_hides_counts_under_min_cell_and_the_cells_a_total_would_reveal(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got = json.loads(await report(filled, capsys, *PERIOD, "--format", "json", min_cell=5))
    measures = got["measures"]
    assert got["min_cell"] == 5
    # language:en (3) is small; language:nl (9) would give it away as 12 - 9.
    assert measures["sessions_started"] == {
        "total": 12,
        "by": {"entry:widget": 12, "language:en": "<5", "language:nl": "<5"},
    }
    assert measures["triage_answers"] == {"total": 12, "by": {"topic=debts": 7, "topic=money-mule": 5}}
    assert measures["urgent"] == {"total": "<5", "by": {}}
    assert measures["waiting_time"] == {"total": 9, "by": {"0-5": "<5", "5-15": "<5"}}
    # quick_exit (2) is small; counsellor (5) is not, but 7 - 5 would reveal quick_exit.
    assert measures["close_reasons"] == {"total": 7, "by": {"counsellor": "<5", "quick_exit": "<5"}}


def test_small_cells_are_not_given_away_by_their_sum_either() -> None:
    # 15-30 (2) and 120+ (1) are small; with 5-15 shown, 17 - 9 - 5 = 3 would tell that they
    # add up to 3, itself a small count. So 5-15 goes too, and the hidden cells add up to 8.
    cells = {"total": 17, "0-5": 9, "5-15": 5, "15-30": 2, "120+": 1}
    rows = [StatCount("2026-03-01", "waiting_time", dimension, n) for dimension, n in cells.items()]
    waiting = build(rows, date(2026, 3, 1), date(2026, 3, 1), 5).measures["waiting_time"]
    assert waiting == Measure(17, {"0-5": 9, "120+": "<5", "15-30": "<5", "5-15": "<5"})


async def test_csv_has_a_row_for_each_total_and_cell(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.reader(io.StringIO(await report(filled, capsys, *PERIOD, "--format", "csv", min_cell=5))))
    assert rows[0] == ["from", "to", "measure", "dimension", "count"]
    assert ["2026-03-01", "2026-03-02", "close_reasons", "total", "7"] in rows
    assert ["2026-03-01", "2026-03-02", "close_reasons", "quick_exit", "<5"] in rows
    assert ["2026-03-01", "2026-03-02", "sessions_started", "entry:widget", "12"] in rows
    assert ["2026-03-01", "2026-03-02", "handovers", "total", "0"] in rows
    assert len(rows) == 1 + len(MEASURES) + 9  # the header, a total per measure, every cell


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_html_is_in_the_language_asked_for(
    filled: Path, capsys: pytest.CaptureFixture[str], language: str
) -> None:
    page = await report(filled, capsys, *PERIOD, "--lang", language)
    other = "en" if language == "nl" else "nl"
    assert f'<html lang="{language}">' in page
    assert page.count("<h1>") == 1
    for measure in ("sessions_started", "triage_answers", "close_reasons", "handovers"):
        assert f">{catalogue(language)[f'report.measure.{measure}.title']}</h2>" in page
        assert f">{catalogue(other)[f'report.measure.{measure}.title']}</h2>" not in page
    topic, debts = {"nl": ("Onderwerp", "Schulden bij criminelen"), "en": ("Topic", "Debts to criminals")}[language]
    assert f">{topic}</th>" in page and f">{debts}</th>" in page
    assert '<td class="n">&lt;5</td>' in page  # a suppressed cell, escaped


async def test_html_takes_its_default_language_from_the_config(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(filled, 5, language="en")
    code = await asyncio.to_thread(main, ["--config", str(config), "report", *PERIOD])
    assert code == 0
    assert '<html lang="en">' in capsys.readouterr().out


async def test_html_is_one_file_that_asks_for_nothing(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = await report(filled, capsys, *PERIOD, "--lang", "nl")
    assert re.findall(r"(?i)(?:https?|ftp|file):|//[a-z0-9-]+\.[a-z]", page) == []
    for fetching in ("<script", "<link", "<img", "<iframe", "<object", "src=", "@import", "url(http"):
        assert fetching not in page.lower(), fetching
    assert page.count("<svg") == 4  # a chart for each measure with cells
    assert page.count('aria-hidden="true"') == 4


async def test_output_writes_the_report_to_a_file(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = filled / "out" / "report.json"
    target.parent.mkdir()
    assert await report(filled, capsys, *PERIOD, "--format", "json", "--output", str(target)) == ""
    assert json.loads(target.read_text("utf-8"))["measures"]["close_reasons"]["total"] == 7


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-02-30", "2026-03-01", "'2026-02-30' is not a date"),
        ("2026-03-01", "yesterday", "'yesterday' is not a date"),
        ("20260301", "2026-03-02", "'20260301' is not a date"),
        ("2026-03-02", "2026-03-01", "--from 2026-03-02 is after --to 2026-03-01"),
    ],
)
def test_a_bad_period_is_a_usage_error_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first: str, last: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(config_file(tmp_path, 5)), "report", "--from", first, "--to", last])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


REVERSED = ["--from", "2026-03-02", "--to", "2026-03-01"]


def test_the_installed_command_refuses_a_reversed_period_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "keerpunt", "--config", str(config_file(tmp_path, 5)), "report", *REVERSED],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "is after --to" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


async def test_a_missing_database_is_an_error_not_an_empty_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(main, ["--config", str(config_file(tmp_path, 5)), "report", *PERIOD])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "no bots database at" in err
    assert not (tmp_path / "data" / "bots" / "bots.db").exists()


LABELS = [
    # Sessions per language (issue 26): the seven in their fixed order, named in the report's language.
    (
        "sessions_started",
        {"language:ar": 1, "language:nl": 4, "language:pl": 2, "language:uk": 1, "language:xx": 1},
        [("Taal", ["Nederlands", "Pools", "Oekraïens", "Arabisch", "xx"])],
    ),
    (
        "triage_answers",
        {"topic=skip": 1, "topic=debts": 2},
        [("Onderwerp", ["Schulden bij criminelen", "Overgeslagen"])],
    ),
    ("waiting_time", {"120+": 1, "5-15": 2, "0-5": 3}, [(None, ["0–5 min", "5–15 min", "120 min of langer"])]),
    (
        "close_reasons",
        {"timeout": 1, "ended": 2, "odd": 3},
        [(None, ["De bezoeker stopte de chat", "Te lang geen bericht in het gesprek", "odd"])],
    ),
    (
        "handovers",
        {"police:arrived": 1, "result:arrived": 1, "police:asked": 1},
        [
            ("Alle partners samen", ["Aangekomen bij de partner"]),
            ("Politie", ["Gevraagd", "Aangekomen bij de partner"]),
        ],
    ),
    (
        "sessions_started",
        {"hours:open": 1, "entry:outreach": 1, "campaign:none": 1, "campaign:geldezel": 1},
        [
            ("Binnengekomen via", ["Een outreach-link"]),
            ("Campagne", ["geldezel", "Geen campagne"]),
            ("Openingstijden", ["Binnen de openingstijden"]),
        ],
    ),
    (
        "async",
        {"reason:closed": 2, "answered_late": 1, "answered": 2, "answer_hours:24-48": 1, "answer_hours:0-1": 1},
        [
            (None, ["Beantwoord", "Later beantwoord dan beloofd"]),
            ("Beantwoord na", ["0–1 uur", "24–48 uur"]),
            ("Waarom later", ["De chat was dicht"]),
        ],
    ),
    ("new_measure", {"mystery:thing": 1}, [("mystery", ["thing"])]),
]


@pytest.mark.parametrize(("measure", "by", "expected"), LABELS)
def test_cells_get_human_labels_in_reading_order_and_unknown_ids_stay_raw(
    measure: str, by: dict[str, int], expected: list[tuple[str | None, list[str]]]
) -> None:
    words = Labeller("nl", load_definition(), ("helped", "referred", "handover", "no-contact", "other"))
    groups = words.groups(measure, Measure(sum(by.values()), by))
    assert [(g.title, [r.label for r in g.rows]) for g in groups] == expected
