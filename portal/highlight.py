"""Search result snippets with the matched words wrapped in ``<mark>``.

Everything that is not a mark is escaped here, so the result is safe to put in a page.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from markupsafe import Markup, escape

from portal.search import WORD, Tokens

SNIPPET_WORDS = 32


def mark(text: str, stems: Collection[str], stem: Callable[[str], str]) -> Markup:
    out: list[str] = []
    position = 0
    for match in WORD.finditer(text):
        if stem(match.group()) in stems:
            out.append(str(escape(text[position : match.start()])))
            out.append(f"<mark>{escape(match.group())}</mark>")
            position = match.end()
    out.append(str(escape(text[position:])))
    return Markup("".join(out))  # noqa: S704 - every piece of text above is escaped


def snippet(text: str, tokens: Tokens, stems: Collection[str], stem: Callable[[str], str]) -> Markup:
    """The stretch of ``text`` with the most matched words, marked, with ellipses."""
    count = len(tokens.stems)
    if not count:
        return Markup("")
    hits = [i for i, s in enumerate(tokens.stems) if s in stems]
    first = 0
    if hits:
        # The window of SNIPPET_WORDS words holding the most hits starts at one of the hits.
        best, right = 0, 0
        for left, position in enumerate(hits):
            while right < len(hits) and hits[right] < position + SNIPPET_WORDS:
                right += 1
            if right - left > best:
                best, first = right - left, position
    # Begin a few words before the first hit so the sentence reads naturally.
    begin = max(0, min(first - 4, count - SNIPPET_WORDS))
    end = min(count, begin + SNIPPET_WORDS)
    piece = text[tokens.starts[begin] : tokens.ends[end - 1]]
    lead = Markup("… ") if begin > 0 else Markup("")
    tail = Markup(" …") if end < count else Markup("")
    return lead + mark(piece, stems, stem) + tail
