"""Everything the bots say, in Dutch and English, from YAML files beside this module.

Code holds keys; the sentences live in nl.yaml and en.yaml (Jinja2 syntax for values).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from jinja2 import Environment, StrictUndefined

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")

# Bot texts are plain Matrix message bodies, never HTML, so there is nothing to escape.
_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)  # noqa: S701


@cache
def catalogue(language: Language) -> dict[str, str]:
    raw = resources.files(__name__).joinpath(f"{language}.yaml").read_text("utf-8")
    data = yaml.safe_load(raw)
    flat: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        else:
            flat[prefix] = str(node).strip()

    walk("", data)
    return flat


def text(language: Language, key: str, **values: Any) -> str:
    """Render the text ``key`` in ``language``; a missing key is a bug and raises KeyError."""
    return _env.from_string(catalogue(language)[key]).render(**values)
