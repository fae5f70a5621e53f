"""A partner directory for the unit tests: two partners, one of them on another server."""

from __future__ import annotations

from typing import Any

from keerpunt.base.config import Config
from keerpunt.base.config.loader import build_config

from .config import example_data

DIRECTORY: dict[str, Any] = {
    "partners": [
        {
            "id": "zorg-utrecht",
            "name": "Jeugdzorg Utrecht",
            "kind": "youth-care",
            "regions": ["utrecht"],
            "description": {"nl": "Hulp voor jongeren in Utrecht.", "en": "Help for young people in Utrecht."},
            "intake": ["@intake-utrecht:localhost"],
            "hours": {"monday": ["09:00-17:00"], "tuesday": ["09:00-17:00"]},
        },
        {
            "id": "politie",
            "name": "Politie",
            "kind": "police",
            "regions": ["national"],
            "description": {"nl": "De politie.", "en": "The police."},
            "intake": ["@agent:partner.example.net"],
        },
    ]
}


def config(allowlist: list[str] | None = None) -> Config:
    data = example_data({"synapse": {"federation_allowlist": allowlist or []}})
    return build_config(data)
