"""Everything the bots say, in Dutch and English, from YAML files beside this module.

Code holds keys; the sentences live in ``nl.yaml``/``en.yaml`` and per-area files such as
``triage.nl.yaml`` (Jinja2 syntax for values); each concern's own (its commands' help, its
rooms' names) are in its area's file. A concern that lives elsewhere brings a folder of its
own (``include``). A key may be defined in one file only.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal

import yaml
from jinja2 import Environment, StrictUndefined

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")

# Bot texts are plain Matrix message bodies, never HTML, so there is nothing to escape.
_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)  # noqa: S701


# Where the text files are: this package, and any folder a concern brought.
_FOLDERS: list[Traversable] = [resources.files(__name__)]


def include(folder: Traversable) -> None:
    """Add a folder of text files (``<area>.<language>.yaml``) to the catalogue, once."""
    if folder not in _FOLDERS:
        _FOLDERS.append(folder)
        catalogue.cache_clear()


@cache
def catalogue(language: Language) -> dict[str, str]:
    flat: dict[str, str] = {}

    def walk(prefix: str, node: Any, origin: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value, origin)
            return
        if prefix in flat:
            raise ValueError(f"text key {prefix!r} is defined twice ({origin})")
        flat[prefix] = str(node).strip()

    for folder in _FOLDERS:
        names = sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.name == f"{language}.yaml" or entry.name.endswith(f".{language}.yaml")
        )
        for name in names:
            walk("", yaml.safe_load(folder.joinpath(name).read_text("utf-8")) or {}, name)
    return flat


def text(language: Language, key: str, **values: Any) -> str:
    """Render the text ``key`` in ``language``; a missing key is a bug and raises KeyError."""
    return _env.from_string(catalogue(language)[key]).render(**values)


def as_language(value: str, fallback: Language = "nl") -> Language:
    """``value`` as one of the languages the bots speak; ``fallback`` when it is none of them."""
    for language in LANGUAGES:
        if value == language:
            return language
    return fallback
