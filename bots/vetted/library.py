"""The vetted texts: ``<folder>/<language>/<name>.md``, a YAML front matter with a ``title`` and
a plain-text body (the widget shows text, and links as links; no Markdown is rendered).

Loading is strict, as the portal's articles are: any problem names the file and what is wrong,
and stops the bots before they start (a ``ConfigError``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bots.texts import LANGUAGES, Language
from keerpunt.base.config import ConfigError

NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TITLE = 120
MAX_BODY = 4000


@dataclass(frozen=True)
class VettedText:
    name: str
    title: str
    body: str

    @property
    def message(self) -> str:
        return f"{self.title}\n\n{self.body}"


@dataclass(frozen=True)
class Library:
    texts: Mapping[str, Mapping[Language, VettedText]]

    @property
    def names(self) -> list[str]:
        return sorted(self.texts)

    def get(self, name: str, language: Language) -> VettedText | None:
        return self.texts.get(name, {}).get(language)


def _parse(path: Path) -> VettedText:
    raw = path.read_text("utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", raw, re.DOTALL)
    if match is None:
        raise ConfigError(str(path), "needs a front matter between --- lines, with a title")
    try:
        front = yaml.safe_load(match[1])
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), f"the front matter is not valid YAML: {exc}") from None
    if not isinstance(front, dict) or set(front) != {"title"}:
        raise ConfigError(str(path), "the front matter must hold a title and nothing else")
    title, body = front["title"], match[2].strip()
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        raise ConfigError(f"{path}: title", f"must be 1 to {MAX_TITLE} characters")
    if not body or len(body) > MAX_BODY:
        raise ConfigError(str(path), f"the text must be 1 to {MAX_BODY} characters")
    return VettedText(path.stem, title.strip(), body)


def load_library(folder: Path) -> Library:
    """Every vetted text under ``folder`` (none when it does not exist)."""
    texts: dict[str, dict[Language, VettedText]] = {}
    for language in LANGUAGES:
        for path in sorted((folder / language).glob("*.md")):
            if not NAME.match(path.stem):
                raise ConfigError(str(path), "a name is a-z, 0-9 and single dashes (it is typed after !text)")
            texts.setdefault(path.stem, {})[language] = _parse(path)
    return Library(texts)
