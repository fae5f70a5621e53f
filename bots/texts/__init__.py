"""Everything the bots say, from YAML files beside this module.

Code holds keys; the sentences live in ``nl.yaml``/``en.yaml`` and per-area files such as
``triage.nl.yaml`` (Jinja2 syntax for values); each concern's own (its commands' help, its
rooms' names) are in its area's file. A concern that lives elsewhere brings a folder of its
own (``include``). A key may be defined in one file only.

Staff work in Dutch or English, so every text exists in those two. A visitor may also chat in
Polish, Romanian, Bulgarian, Ukrainian or Arabic: those languages have the texts a visitor
reads (``VISITOR_TEXTS``); any other key falls back to English. Each file in another language
lists under ``_reviewed`` the keys a native speaker has signed off; ``keerpunt texts check``
reports the rest.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal, TypeGuard

import yaml
from jinja2 import Environment, StrictUndefined, Template

Language = Literal["nl", "en", "pl", "ro", "bg", "uk", "ar"]
LANGUAGES: tuple[Language, ...] = ("nl", "en", "pl", "ro", "bg", "uk", "ar")
# The languages staff work in: every text exists in them.
STAFF_LANGUAGES: tuple[Language, ...] = ("nl", "en")
FALLBACK: Language = "en"
# The texts a visitor reads, by key prefix: every language has them.
VISITOR_TEXTS = ("greeting.", "triage.", "queue.visitor.", "when.", "handover.options.", "handover.visitor.")
# ...except these, which only staff read.
STAFF_ONLY = ("triage.fields.",)
# The top-level key of a text file that lists its keys a native speaker reviewed ("all": every key).
REVIEWED = "_reviewed"

# Bot texts are plain Matrix message bodies, never HTML, so there is nothing to escape.
_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)  # noqa: S701


# Where the text files are: this package, and any folder a concern brought.
_FOLDERS: list[Traversable] = [resources.files(__name__)]


def include(folder: Traversable) -> None:
    """Add a folder of text files (``<area>.<language>.yaml``) to the catalogue, once."""
    if folder not in _FOLDERS:
        _FOLDERS.append(folder)
        catalogue.cache_clear()


def is_visitor_text(key: str) -> bool:
    return key.startswith(VISITOR_TEXTS) and not key.startswith(STAFF_ONLY)


def _files(language: Language) -> list[tuple[str, Any]]:
    """(name, parsed YAML) of each text file in ``language``, over every folder."""
    out = []
    for folder in _FOLDERS:
        names = sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.name == f"{language}.yaml" or entry.name.endswith(f".{language}.yaml")
        )
        out += [(name, yaml.safe_load(folder.joinpath(name).read_text("utf-8")) or {}) for name in names]
    return out


@cache
def catalogue(language: Language) -> dict[str, str]:
    """Every text defined in ``language``'s own files (no fallback), by dotted key."""
    flat: dict[str, str] = {}

    def walk(prefix: str, node: Any, origin: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value, origin)
            return
        if prefix in flat:
            raise ValueError(f"text key {prefix!r} is defined twice ({origin})")
        flat[prefix] = str(node).strip()

    for name, data in _files(language):
        walk("", {k: v for k, v in data.items() if k != REVIEWED}, name)
    return flat


def _keys(node: Any, prefix: str = "") -> set[str]:
    if isinstance(node, dict):
        return {k for key, value in node.items() for k in _keys(value, f"{prefix}.{key}" if prefix else str(key))}
    return {prefix}


def has_text(language: Language, key: str) -> bool:
    """Whether ``text(language, key)`` has something to say (in the language or in English)."""
    return key in catalogue(language) or key in catalogue(FALLBACK)


def reviewed(language: Language) -> set[str]:
    """The keys of ``language`` a native speaker has reviewed (each file's ``_reviewed``)."""
    done: set[str] = set()
    own = catalogue(language)
    for name, data in _files(language):
        marked = data.get(REVIEWED, [])
        if marked == "all":
            done |= _keys({k: v for k, v in data.items() if k != REVIEWED}) & set(own)
        elif isinstance(marked, list):
            done |= {str(k) for k in marked}
        else:
            raise ValueError(f"{name}: {REVIEWED} must be 'all' or a list of keys")
    return done


def lookup(language: Language, key: str) -> str:
    """The template of ``key`` in ``language``, or in English where the language lacks it
    (staff texts in a visitor's language); a key missing in English too raises KeyError."""
    own = catalogue(language)
    return own[key] if key in own else catalogue(FALLBACK)[key]


def text(language: Language, key: str, **values: Any) -> str:
    """Render the text ``key`` in ``language``; a missing key is a bug and raises KeyError."""
    return _template(lookup(language, key)).render(**values)


@lru_cache(maxsize=4096)
def _template(source: str) -> Template:
    """A text compiled once: compiling on every call was 4 % of the bots' CPU in bench.triage."""
    return _env.from_string(source)


def is_language(value: str) -> TypeGuard[Language]:
    return value in LANGUAGES


def language_label(staff_language: Language, code: str) -> str:
    """A visitor's language as staff read it, code and name ("pl" and "Polish")."""
    key = f"queue.card.languages.{code}"
    name = text(staff_language, key) if has_text(staff_language, key) else code
    return text(staff_language, "queue.card.language", code=code, name=name)


def as_language(value: str, fallback: Language = "nl") -> Language:
    """``value`` as one of the languages the bots speak; ``fallback`` when it is none of them."""
    for language in LANGUAGES:
        if value == language:
            return language
    return fallback
