"""The README and docs/*.md name only things that exist.

Every backticked repository path (files, folders, globs; ``<placeholder>`` matches anything),
every ``make <target>`` (the Makefile's targets, ``-C dir`` too), every ``keerpunt <subcommand>``
with its options (the CLI's own argparse) and every ``python -m bench.<name>`` (a module in
bench/), inline or in a ``sh`` block. Not checked, because a clone does not hold them: URLs and
URL paths, paths in the data directory (``.keerpunt/…``, ``<data dir>/…``) and what set-up
makes (``.venv``, ``node_modules``, ``widget/dist``), and paths outside the repository
(``../shared/…``).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from keerpunt.cli import _parser

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]

# Made at run time or by `make setup`, so never in a clone.
NOT_IN_A_CLONE = (
    ".keerpunt/",
    "<data dir>/",
    "<data_dir>/",
    ".venv/",
    "node_modules",
    "widget/node_modules",
    "widget/dist",
    # On the production host, made by the operator or the stack (docs/deploy.md): secrets, backups.
    "secrets/",
    "backups/",
    "~/",
)
# The operator's own files, which the docs tell them to make.
OPERATOR_FILES = {"keerpunt.yaml", "./keerpunt.yaml"}
# A shell line may chain commands; each is checked on its own.
CHAIN = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")

SPAN = re.compile(r"`([^`\n]+)`")
KEERPUNT = re.compile(r"(?:^|\s)(?:\.venv/bin/)?keerpunt\s+(.+)")
MAKE = re.compile(r"^make\s+(.+)")
BENCH = re.compile(r"(?:^|\s-m\s+)bench\.([A-Za-z_]\w*)\b")
PLACEHOLDER = re.compile(r"<[^>]*>")


def mentions(text: str) -> Iterator[tuple[int, str, str]]:
    """(line number, the backticked text or a line of a sh block, the line it is on)."""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            continue
        if fence in ("sh", "bash", "shell"):
            command = line.split("  #", 1)[0].strip()
            if command:
                yield number, command, line
        elif fence is None:
            for span in SPAN.findall(line):
                yield number, span.strip(), line


def _is_command(span: str) -> bool:
    return bool(KEERPUNT.search(span) or MAKE.match(span) or BENCH.search(span)) or " " in span


def path_problem(span: str, line: str, root: Path) -> str | None:
    """Why ``span`` names a repository path that is not there (None: it is, or it is no path)."""
    if "/" not in span or _is_command(span) or span in OPERATOR_FILES:
        return None
    if "://" in span or span.startswith(("/", "../", "@")) or "…" in span or ":" in span.split("/")[0]:
        return None  # a URL, a URL path, outside the repository, an npm scope, elided, host:port
    if span.startswith(NOT_IN_A_CLONE):
        return None
    pattern = PLACEHOLDER.sub("*", span).rstrip("/")
    # A bare folder in a layout row (`unit/` beside `tests/`) is inside the row's first folder.
    bases = [root]
    first = next((s for s in SPAN.findall(line) if s.endswith("/") and s != span), None)
    if "/" not in pattern and first is not None:
        bases.append(root / first)
    if any(next(base.glob(pattern), None) is not None for base in bases):
        return None
    return f"no such path: {span}"


def _makefile_targets(makefile: Path) -> set[str]:
    targets = set()
    for line in makefile.read_text("utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", line)
        if match:
            targets.add(match.group(1))
    return targets


def make_problem(args: str, root: Path) -> str | None:
    tokens = args.split()
    folder = root
    if tokens[:1] == ["-C"] and len(tokens) > 1:
        folder = root / tokens[1]
        tokens = tokens[2:]
    if not (folder / "Makefile").exists():
        return f"no Makefile in {folder.relative_to(root) if folder != root else '.'} for `make {args}`"
    missing = [
        t for t in tokens if not t.startswith("-") and "=" not in t and t not in _makefile_targets(folder / "Makefile")
    ]
    return f"no make target {', '.join(missing)} (`make {args}`)" if missing else None


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def keerpunt_problem(args: str, parser: argparse.ArgumentParser) -> str | None:
    """Each subcommand must be one the CLI knows, each --option one of its parsers has."""
    tokens = [t.strip("[]\"'") for t in args.split()]
    chain = [parser]
    skip_value = False
    for token in tokens:
        if skip_value:
            skip_value = False
            continue
        if not token or PLACEHOLDER.search(token) or token in ("…", "...", "|"):
            break
        if token.startswith("--"):
            name = token.split("=", 1)[0]
            action = next((p._option_string_actions[name] for p in chain if name in p._option_string_actions), None)
            if action is None:
                return f"`keerpunt {args}`: no option {name}"
            skip_value = action.nargs != 0 and "=" not in token
            continue
        if token.startswith("-"):
            continue
        subcommands = _subcommands(chain[-1])
        if not subcommands:
            continue  # a positional argument
        if token not in subcommands:
            return f"`keerpunt {args}`: no subcommand {token!r} (has {', '.join(sorted(subcommands))})"
        chain.append(subcommands[token])
    return None


def problems(text: str, root: Path = ROOT) -> list[str]:
    found = []
    parser = _parser()
    for number, span, line in mentions(text):
        checks = [path_problem(span, line, root)]
        for command in CHAIN.split(span):
            if match := MAKE.match(command):
                checks.append(make_problem(match.group(1), root))
            if match := KEERPUNT.search(command):
                checks.append(keerpunt_problem(match.group(1), parser))
                checks += [path_problem(token, "", root) for token in match.group(1).split() if "/" in token]
        for name in BENCH.findall(span):
            module = root / "bench" / f"{name}.py", root / "bench" / name / "__main__.py"  # a module or a package
            checks.append(None if any(m.exists() for m in module) else f"no bench module bench.{name}")
        found += [f"line {number}: {problem}" for problem in checks if problem]
    return found


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_path_command_and_bench_a_document_names_exists(document: str) -> None:
    assert problems((ROOT / document).read_text("utf-8")) == []


def test_a_made_up_path_target_subcommand_option_or_bench_is_found() -> None:
    text = "\n".join(
        [
            "Run `make nowhere` or `make -C widget nowhere`, then `keerpunt nowhere`, `keerpunt dev --nowhere`,",
            "`.venv/bin/keerpunt staff nowhere NAME` and `python -m bench.nowhere`; read `bots/nowhere.py` and",
            "`docs/nowhere/`. Chained: `make -C widget build && keerpunt elsewhere`.",
            "",
            "```sh",
            "docker compose run --rm bots keerpunt --config deploy/nowhere.yaml caddyfile",
            "```",
        ]
    )
    found = problems(text)
    for expected in (
        "line 1: no make target nowhere (`make nowhere`)",
        "line 1: no make target nowhere (`make -C widget nowhere`)",
        "line 1: `keerpunt nowhere`: no subcommand 'nowhere'",
        "line 1: `keerpunt dev --nowhere`: no option --nowhere",
        "line 2: `keerpunt staff nowhere NAME`: no subcommand 'nowhere'",
        "line 2: no bench module bench.nowhere",
        "line 2: no such path: bots/nowhere.py",
        "line 3: no such path: docs/nowhere/",
        "line 3: `keerpunt elsewhere`: no subcommand 'elsewhere'",
        "line 6: no such path: deploy/nowhere.yaml",
    ):
        assert any(problem.startswith(expected) for problem in found), (expected, found)
    assert len(found) == 10, found


def test_what_a_clone_does_not_hold_and_placeholders_are_not_problems() -> None:
    text = "\n".join(
        [
            "`http://127.0.0.1:8008`, `/nl/chat`, `.keerpunt/dev-stack.json`, `<data dir>/logs/`,",
            "`../shared/DESIGN.md`, `127.0.0.1:<port>/metrics`, `@matrix-org/matrix-sdk-crypto-wasm`,",
            "`widget/node_modules`, `…/send`, `bots/texts/report.*.yaml`, `content/<lang>/`, `make -C widget build`,",
            "`keerpunt --data-dir DIR dev --workers`, `keerpunt staff add NAME --role ROLE [--partner ID]`,",
            "`python -m bench.<name>`, `bench.scale`",
            "| `tests/` | in layers: `unit/`, `core/` |",
        ]
    )
    assert problems(text) == []
    assert problems("| `tests/` | in layers: `nowhere/` |") == ["line 1: no such path: nowhere/"]


def test_every_bench_has_a_table_in_the_readme_and_its_history_in_docs() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    performance = readme.split("\n## Performance\n", 1)[1].split("\n## ", 1)[0]
    history = (ROOT / "docs" / "performance-history.md").read_text("utf-8")
    modules = [*(ROOT / "bench").glob("*.py"), *(ROOT / "bench").glob("*/__main__.py")]
    runnable = [p for p in modules if '__name__ == "__main__"' in p.read_text("utf-8")]
    benches = sorted(p.parent.name if p.stem == "__main__" else p.stem for p in runnable)
    assert len(benches) >= 10
    for name in benches:
        assert f"**`bench.{name}`**" in performance, f"no table for bench.{name} in the README's Performance section"
        assert f"## `bench.{name}`" in history, f"no history for bench.{name} in docs/performance-history.md"
