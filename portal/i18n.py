"""Languages: the portal's translation files (``portal/i18n/<lang>.yaml``).

Visible text lives only in the YAML files and templates; code refers to it by dotted key.
Every page's address is built in ``keerpunt.site.routes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from keerpunt.site.content import LANGUAGES, ContentError, Language, is_language

# More entries than this in an Accept-Language header are ignored (no browser sends so many).
MAX_ACCEPT_LANGUAGES = 20


@dataclass(frozen=True)
class Translations:
    """One language's texts, looked up by dotted key (``t("nav.search")``)."""

    language: Language
    texts: Mapping[str, Any]

    def __call__(self, key: str, **values: object) -> str:
        node: Any = self.texts
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"portal/i18n/{self.language}.yaml has no text {key!r}")
            node = node[part]
        if not isinstance(node, str):
            raise KeyError(f"portal/i18n/{self.language}.yaml: {key!r} is not a single text")
        return node.format(**values) if values else node

    def get(self, key: str) -> Any:
        """A list or mapping of texts (self-check questions, month names)."""
        node: Any = self.texts
        for part in key.split("."):
            node = node[part]
        return node


def flat_keys(node: Any, prefix: str = "") -> set[str]:
    if isinstance(node, Mapping):
        out: set[str] = set()
        for key, value in node.items():
            out |= flat_keys(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(node, list):
        return {f"{prefix}[{len(node)}]"} | {k for i, v in enumerate(node) for k in flat_keys(v, f"{prefix}[{i}]")}
    return {prefix}


def load_translations() -> dict[Language, Translations]:
    folder = resources.files("portal").joinpath("i18n")
    loaded: dict[Language, Translations] = {}
    for language in LANGUAGES:
        name = f"portal/i18n/{language}.yaml"
        data = yaml.safe_load(folder.joinpath(f"{language}.yaml").read_text("utf-8"))
        if not isinstance(data, dict):
            raise ContentError(name, "", "must be a mapping of texts")
        # _reviewed: the keys a native speaker signed off (keerpunt texts check), not a text.
        loaded[language] = Translations(language, {k: v for k, v in data.items() if k != "_reviewed"})
    reference = flat_keys(loaded[LANGUAGES[0]].texts)
    for language in LANGUAGES[1:]:
        keys = flat_keys(loaded[language].texts)
        if keys != reference:
            diff = sorted(keys ^ reference)[:5]
            raise ContentError(f"portal/i18n/{language}.yaml", "", f"keys differ from nl.yaml: {', '.join(diff)}")
    return loaded


def other(language: Language) -> Language:
    """Between the two full languages: the other one (for "not in the other language yet")."""
    return "en" if language == "nl" else "nl"


def preferred_language(accept_language: str, default: Language) -> Language:
    """The visitor's first language we have, from the browser's Accept-Language; else ``default``.

    ``pl-PL,pl;q=0.9,en;q=0.8`` gives ``pl``. Entries with ``q=0`` are refused languages. Only the
    primary subtag counts; malformed entries are skipped.
    """
    ranked: list[tuple[float, int, Language]] = []
    for position, item in enumerate(accept_language.split(",")[:MAX_ACCEPT_LANGUAGES]):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and is_language(primary):
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else default


def language_of_path(path: str, default: Language) -> Language:
    for language in LANGUAGES:
        if path == f"/{language}" or path.startswith(f"/{language}/"):
            return language
    return default
