"""Numbered schema upgrade steps, one module per step (``vNN_what.py``), and the latest revision
at once for a new database (``v00_latest.py``). Never edit a released step; add a new one: a
new module with the next number, an ``upgrade(conn)`` and a ``DESCRIPTION``, found here by its
name."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mautrix.util.async_db import Connection, UpgradeTable

from bots.db.upgrade import v00_latest

STEP = re.compile(r"^v(\d\d)_\w+$")


@dataclass(frozen=True)
class Step:
    version: int  # the version the database is at after this step
    upgrade: Callable[[Connection], Awaitable[None]]
    description: str


def steps() -> tuple[Step, ...]:
    """Every step, v1 first; the numbers run without a gap."""
    found: list[Step] = []
    for module in pkgutil.iter_modules(__path__):
        match = STEP.match(module.name)
        if match is None or match[1] == "00":
            continue
        step = importlib.import_module(f"{__name__}.{module.name}")
        found.append(Step(int(match[1]), step.upgrade, step.DESCRIPTION))
    found.sort(key=lambda step: step.version)
    if [step.version for step in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"the upgrade steps are not numbered 1 to {len(found)} without a gap")
    return tuple(found)


STEPS = steps()

upgrade_table = UpgradeTable(database_name="Keerpunt bots")
# A new database (version 0) takes the latest revision at once, then any step after it; an
# existing one takes the steps from its version on. (mautrix's decorator is untyped;
# registering by call keeps mypy strict for the steps.)
upgrade_table.register(v00_latest.upgrade, description=v00_latest.DESCRIPTION, upgrades_to=v00_latest.REVISION)
for _step in STEPS[1:]:
    upgrade_table.register(_step.upgrade, description=_step.description)


def stepwise() -> UpgradeTable:
    """Every step one by one, from an empty database (for the test that the latest revision is
    the same schema)."""
    table = UpgradeTable(database_name="Keerpunt bots, step by step")
    for step in STEPS:
        table.register(step.upgrade, description=step.description)
    return table
