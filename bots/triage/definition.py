"""Load and validate the triage definition (bots/triage/definition.yaml or a configured file)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bots.texts import FALLBACK, LANGUAGES, STAFF_LANGUAGES, Language
from keerpunt.base.config import ConfigError

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


@dataclass(frozen=True)
class Option:
    id: str
    label: dict[Language, str]
    urgent: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    text: dict[Language, str]
    options: tuple[Option, ...]

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class TriageDefinition:
    questions: tuple[Question, ...]
    skip: Option

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def index(self, question_id: str) -> int:
        return next(i for i, q in enumerate(self.questions) if q.id == question_id)


def _texts(node: Any, key: str) -> dict[Language, str]:
    """A text per language: Dutch and English required; a visitor language left out reads the
    English one (``keerpunt texts check`` reports it as missing)."""
    if not isinstance(node, dict) or not set(STAFF_LANGUAGES) <= set(node):
        raise ConfigError(key, f"needs at least the languages {', '.join(STAFF_LANGUAGES)}")
    unknown = sorted(set(node) - set(LANGUAGES))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"unknown language; use {', '.join(LANGUAGES)}")
    for lang, value in node.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key}.{lang}", "needs a non-empty text")
    return {lang: str(node[lang] if lang in node else node[FALLBACK]).strip() for lang in LANGUAGES}


def translated_ids(data: Any) -> dict[str, dict[str, object]]:
    """Each text of a definition by id (``skip``, ``<question>``, ``<question>.<option>``): its
    language mapping as written, for ``keerpunt texts check``. Assumes a valid definition."""
    out: dict[str, dict[str, object]] = {"skip": data["skip"]["label"]}
    for question in data["questions"]:
        out[question["id"]] = question["text"]
        for option in question["options"]:
            out[f"{question['id']}.{option['id']}"] = option["label"]
    return out


def _id(node: dict[str, Any], key: str) -> str:
    value = str(node.get("id", ""))
    if not ID_RE.match(value):
        raise ConfigError(f"{key}.id", f"{value!r} is not an id (a-z, 0-9 and -, at most 32)")
    return value


def _option(node: Any, key: str) -> Option:
    if not isinstance(node, dict):
        raise ConfigError(key, "expected a mapping with id and label")
    unknown = set(node) - {"id", "label", "urgent"}
    if unknown:
        raise ConfigError(f"{key}.{sorted(unknown)[0]}", "unknown key")
    urgent = node.get("urgent", False)
    if not isinstance(urgent, bool):
        raise ConfigError(f"{key}.urgent", "expected true or false")
    return Option(_id(node, key), _texts(node.get("label"), f"{key}.label"), urgent)


def parse_definition(data: Any, origin: str = "triage") -> TriageDefinition:
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list) or not data["questions"]:
        raise ConfigError(f"{origin}.questions", "needs a list of questions")
    questions = []
    seen: set[str] = set()
    for i, node in enumerate(data["questions"]):
        key = f"{origin}.questions[{i}]"
        if not isinstance(node, dict):
            raise ConfigError(key, "expected a mapping")
        qid = _id(node, key)
        if qid in seen:
            raise ConfigError(f"{key}.id", f"duplicate question id {qid!r}")
        seen.add(qid)
        raw_options = node.get("options")
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            raise ConfigError(f"{key}.options", "needs at least two options")
        options = tuple(_option(o, f"{key}.options[{j}]") for j, o in enumerate(raw_options))
        if len({o.id for o in options}) != len(options):
            raise ConfigError(f"{key}.options", "option ids must be unique")
        questions.append(Question(qid, _texts(node.get("text"), f"{key}.text"), options))
    skip = _option(data.get("skip"), f"{origin}.skip")
    return TriageDefinition(tuple(questions), skip)


def read_definition(path: str | Path | None = None) -> tuple[Any, str]:
    """The parsed YAML of the shipped definition or of the file at ``path``, and its origin."""
    if path:
        return yaml.safe_load(Path(path).read_text("utf-8")), str(path)
    return yaml.safe_load(resources.files(__package__).joinpath("definition.yaml").read_text("utf-8")), "triage"


def load_definition(path: str | Path | None = None) -> TriageDefinition:
    """The shipped definition, or the file at ``path``."""
    data, origin = read_definition(path)
    return parse_definition(data, origin)
