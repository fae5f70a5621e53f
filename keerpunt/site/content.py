"""Articles: Markdown files with YAML front matter in ``content/<language>/<slug>.md``.

Loading is strict. Any problem stops the portal with a :class:`ContentError` that names the
file and the field (``content/nl/x.md: audience[1]: unknown value 'kids'; use one of ...``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeGuard, cast

import yaml

from keerpunt.base.config import ConfigError

Language = Literal["nl", "en", "pl", "ro", "bg", "uk", "ar"]
LANGUAGES: tuple[Language, ...] = ("nl", "en", "pl", "ro", "bg", "uk", "ar")
# Languages with every article and every fixed page. The others have a core set of pages; the
# portal lists the rest of the articles in English with a note (portal.site.Site.listed).
FULL_LANGUAGES: tuple[Language, ...] = ("nl", "en")
# Where an article or fixed page is missing in a language, readers get this one.
FALLBACK: Language = "en"
# Written right to left.
RTL_LANGUAGES: frozenset[Language] = frozenset({"ar"})


def is_language(value: str) -> TypeGuard[Language]:
    return value in LANGUAGES


def direction(language: Language) -> str:
    """The ``dir`` attribute of a page or widget in ``language``."""
    return "rtl" if language in RTL_LANGUAGES else "ltr"


AUDIENCES = ("young", "relatives", "professionals")
TOPICS = (
    "exploitation",
    "recruitment",
    "money-mule",
    "drug-running",
    "forced-crime",
    "debts",
    "signals",
    "safety",
    "privacy",
    "help",
    "handover",
    "chat",
    "professionals",
)
KINDS = ("article", "page")
# Pages are the site's fixed texts; each has its own address (see i18n.ROUTES).
PAGE_KEYS = ("safety", "privacy", "about")

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED = ("title", "summary", "audience", "topics", "language", "updated", "translation_key")
OPTIONAL = ("kind",)
MAX_TITLE = 120
MAX_SUMMARY = 300


class ContentError(ConfigError):
    """Invalid content. A ConfigError, so ``keerpunt run portal`` exits with the config code."""

    def __init__(self, where: str | Path, field: str, problem: str) -> None:
        super().__init__(f"{_show(where)}: {field}" if field else _show(where), problem)


def _show(path: str | Path) -> str:
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)


@dataclass(frozen=True)
class Article:
    path: Path
    slug: str
    title: str
    summary: str
    audience: tuple[str, ...]
    topics: tuple[str, ...]
    language: Language
    updated: dt.date
    translation_key: str
    kind: str
    body: str

    @property
    def is_page(self) -> bool:
        return self.kind == "page"


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ContentError(path, "", "must start with a '---' line and YAML front matter")
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            head, body = "".join(lines[1:i]), "".join(lines[i + 1 :])
            break
    else:
        raise ContentError(path, "", "front matter has no closing '---' line")
    try:
        data = yaml.safe_load(head)
    except yaml.YAMLError as exc:
        raise ContentError(path, "front matter", f"is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ContentError(path, "front matter", "must be a mapping of fields")
    return data, body


def _text(path: Path, data: Mapping[str, Any], field: str, limit: int) -> str:
    value = data[field]
    if not isinstance(value, str) or not value.strip():
        raise ContentError(path, field, "must be non-empty text")
    if len(value) > limit:
        raise ContentError(path, field, f"is {len(value)} characters; keep it under {limit}")
    return value.strip()


def _choices(path: Path, data: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    value = data[field]
    if not isinstance(value, list) or not value:
        raise ContentError(path, field, f"must be a non-empty list of: {', '.join(allowed)}")
    for i, item in enumerate(value):
        if item not in allowed:
            raise ContentError(path, f"{field}[{i}]", f"unknown value {item!r}; use one of {', '.join(allowed)}")
    if len(set(value)) != len(value):
        raise ContentError(path, field, "lists a value twice")
    return tuple(value)


def _date(path: Path, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ContentError(path, "updated", f"expected an ISO date like 2026-11-28, got {value!r}")


def parse_article(path: Path, text: str, language: str) -> Article:
    data, body = split_front_matter(text, path)
    for field in data:
        if field not in REQUIRED + OPTIONAL:
            raise ContentError(path, str(field), f"unknown field; known fields: {', '.join(REQUIRED + OPTIONAL)}")
    for field in REQUIRED:
        if field not in data:
            raise ContentError(path, field, "missing")
    if data["language"] != language:
        raise ContentError(path, "language", f"is {data['language']!r} but the file is in the {language!r} folder")
    key = data["translation_key"]
    if not isinstance(key, str) or not SLUG.match(key):
        raise ContentError(path, "translation_key", "must be lowercase letters, digits and dashes")
    kind = data.get("kind", "article")
    if kind not in KINDS:
        raise ContentError(path, "kind", f"unknown value {kind!r}; use one of {', '.join(KINDS)}")
    if kind == "page" and key not in PAGE_KEYS:
        raise ContentError(path, "translation_key", f"a page must be one of {', '.join(PAGE_KEYS)}")
    if not SLUG.match(path.stem):
        raise ContentError(path, "", "file name must be lowercase letters, digits and dashes (it is the URL)")
    if not body.strip():
        raise ContentError(path, "body", "is empty")
    return Article(
        path=path,
        slug=path.stem,
        title=_text(path, data, "title", MAX_TITLE),
        summary=_text(path, data, "summary", MAX_SUMMARY),
        audience=_choices(path, data, "audience", AUDIENCES),
        topics=_choices(path, data, "topics", TOPICS),
        language=cast(Language, language),
        updated=_date(path, data["updated"]),
        translation_key=key,
        kind=kind,
        body=body,
    )


def load_articles(content_dir: Path) -> list[Article]:
    """Every article of every language, validated; raises ContentError on the first problem."""
    if not content_dir.is_dir():
        raise ContentError(content_dir, "", "content folder not found; set portal.content_dir")
    articles: list[Article] = []
    for language in LANGUAGES:
        folder = content_dir / language
        seen: dict[str, Path] = {}
        for path in sorted(folder.glob("*.md")):
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ContentError(path, "", f"cannot be read as UTF-8 text: {exc}") from None
            article = parse_article(path, text, language)
            if article.translation_key in seen:
                other = _show(seen[article.translation_key])
                raise ContentError(path, "translation_key", f"{article.translation_key!r} is also used by {other}")
            seen[article.translation_key] = path
            articles.append(article)
        for key in PAGE_KEYS if language in FULL_LANGUAGES else ():
            if not any(a.is_page and a.translation_key == key and a.language == language for a in articles):
                raise ContentError(folder, "", f"no page with kind: page and translation_key: {key}")
    return articles
