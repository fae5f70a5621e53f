"""Jinja2 (autoescape on, undefined names are errors) and the context every page shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from keerpunt.base.config import Config
from keerpunt.site.content import AUDIENCES, FULL_LANGUAGES, LANGUAGES, TOPICS, Language, direction
from keerpunt.site.routes import url, url_or_fallback
from portal.i18n import other
from portal.site import Site
from portal.static import StaticFiles


def make_environment() -> Environment:
    return Environment(
        loader=PackageLoader("portal", "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Renderer:
    def __init__(self, config: Config, site: Site, static: StaticFiles, widget_embed: str | None = None) -> None:
        self.config = config
        # The chat widget's hashed embed script; None while the widget is not built.
        self.widget_embed = widget_embed
        self.site = site
        self.static = static
        self.env = make_environment()
        self.public_url = config.portal.public_url.rstrip("/")

    def date(self, value: dt.date, language: Language) -> str:
        t = self.site.translations[language]
        months = t.get("dates.months")
        return t("dates.format", day=value.day, month=months[value.month - 1], year=value.year)

    def render(
        self,
        template: str,
        language: Language,
        path: str,
        *,
        title: str,
        description: str = "",
        alternates: Mapping[Language, str] | None = None,
        **context: Any,
    ) -> str:
        t = self.site.translations[language]
        alternates = dict(alternates if alternates is not None else {language: path})
        shared = {
            "lang": language,
            "dir": direction(language),
            # The language switch: every language, named in itself, to this page where it exists.
            "switch": [
                {
                    "lang": lang,
                    "name": self.site.translations[lang]("language.name"),
                    "href": alternates.get(lang, url("home", lang)),
                    "dir": direction(lang),
                }
                for lang in LANGUAGES
            ],
            "t": t,
            "path": path,
            "title": title,
            "description": description or t("site.description"),
            "canonical": self.public_url + path,
            "alternates": {lang: self.public_url + p for lang, p in alternates.items()},
            # Between Dutch and English: the other one ("not in the other language yet").
            "other_lang": other(language) if language in FULL_LANGUAGES else None,
            # Pages a language lacks (privacy, about) link to the English page.
            "url": lambda name, **parts: url_or_fallback(name, language, **parts)[0],
            "page_url": lambda name: url_or_fallback(name, language),
            "static": self.static.url,
            "date": lambda value: self.date(value, language),
            "quick_exit_url": self.config.portal.quick_exit_url,
            "widget_embed": self.widget_embed,
            "contact": self.config.portal.contact,
            "audiences": AUDIENCES,
            "topics": TOPICS,
            "languages": LANGUAGES,
            "site": self.site,
            "emergency": self.site.by_key.get((language, "emergency")),
        }
        return self.env.get_template(template).render(shared | context)
