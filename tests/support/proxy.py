"""The proxy's rendered configs for tests: the production Caddyfile and a local router.

``production_config()`` reads deploy/keerpunt.yaml as compose.yaml uses it, with the mode
switched to dev only so its placeholders (example.org) load; everything else is as shipped.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from keerpunt.base.config import Config
from keerpunt.caddy import TRUNCATE

from .config import example_config

REPO = Path(__file__).resolve().parents[2]
DEPLOY_CONFIG = REPO / "deploy" / "keerpunt.yaml"
DEPLOY_CADDYFILE = REPO / "deploy" / "Caddyfile"
NO_ADDRESS = "0.0.0.0"  # noqa: S104 - what the map gives when there is no address, not a bind


def production_config(*, workers: bool = False) -> Config:
    raw = yaml.safe_load(DEPLOY_CONFIG.read_text("utf-8"))
    raw["mode"] = "dev"
    if workers:
        raw["synapse"]["workers"]["enabled"] = True
    return example_config(raw)


def truncate_like_caddy(address: str) -> str:
    """What the Caddyfile's map makes of ``address`` (its regexes, run by Python's re)."""
    for pattern, out in TRUNCATE:
        match = re.search(pattern.removeprefix("~"), address)
        if match:
            return match.expand(re.sub(r"\$\{(\d)\}", r"\\\1", out))
    return NO_ADDRESS


def caddy_binary() -> str | None:
    return shutil.which("caddy")
