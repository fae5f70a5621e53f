"""Every page's address, per language (``/nl/artikel/<slug>``, ``/en/article/<slug>``, ``/pl/artykul/…``).

Built only here, so the portal's router, its language switch, its sitemap and the links the bots
hand out (outreach) always agree.
"""

from __future__ import annotations

from keerpunt.site.content import AUDIENCES, FALLBACK, FULL_LANGUAGES, LANGUAGES, TOPICS, Language

# Route name -> language -> path pattern. ``{slug}``-style parts are filled by url().
# The languages outside FULL_LANGUAGES have no campaigns, privacy statement or about page yet:
# those routes lack them, and links to them go to the English page (see has_route).
ROUTES: dict[str, dict[Language, str]] = {
    "home": {lang: f"/{lang}/" for lang in LANGUAGES},
    "audience": {lang: f"/{lang}/{{audience}}" for lang in LANGUAGES},
    "article": {
        "nl": "/nl/artikel/{slug}",
        "en": "/en/article/{slug}",
        "pl": "/pl/artykul/{slug}",
        "ro": "/ro/articol/{slug}",
        "bg": "/bg/statiya/{slug}",
        "uk": "/uk/stattia/{slug}",
        "ar": "/ar/maqal/{slug}",
    },
    "topics": {
        "nl": "/nl/onderwerpen",
        "en": "/en/topics",
        "pl": "/pl/tematy",
        "ro": "/ro/subiecte",
        "bg": "/bg/temi",
        "uk": "/uk/temy",
        "ar": "/ar/mawadi",
    },
    "topic": {
        "nl": "/nl/onderwerp/{topic}",
        "en": "/en/topic/{topic}",
        "pl": "/pl/temat/{topic}",
        "ro": "/ro/subiect/{topic}",
        "bg": "/bg/tema/{topic}",
        "uk": "/uk/tema/{topic}",
        "ar": "/ar/mawdu/{topic}",
    },
    "search": {
        "nl": "/nl/zoeken",
        "en": "/en/search",
        "pl": "/pl/szukaj",
        "ro": "/ro/cautare",
        "bg": "/bg/tarsene",
        "uk": "/uk/poshuk",
        "ar": "/ar/bahth",
    },
    "campaign": {"nl": "/nl/campagne/{slug}", "en": "/en/campaign/{slug}"},
    "selfcheck": {
        "nl": "/nl/zelftest",
        "en": "/en/self-check",
        "pl": "/pl/test",
        "ro": "/ro/test",
        "bg": "/bg/test",
        "uk": "/uk/test",
        "ar": "/ar/ikhtibar",
    },
    "chat": {lang: f"/{lang}/chat" for lang in LANGUAGES} | {"pl": "/pl/czat", "ar": "/ar/dardasha"},
    # The three fixed pages (content files with kind: page), by translation key.
    "safety": {
        "nl": "/nl/veiligheid",
        "en": "/en/safety",
        "pl": "/pl/bezpieczenstwo",
        "ro": "/ro/siguranta",
        "bg": "/bg/sigurnost",
        "uk": "/uk/bezpeka",
        "ar": "/ar/al-aman",
    },
    "privacy": {"nl": "/nl/privacy", "en": "/en/privacy"},
    "about": {"nl": "/nl/over-keerpunt", "en": "/en/about"},
}
assert all(set(ROUTES[name]) >= set(FULL_LANGUAGES) for name in ROUTES)

# Address parts for audiences and topics, per language (the ids are in content.py). The new
# languages use the English topic parts: short, Latin letters, the same in every script.
AUDIENCE_SLUGS: dict[Language, dict[str, str]] = {
    "nl": {"young": "jongeren", "relatives": "naasten", "professionals": "professionals"},
    "en": {"young": "young-people", "relatives": "relatives", "professionals": "professionals"},
    "pl": {"young": "mlodzi", "relatives": "bliscy", "professionals": "profesjonalisci"},
    "ro": {"young": "tineri", "relatives": "apropiati", "professionals": "profesionisti"},
    "bg": {"young": "mladi", "relatives": "blizki", "professionals": "spetsialisti"},
    "uk": {"young": "molod", "relatives": "blyzki", "professionals": "fakhivtsi"},
    "ar": {"young": "al-shabab", "relatives": "al-ahl", "professionals": "al-mihaniyyun"},
}
_TOPIC_SLUGS: dict[Language, dict[str, str]] = {
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
TOPIC_SLUGS: dict[Language, dict[str, str]] = {lang: _TOPIC_SLUGS.get(lang, _TOPIC_SLUGS["en"]) for lang in LANGUAGES}
assert set(AUDIENCE_SLUGS) == set(LANGUAGES)
assert all(set(slugs) == set(AUDIENCES) for slugs in AUDIENCE_SLUGS.values())
assert all(set(slugs) == set(TOPICS) for slugs in TOPIC_SLUGS.values())


def has_route(name: str, language: Language) -> bool:
    return language in ROUTES[name]


def url(name: str, language: Language, **parts: str) -> str:
    """The path of a page: ``url("topic", "nl", topic="money-mule") == "/nl/onderwerp/geldezels"``."""
    if "audience" in parts:
        parts["audience"] = AUDIENCE_SLUGS[language][parts["audience"]]
    if "topic" in parts:
        parts["topic"] = TOPIC_SLUGS[language][parts["topic"]]
    return ROUTES[name][language].format(**parts)


def url_or_fallback(name: str, language: Language, **parts: str) -> tuple[str, Language]:
    """A page's path in ``language`` or, where the language lacks it, in English; and which it is."""
    used = language if has_route(name, language) else FALLBACK
    return url(name, used, **parts), used
