"""Full-text search over titles, summaries and bodies, one in-memory index per language.

Words are folded (lower case, accents removed) and stemmed with the Snowball stemmer of the
language, so "uitgebuit" finds "uitbuiting" and "recruited" finds "recruitment". Ranking is
BM25 over the fields with weights (title > summary > body), scaled by how much of the query a
document covers. A query word that matches nothing exactly also matches stems it is the start of
("ronsel" → "ronselaar") and, from four letters on, stems one typo away (found through a
deletion index, so the cost is a few dictionary look-ups per word).
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]  # ships no type information

from keerpunt.site.content import Language

WORD = re.compile(r"\w+")
FIELD_WEIGHTS = {"title": 3.0, "summary": 2.0, "body": 1.0}
K1, B = 1.2, 0.75
PREFIX_WEIGHT, TYPO_WEIGHT = 0.6, 0.5
MIN_PREFIX, MIN_TYPO = 3, 4
MAX_EXPANSIONS = 12
MAX_QUERY_WORDS = 12
COMMON_SHARE = 0.5
# Words this short (de, is, of, to) only count when the query has nothing else.
MAX_SHORT = 2
# Snowball has no Bulgarian or Ukrainian stemmer: there words are only folded (no stemming).
STEMMER_NAMES: dict[Language, str | None] = {
    "nl": "dutch",
    "en": "english",
    "pl": "polish",
    "ro": "romanian",
    "bg": None,
    "uk": None,
    "ar": "arabic",
}


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Document:
    key: str  # what the caller uses to find the article again (its path)
    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class Hit:
    key: str
    score: float
    stems: frozenset[str]  # the document's stems that matched, for highlighting


@dataclass(frozen=True)
class Tokens:
    """A text's words with their positions and stems, computed once per document."""

    starts: list[int]
    ends: list[int]
    stems: list[str]

    @classmethod
    def of(cls, text: str, stem: Callable[[str], str]) -> Tokens:
        words = list(WORD.finditer(text))
        return cls([w.start() for w in words], [w.end() for w in words], [stem(w.group()) for w in words])


class Analyzer:
    def __init__(self, language: Language) -> None:
        name = STEMMER_NAMES[language]
        self._stemmer = snowballstemmer.stemmer(name) if name else None
        self.stem = lru_cache(maxsize=50_000)(self._stem)

    def _stem(self, word: str) -> str:
        if self._stemmer is None:
            return fold(word)
        return str(self._stemmer.stemWord(fold(word)))

    def stems(self, text: str) -> list[str]:
        return [self.stem(w) for w in WORD.findall(text)]


def _deletions(stem: str) -> set[str]:
    return {stem[:i] + stem[i + 1 :] for i in range(len(stem))}


class SearchIndex:
    def __init__(self, language: Language, documents: Iterable[Document]) -> None:
        self.analyzer = Analyzer(language)
        self.docs: list[Document] = list(documents)
        # stem -> document number -> term frequency per field (in FIELD_WEIGHTS order)
        self.postings: dict[str, dict[int, list[int]]] = defaultdict(dict)
        self.lengths: list[list[int]] = []
        fields = list(FIELD_WEIGHTS)
        self.body_tokens: dict[str, Tokens] = {}
        for number, doc in enumerate(self.docs):
            self.body_tokens[doc.key] = Tokens.of(doc.body, self.analyzer.stem)
            lengths = []
            for f, field in enumerate(fields):
                stems = self.analyzer.stems(getattr(doc, field))
                lengths.append(len(stems))
                for stem in stems:
                    self.postings[stem].setdefault(number, [0] * len(fields))[f] += 1
            self.lengths.append(lengths)
        count = max(len(self.docs), 1)
        self.averages = [max(sum(ls[f] for ls in self.lengths) / count, 1.0) for f in range(len(fields))]
        self.weights = list(FIELD_WEIGHTS.values())
        self.vocabulary = sorted(self.postings)
        self.near: dict[str, set[str]] = defaultdict(set)
        for stem in self.vocabulary:
            if len(stem) >= MIN_TYPO - 1:
                for deleted in _deletions(stem):
                    self.near[deleted].add(stem)

    def _bm25(self, number: int, tfs: list[int]) -> float:
        """BM25 per field, weighted and summed: a title match counts for more than a body match."""
        total = 0.0
        for f, tf in enumerate(tfs):
            if tf:
                norm = 1 - B + B * self.lengths[number][f] / self.averages[f]
                total += self.weights[f] * tf * (K1 + 1) / (tf + K1 * norm)
        return total

    def idf(self, stem: str) -> float:
        n = len(self.postings.get(stem, ()))
        return math.log(1 + (len(self.docs) - n + 0.5) / (n + 0.5))

    def expand(self, stem: str) -> dict[str, float]:
        """Index stems a query stem stands for, with a weight: exact, prefix, one typo."""
        found: dict[str, float] = {}
        if stem in self.postings:
            found[stem] = 1.0
        if len(stem) >= MIN_PREFIX:
            start = bisect.bisect_left(self.vocabulary, stem)
            for candidate in self.vocabulary[start : start + MAX_EXPANSIONS]:
                if not candidate.startswith(stem):
                    break
                found.setdefault(candidate, PREFIX_WEIGHT)
        if not found and len(stem) >= MIN_TYPO:
            candidates = set(self.near.get(stem, ())) | {s for d in _deletions(stem) for s in self.near.get(d, ())}
            candidates |= {d for d in _deletions(stem) if d in self.postings}
            for candidate in sorted(candidates)[:MAX_EXPANSIONS]:
                found[candidate] = TYPO_WEIGHT
        return found

    def common(self, stem: str) -> bool:
        """In more than half the documents: says little, so it neither ranks nor highlights."""
        return len(self.postings.get(stem, ())) > COMMON_SHARE * len(self.docs)

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        words = list(dict.fromkeys(self.analyzer.stems(query)))[:MAX_QUERY_WORDS]
        telling = [w for w in words if len(w) > MAX_SHORT and not self.common(w)]
        scores: dict[int, float] = defaultdict(float)
        covered: dict[int, float] = defaultdict(float)
        matched: dict[int, set[str]] = defaultdict(set)
        total_idf = 0.0
        for word in telling or words:
            expansions = self.expand(word)
            word_idf = max((self.idf(s) for s in expansions), default=self.idf(word))
            total_idf += word_idf
            best: dict[int, float] = {}
            for stem, weight in expansions.items():
                idf = self.idf(stem)
                for number, tfs in self.postings[stem].items():
                    best[number] = max(best.get(number, 0.0), weight * idf * self._bm25(number, tfs))
                    matched[number].add(stem)
            for number, score in best.items():
                scores[number] += score
                covered[number] += word_idf
        if total_idf <= 0:
            return []
        hits = [
            Hit(self.docs[n].key, score * (covered[n] / total_idf) ** 2, frozenset(matched[n]))
            for n, score in scores.items()
        ]
        hits.sort(key=lambda h: (-h.score, h.key))
        return hits[:limit]
