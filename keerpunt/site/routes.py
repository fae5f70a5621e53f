"""Every page's address, per language (``/nl/artikel/<slug>``, ``/en/article/<slug>``).

Built only here, so the portal's router, its language switch, its sitemap and the links the bots
hand out (outreach) always agree.
"""

from __future__ import annotations

from keerpunt.site.content import AUDIENCES, TOPICS, Language

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
