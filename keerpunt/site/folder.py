"""Where the site's content lives: the shipped ``content/`` folder, or ``portal.content_dir``."""

from __future__ import annotations

from pathlib import Path

from keerpunt.base.config import Config

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent.parent / "content"


def content_dir(config: Config) -> Path:
    """``portal.content_dir`` resolved against the data directory, else the shipped content."""
    return config.path(config.portal.content_dir) if config.portal.content_dir else DEFAULT_CONTENT_DIR
