"""The import rules of `make lint` hold, and they catch an import that breaks the layering."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in ("bots", "keerpunt", "portal"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_import_contract(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("bots/handover/domain.py", "import bots.queue.commands", "The bots are layered"),
        # Sessions is a concern like the others now, not a layer they stand on; the statistics
        # reach the handover and the queue only through the layers below.
        ("bots/queue/domain.py", "import bots.sessions.domain", "The bots are layered"),
        ("bots/outreach/domain.py", "import bots.sessions.api", "The bots are layered"),
        ("bots/stats/labels.py", "import bots.queue.cards", "The bots are layered"),
        ("bots/sessions/retention.py", "import bots.returning.codes", "The bots are layered"),
        ("bots/visitors/accounts.py", "import bots.sessions.domain", "The bots are layered"),
        ("bots/db/case.py", "import bots.matrix.content", "The bots are layered"),
        ("bots/queue/domain.py", "import bots.queue.workers.cards", "Domain rules import no edge"),
        ("bots/queue/workers/cards.py", "import asyncpg", "Database drivers stay in bots.db"),
        (
            "bots/outreach/links.py",
            "import portal.site",
            "The bots, the site content and the floor do not import the portal",
        ),
        ("keerpunt/base/hours.py", "import keerpunt.staff", "keerpunt: the shell stands on the site content"),
        (
            "keerpunt/base/config/loader.py",
            "import keerpunt.site.routes",
            "keerpunt: the shell stands on the site content",
        ),
        (
            "keerpunt/site/routes.py",
            "import bots.ids",
            "The portal, the site content and the floor do not import the bots",
        ),
    ],
)
def test_an_import_against_the_layering_fails_the_lint(tree: Path, module: str, line: str, contract: str) -> None:
    path = tree / module
    source = path.read_text()
    marker = "from __future__ import annotations\n"
    path.write_text(source.replace(marker, f"{marker}\n{line}  # noqa\n", 1))
    result = _lint(tree)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout
