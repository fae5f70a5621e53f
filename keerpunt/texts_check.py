"""``keerpunt texts check``: which texts each language lacks, and which no native speaker reviewed.

Three kinds of text file, each recording per key whether a native speaker reviewed it (a
top-level ``_reviewed``: ``all``, or the list of keys signed off):

- the bots' texts (``bots/texts/*.yaml``): Dutch and English need every key, the other
  languages the texts a visitor reads (``bots.texts.VISITOR_TEXTS``);
- the triage questions and options (``bots/triage/definition.yaml``), by id;
- the portal's chrome (``portal/i18n/<lang>.yaml``): every key of ``nl.yaml``;
- the chat widget's texts (``widget/src/app/locales/<lang>.json``): every key of ``nl.json``
  (JSON has no room for a note per file: ``reviewed.json`` beside them holds each language's).

Missing texts fail the check (CI runs it); unreviewed ones are listed only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bots.texts import LANGUAGES, REVIEWED, STAFF_LANGUAGES, Language, catalogue, is_visitor_text, reviewed
from bots.triage.definition import read_definition, translated_ids
from portal.i18n import flat_keys


@dataclass
class Report:
    """Per language and file kind: the keys missing and the keys not reviewed."""

    missing: dict[Language, dict[str, list[str]]] = field(default_factory=dict)
    unreviewed: dict[Language, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, language: Language, kind: str, missing: set[str], unreviewed: set[str]) -> None:
        self.missing.setdefault(language, {})[kind] = sorted(missing)
        self.unreviewed.setdefault(language, {})[kind] = sorted(unreviewed)

    def count(self, which: dict[Language, dict[str, list[str]]], language: Language) -> int:
        return sum(len(keys) for keys in which.get(language, {}).values())

    @property
    def ok(self) -> bool:
        return all(self.count(self.missing, lang) == 0 for lang in LANGUAGES)


def _bots(report: Report) -> None:
    reference = set(catalogue("nl"))
    for language in LANGUAGES:
        needed = reference if language in STAFF_LANGUAGES else {k for k in reference if is_visitor_text(k)}
        own = set(catalogue(language))
        report.add(language, "bots", needed - own, (needed & own) - reviewed(language))


def _triage(report: Report) -> None:
    data, _ = read_definition()
    texts = translated_ids(data)
    marks = data.get(REVIEWED, {}) or {}
    for language in LANGUAGES:
        mark = marks.get(language, [])
        done = set(texts) if mark == "all" else {str(k) for k in mark}
        present = {key for key, by_language in texts.items() if language in by_language}
        report.add(language, "triage", set(texts) - present, present - done)


def _portal_file(language: Language) -> dict[str, Any]:
    folder = resources.files("portal").joinpath("i18n")
    data = yaml.safe_load(folder.joinpath(f"{language}.yaml").read_text("utf-8"))
    return data if isinstance(data, dict) else {}


def _portal(report: Report) -> None:
    reference = flat_keys({k: v for k, v in _portal_file("nl").items() if k != REVIEWED})
    for language in LANGUAGES:
        data = _portal_file(language)
        keys = flat_keys({k: v for k, v in data.items() if k != REVIEWED})
        mark = data.get(REVIEWED, [])
        done = keys if mark == "all" else {str(k) for k in mark}
        report.add(language, "portal", reference - keys, (reference & keys) - done)


WIDGET_LOCALES = Path(__file__).resolve().parent.parent / "widget" / "src" / "app" / "locales"


def _widget(report: Report) -> None:
    def read(name: str) -> Any:
        try:
            return json.loads((WIDGET_LOCALES / name).read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    reference = set(read("nl.json"))
    marks = read("reviewed.json")
    for language in LANGUAGES:
        keys = set(read(f"{language}.json"))
        mark = marks.get(language, []) if isinstance(marks, dict) else []
        done = keys if mark == "all" else {str(k) for k in mark}
        report.add(language, "widget", reference - keys, (reference & keys) - done)


def check() -> Report:
    report = Report()
    for part in (_bots, _triage, _portal, _widget):
        part(report)
    return report


def render(report: Report, *, details: bool) -> str:
    lines = ["language  missing  unreviewed"]
    for lang in LANGUAGES:
        lines.append(f"{lang:<9} {report.count(report.missing, lang):>7}  {report.count(report.unreviewed, lang):>10}")
    for title, which, show in (("missing", report.missing, True), ("unreviewed", report.unreviewed, details)):
        if not show:
            continue
        for lang in LANGUAGES:
            for kind, keys in which.get(lang, {}).items():
                if keys:
                    lines.append(f"{title} {lang} {kind}: {', '.join(keys)}")
    if not details and any(report.count(report.unreviewed, lang) for lang in LANGUAGES):
        lines.append("(without --summary the unreviewed keys are listed)")
    return "\n".join(lines) + "\n"
