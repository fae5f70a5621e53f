"""Markdown to safe HTML: markdown-it-py with raw HTML off, then an nh3 allowlist.

Two layers on purpose: markdown-it never passes raw HTML through and refuses
``javascript:``-style links itself; nh3 (ammonia) then keeps only the tags, attributes and
URL schemes listed here, so a mistake in either layer is caught by the other.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

TAGS = {
    "p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a", "blockquote", "code", "pre",
    "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "del", "s",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"scope"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Article bodies start at level 2: the page's <h1> is the article title.
HEADING_SHIFT = {"h1": "h2"}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_BLOCK_END = re.compile(r"</(p|h[1-6]|li|td|th|blockquote|pre)>|<br\s*/?>")
_SPACE = re.compile(r"\s+")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href" and value.lstrip().lower().startswith("//"):
        return None  # protocol-relative: another host, decided by the page's scheme
    return value


def sanitise(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_attribute_filter,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str) -> Markup:
    """Render article Markdown to HTML that is safe to put in a page as is."""
    rendered = _md.render(text)
    for old, new in HEADING_SHIFT.items():
        rendered = rendered.replace(f"<{old}>", f"<{new}>").replace(f"</{old}>", f"</{new}>")
    return Markup(sanitise(rendered))  # noqa: S704 - sanitised by the allowlist just above


def plain_text(safe_html: str) -> str:
    """Visible text of sanitised HTML, for the search index and snippets."""
    spaced = _BLOCK_END.sub(lambda m: m.group(0) + "\n", safe_html)
    stripped = nh3.clean(spaced, tags=set(), strip_comments=True)
    return _SPACE.sub(" ", html.unescape(stripped)).strip()
