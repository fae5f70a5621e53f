"""Languages: the translation files (``portal/i18n/<lang>.yaml``) and each page's address.

Visible text lives only in the YAML files and templates; code refers to it by dotted key.
Addresses are per language (``/nl/artikel/<slug>``, ``/en/article/<slug>``) and built only
here, so the language switch and the sitemap always agree with the router.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from portal.content import AUDIENCES, LANGUAGES, TOPICS, ContentError, Language

# Route name -> language -> path pattern. ``{slug}``-style parts are filled by url().
ROUTES: dict[str, dict[Language, str]] = {
    "home": {"nl": "/nl/", "en": "/en/"},
    "audience": {"nl": "/nl/{audience}", "en": "/en/{audience}"},
    "article": {"nl": "/nl/artikel/{slug}", "en": "/en/article/{slug}"},
    "topics": {"nl": "/nl/onderwerpen", "en": "/en/topics"},
    "topic": {"nl": "/nl/onderwerp/{topic}", "en": "/en/topic/{topic}"},
    "search": {"nl": "/nl/zoeken", "en": "/en/search"},
    "campaign": {"nl": "/nl/campagne/{slug}", "en": "/en/campaign/{slug}"},
    "selfcheck": {"nl": "/nl/zelftest", "en": "/en/self-check"},
    "chat": {"nl": "/nl/chat", "en": "/en/chat"},
    # The three fixed pages (content files with kind: page), by translation key.
    "safety": {"nl": "/nl/veiligheid", "en": "/en/safety"},
    "privacy": {"nl": "/nl/privacy", "en": "/en/privacy"},
    "about": {"nl": "/nl/over-keerpunt", "en": "/en/about"},
}

# Address parts for audiences and topics, per language (the ids are in content.py).
AUDIENCE_SLUGS: dict[Language, dict[str, str]] = {
    "nl": {"young": "jongeren", "relatives": "naasten", "professionals": "professionals"},
    "en": {"young": "young-people", "relatives": "relatives", "professionals": "professionals"},
}
TOPIC_SLUGS: dict[Language, dict[str, str]] = {
    "nl": {
        "exploitation": "uitbuiting",
        "recruitment": "ronselen",
        "money-mule": "geldezels",
        "drug-running": "drugsrunners",
        "forced-crime": "gedwongen-misdaad",
        "debts": "schulden",
        "signals": "signalen",
        "safety": "veiligheid",
        "privacy": "privacy",
        "help": "hulp",
        "handover": "overdracht",
        "chat": "chat",
        "professionals": "voor-professionals",
    },
    "en": {
        "exploitation": "exploitation",
        "recruitment": "recruitment",
        "money-mule": "money-mules",
        "drug-running": "drug-running",
        "forced-crime": "forced-crime",
        "debts": "debts",
        "signals": "signs",
        "safety": "safety",
        "privacy": "privacy",
        "help": "help",
        "handover": "handover",
        "chat": "chat",
        "professionals": "for-professionals",
    },
}
assert all(set(slugs) == set(AUDIENCES) for slugs in AUDIENCE_SLUGS.values())
assert all(set(slugs) == set(TOPICS) for slugs in TOPIC_SLUGS.values())


def url(name: str, language: Language, **parts: str) -> str:
    """The path of a page: ``url("topic", "nl", topic="money-mule") == "/nl/onderwerp/geldezels"``."""
    if "audience" in parts:
        parts["audience"] = AUDIENCE_SLUGS[language][parts["audience"]]
    if "topic" in parts:
        parts["topic"] = TOPIC_SLUGS[language][parts["topic"]]
    return ROUTES[name][language].format(**parts)


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
        loaded[language] = Translations(language, data)
    reference = flat_keys(loaded[LANGUAGES[0]].texts)
    for language in LANGUAGES[1:]:
        keys = flat_keys(loaded[language].texts)
        if keys != reference:
            diff = sorted(keys ^ reference)[:5]
            raise ContentError(f"portal/i18n/{language}.yaml", "", f"keys differ from nl.yaml: {', '.join(diff)}")
    return loaded


def other(language: Language) -> Language:
    return "en" if language == "nl" else "nl"


def language_of_path(path: str, default: Language) -> Language:
    for language in LANGUAGES:
        if path == f"/{language}" or path.startswith(f"/{language}/"):
            return language
    return default
