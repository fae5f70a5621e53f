"""Configs for tests: the shipped example with a test's overrides laid over it.

``merge`` does what the config loader does with a ``keerpunt.yaml`` over the example (nested
mappings merge, anything else replaces), so a test config is built the way a real one is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from keerpunt.base.config import Config, example_text, merge
from keerpunt.base.config.loader import build_config


def example_data(*overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The shipped example config as plain data, with each of ``overrides`` laid over it in turn."""
    data: dict[str, Any] = yaml.safe_load(example_text())
    for over in overrides:
        data = merge(data, over or {})
    return data


def example_config(*overrides: Mapping[str, Any] | None) -> Config:
    """The shipped example config with ``overrides`` laid over it, built and checked as at start-up."""
    return build_config(example_data(*overrides))
