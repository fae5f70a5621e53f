"""Search result snippets with the matched words wrapped in ``<mark>``.

Everything that is not a mark is escaped here, so the result is safe to put in a page.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from markupsafe import Markup, escape

from .search import WORD

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


def snippet(text: str, stems: Collection[str], stem: Callable[[str], str]) -> Markup:
    """The stretch of ``text`` with the most matched words, marked, with ellipses."""
    words = list(WORD.finditer(text))
    if not words:
        return Markup("")
    hits = [1 if stem(w.group()) in stems else 0 for w in words]
    best_start, best_count, count = 0, -1, 0
    for i, hit in enumerate(hits):
        count += hit
        if i >= SNIPPET_WORDS:
            count -= hits[i - SNIPPET_WORDS]
        start = max(0, i - SNIPPET_WORDS + 1)
        if count > best_count:
            best_start, best_count = start, count
    # Begin a little before the first hit so the sentence reads naturally.
    first_hit = next((i for i in range(best_start, len(words)) if hits[i]), best_start)
    begin = max(0, min(best_start, first_hit - 4))
    end = min(len(words), begin + SNIPPET_WORDS)
    piece = text[words[begin].start() : words[end - 1].end()]
    lead = Markup("… ") if begin > 0 else Markup("")
    tail = Markup(" …") if end < len(words) else Markup("")
    return lead + mark(piece, stems, stem) + tail
